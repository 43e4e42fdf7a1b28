// Command probe-app is drill's probe application, the workload of the
// probe-app fixture: an HTTP server with liveness and readiness endpoints, an
// fsynced append-only record store for RPO writers, and switches that make
// it crash. See internal/probeapp.
package main

import (
	"os"

	"github.com/drill-sre/drill/internal/probeapp"
)

func main() {
	os.Exit(probeapp.Main(os.Args[1:], os.Getenv, os.Stderr))
}
