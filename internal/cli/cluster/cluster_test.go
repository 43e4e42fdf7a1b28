package cluster

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
)

// run executes `cluster <args>` and returns its error.
func run(t *testing.T, args ...string) error {
	t.Helper()
	var out bytes.Buffer
	c := NewCommand(log.NoopLogger{}, cmd.IOStreams{Out: &out, ErrOut: &out})
	c.SetArgs(args)
	c.SilenceErrors, c.SilenceUsage = true, true
	return c.ExecuteContext(context.Background())
}

func TestFlagValidation(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"up", "--provider", "gke"}, `--provider "gke": want "kind" or "existing"`},
		{[]string{"up", "--wait", "0s"}, "--wait must be positive"},
		{[]string{"up", "--context", "prod"}, "--context applies to --provider existing"},
		{[]string{"status", "--name", ""}, "--name must not be empty"},
		{[]string{"up", "--config", ""}, "--config must not be empty"},
		{[]string{"up", "--provider", "existing"}, "--provider existing needs --kubeconfig"},
		{[]string{"status", "--provider", "existing", "--kubeconfig", "k", "--name", "x"}, "--name applies to --provider kind"},
		{[]string{"up", "--provider", "existing", "--kubeconfig", "k", "--config", "c.yaml"}, "--config applies to --provider kind"},
		{[]string{"up", "--provider", "existing", "--kubeconfig", "k", "--retain"}, "--retain applies to --provider kind"},
		{[]string{"down", "--provider", "existing", "--kubeconfig", "k"}, "cannot delete cluster"},
		{[]string{"logs", "--dir", ""}, "--dir must not be empty"},
		{[]string{"logs", "--provider", "existing", "--kubeconfig", "k"}, "cannot collect node logs"},
		{[]string{"up", "extra"}, `unknown command "extra"`},
		// The opt-in is given to a cluster named on purpose, never to the
		// kubeconfig's current context; refused before the file is read.
		{[]string{"opt-in", "--provider", "existing", "--kubeconfig", "no-such-file"}, "refusing to act on no-such-file: no kubeconfig context was named, and drill never falls back to the kubeconfig's current context: pass --context"},
		{[]string{"opt-out", "--provider", "existing", "--kubeconfig", "no-such-file"}, "no kubeconfig context was named"},
		{[]string{"opt-in", "--namespace", "kube-system"}, `--namespace namespace "kube-system": the system's own namespaces cannot be opted in to workload faults`},
		{[]string{"opt-in", "--context", "prod"}, "--context applies to --provider existing"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestFlagDefaults(t *testing.T) {
	c := newUpCommand(log.NoopLogger{}, cmd.IOStreams{})
	for name, want := range map[string]string{
		"provider":   "kind",
		"name":       "drill",
		"config":     "kind-config.yaml",
		"kubeconfig": "_output/kubeconfig",
		"context":    "",
		"wait":       "5m0s",
		"retain":     "false",
	} {
		if got := c.Flags().Lookup(name).DefValue; got != want {
			t.Errorf("--%s defaults to %q, want %q", name, got, want)
		}
	}
}

func TestPrintNodes(t *testing.T) {
	var out bytes.Buffer
	err := printNodes(&out, []cluster.Node{
		{Name: "drill-control-plane", Role: cluster.RoleControlPlane, Zone: "zone-a", Ready: true, Container: "drill-control-plane"},
		{Name: "ip-10-0-0-1", Role: cluster.RoleWorker},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `NAME                  ROLE            ZONE     READY   CONTAINER
drill-control-plane   control-plane   zone-a   true    drill-control-plane
ip-10-0-0-1           worker          <none>   false   <none>
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
