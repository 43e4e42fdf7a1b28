package rbac

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drill-sre/drill/internal/cli/clitest"
	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/scenarios"
)

// run executes `rbac <args>` and returns the ClusterRole it printed,
// decoded strictly, with its text.
func run(t *testing.T, args ...string) (string, []rbac.Permission) {
	t.Helper()
	out, err := clitest.Run(t, NewCommand, args...)
	if err != nil {
		t.Fatalf("rbac %v: %v", args, err)
	}
	r, err := rbac.Decode([]byte(out))
	if err != nil {
		t.Fatalf("rbac %v printed what does not decode: %v\n%s", args, err, out)
	}
	return out, rbac.Permissions(r.Rules)
}

// exactly checks that perms are the permissions of classes, each once.
func exactly(t *testing.T, name string, perms []rbac.Permission, classes ...rbac.Class) {
	t.Helper()
	needs, err := rbac.Needs(classes)
	if err != nil {
		t.Fatal(err)
	}
	if len(perms) != len(needs) {
		t.Errorf("%s: %d permissions printed, want the %d of %v", name, len(perms), len(needs), classes)
	}
	for _, n := range needs {
		if !slices.Contains(perms, n.Permission) {
			t.Errorf("%s: %s not printed", name, n.Permission)
		}
	}
}

func has(perms []rbac.Permission, verb, group, resource string) bool {
	return slices.Contains(perms, rbac.Permission{Verb: verb, Group: group, Resource: resource})
}

// The node agent's rules: its namespace, service account, Role, lease and
// privileged pod.
var agentRules = []rbac.Permission{
	{Verb: "create", Resource: "serviceaccounts"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "roles"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "rolebindings"},
	{Verb: "create", Group: "coordination.k8s.io", Resource: "leases"},
	{Verb: "patch", Group: "coordination.k8s.io", Resource: "leases"},
}

func TestWorkloadDrill(t *testing.T) {
	out, perms := run(t, "drain-zone")
	exactly(t, "drain-zone", perms, rbac.Observe, rbac.Run, rbac.WorkloadFaults)
	if !has(perms, "create", "", "pods/eviction") || !has(perms, "patch", "", "nodes") {
		t.Errorf("no eviction or cordon:\n%s", out)
	}
	for _, p := range agentRules {
		if slices.Contains(perms, p) {
			t.Errorf("a workload drill is given the node agent's %s", p)
		}
	}
	for _, p := range perms {
		if p.Resource == "pods/exec" || p.Group == "velero.io" || p.Resource == "nodes/proxy" {
			t.Errorf("a workload drill is given %s", p)
		}
	}
	for _, want := range []string{
		"# The RBAC rules of drill drain-zone:\n# the union of drill-observe, drill-run, drill-workload-faults (fixtures/rbac/).\n",
		"metadata:\n  name: drill\n",
		"# drill-workload-faults\n- apiGroups: [\"\"]\n  resources: [pods/eviction]\n  verbs: [create]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cluster-admin") {
		t.Errorf("a workload drill's role is said to amount to cluster-admin:\n%s", out)
	}
}

func TestNodeDrill(t *testing.T) {
	out, perms := run(t, "kill-control-plane-etcd-leader", "--name", "game-day")
	exactly(t, "kill-control-plane", perms, rbac.Observe, rbac.Run, rbac.NodeFaults)
	for _, p := range agentRules {
		if !slices.Contains(perms, p) {
			t.Errorf("the node agent's %s is missing:\n%s", p, out)
		}
	}
	if has(perms, "create", "", "pods/eviction") {
		t.Errorf("a node drill is given evictions")
	}
	if !strings.Contains(out, "name: game-day\n") || !strings.Contains(out, "drill-node-faults amounts to cluster-admin") {
		t.Errorf("output:\n%s", out)
	}
}

func TestEveryShippedDrill(t *testing.T) {
	out, perms := run(t)
	exactly(t, "every drill", perms, rbac.Classes()...)
	shipped, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range shipped {
		if !strings.Contains(strings.SplitN(out, "\n", 2)[0], sc.Name) {
			t.Errorf("the header does not name %s:\n%s", sc.Name, out)
		}
	}
	// Deterministic, whatever the order drills are named in.
	var names []string
	for _, sc := range shipped {
		names = append(names, sc.Name)
	}
	slices.Reverse(names)
	if again, _ := run(t, names...); again != out {
		t.Errorf("naming every drill in reverse order printed another role:\n%s\nthen\n%s", out, again)
	}
}

func TestFilesAndDirs(t *testing.T) {
	_, perms := run(t, filepath.Join("..", "..", "..", "scenarios", "examples"))
	exactly(t, "the examples", perms, rbac.Observe, rbac.Run, rbac.WorkloadFaults)
	_, perms = run(t, "remove-etcd-member", filepath.Join("..", "..", "..", "scenarios", "velero-restore.yaml"))
	exactly(t, "a name and a file", perms, rbac.Observe, rbac.Run, rbac.NodeFaults, rbac.DR)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\nfault: {type: nope}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"drain-zone", "no-such-drill"}, `unknown drill "no-such-drill": not a drill built into drill (crashloop-pods, drain-zone,`},
		{[]string{"missing/drill.yaml"}, "drill file missing/drill.yaml: stat missing/drill.yaml: no such file"},
		{[]string{bad}, "bad.yaml"},
		{[]string{"--name", "", "drain-zone"}, "--name"},
	} {
		out, err := clitest.Run(t, NewCommand, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rbac %v: %v, want an error with %q", tc.args, err, tc.want)
		}
		if out != "" {
			t.Errorf("rbac %v printed a role:\n%s", tc.args, out)
		}
	}
}
