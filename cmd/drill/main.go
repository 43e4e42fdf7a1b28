// Command drill runs chaos and disaster-recovery drills against Kubernetes.
package main

import (
	"os"

	"github.com/drill-sre/drill/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
