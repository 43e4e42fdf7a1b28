// Command drill-runc is a runc wrapper for hosts whose capability bounding set
// lacks CAP_SYS_RESOURCE. Privileged containers ask runc for every capability;
// runc then fails with "unable to apply caps" because the kernel refuses to
// grant one the bounding set does not hold. The wrapper removes the missing
// capabilities from the OCI bundle's config.json on `create`/`run` and from
// the `--process` JSON on `exec`, then hands over to the real runc.
//
// On a host that holds every capability it changes nothing. drill's host
// setup registers it as dockerd's default runtime, and the node image points
// its containerd at the same binary for the pods inside the nodes.
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/drill-sre/drill/internal/runcwrap"
)

func main() {
	real, err := runcwrap.RealRunc(os.Getenv("DRILL_REAL_RUNC"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill-runc:", err)
		os.Exit(1)
	}
	missing, err := runcwrap.MissingCaps("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill-runc:", err)
		os.Exit(1)
	}
	if err := runcwrap.Rewrite(os.Args[1:], missing); err != nil {
		fmt.Fprintln(os.Stderr, "drill-runc:", err)
		os.Exit(1)
	}
	args := append([]string{real}, os.Args[1:]...)
	if err := syscall.Exec(real, args, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "drill-runc: exec %s: %v\n", real, err)
		os.Exit(1)
	}
}
