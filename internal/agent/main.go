package agent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Main is drill-agent's entry point: it parses args, reaches the API from
// inside its pod, runs the fault (Run) and returns the exit code. SIGTERM
// and SIGINT (the pod deleted) revert the fault before it exits.
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("drill-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fault := fs.String("fault", "", "the fault: isolate (every packet but loopback's dropped) or services (static pods and the kubelet stopped)")
	hold := fs.Duration("hold", 0, "the fault's declared hold: an isolated node reverts when it ends")
	margin := fs.Duration("margin", time.Minute, "how much longer than the hold a harness may go without renewing the lease before the agent reverts on its own")
	ns := fs.String("lease-namespace", "", "the namespace of the lease shared with the harness")
	name := fs.String("lease", "", "the name of the lease shared with the harness")
	backstop := fs.Duration("backstop", 0, "arm a timer in the node's systemd that reverts the fault after this long, whatever became of the agent (0: none)")
	revertOnly := fs.Bool("revert-only", false, "only revert the fault, whatever is left of it: an agent that injected it is gone")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var f Fault
	switch *fault {
	case "isolate":
		f = Isolate{}
	case "services":
		f = Services{}
	default:
		fmt.Fprintf(stderr, "drill-agent: --fault %q: want isolate or services\n", *fault)
		return 2
	}
	if *hold <= 0 || *ns == "" || *name == "" {
		fmt.Fprintln(stderr, "drill-agent: --hold, --lease-namespace and --lease are required")
		return 2
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		fmt.Fprintf(stderr, "drill-agent: %v\n", err)
		return 1
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "drill-agent: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *revertOnly {
		if err := RevertOnly(ctx, NSEnter{}, f, Lease{Client: cs, Namespace: *ns, Name: *name}); err != nil {
			fmt.Fprintf(stderr, "drill-agent: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "drill-agent: %s reverted: %s\n", f.Name(), ReasonRestore)
		return 0
	}
	out, err := Run(ctx, NSEnter{}, f, Lease{Client: cs, Namespace: *ns, Name: *name}, Plan{Hold: *hold, Margin: *margin, Backstop: *backstop})
	if err != nil {
		fmt.Fprintf(stderr, "drill-agent: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "drill-agent: %s injected at %s, reverted at %s: %s\n", f.Name(),
		out.Injected.UTC().Format(time.RFC3339), out.Reverted.UTC().Format(time.RFC3339), out.Reason)
	return 0
}
