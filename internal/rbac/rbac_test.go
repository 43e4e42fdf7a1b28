package rbac

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"go.yaml.in/yaml/v3"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/drill-sre/drill/fixtures"
)

func TestShippedRolesLoad(t *testing.T) {
	for _, c := range Classes() {
		r, err := Role(c)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if r.Name != "drill-"+string(c) {
			t.Errorf("%s: named %s", c, r.Name)
		}
	}
	if _, err := Role("admin"); err == nil {
		t.Error("an unknown class has a role")
	}
	if _, err := Needs([]Class{Observe, "admin"}); err == nil || !strings.Contains(err.Error(), `"admin"`) {
		t.Errorf("Needs of an unknown class: %v", err)
	}
}

// goFile matches a path to a Go file of the repository in a comment.
var goFile = regexp.MustCompile(`\b(?:internal|cmd|fixtures|scenarios|reports)/[\w/.-]+\.go\b`)

// Every rule of a shipped role says, in the comment above it, which code
// needs it, naming files that exist.
func TestEveryRuleNamesTheCodeThatNeedsIt(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, c := range Classes() {
		file := fixtures.RBACRole(string(c))
		data, err := fixtures.RBAC.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		top := doc.Content[0]
		var rules *yaml.Node
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == "rules" {
				rules = top.Content[i+1]
			}
		}
		if rules == nil || len(rules.Content) == 0 {
			t.Fatalf("%s: no rules", file)
		}
		for i, r := range rules.Content {
			comment := r.HeadComment
			if i == 0 {
				comment += rules.HeadComment + top.Content[len(top.Content)-2].HeadComment
			}
			paths := goFile.FindAllString(comment, -1)
			if len(paths) == 0 {
				t.Errorf("%s:%d: rules[%d] has no comment naming the code that needs it", file, r.Line, i)
			}
			for _, p := range paths {
				if _, err := os.Stat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s:%d: rules[%d] names %s: %v", file, r.Line, i, p, err)
				}
			}
		}
	}
}

// The shipped rules, as the code audited needs them. A change to a role
// changes this list: say why in the role's comments.
var wantNeeds = map[Class][]string{
	Observe: {
		`get nodes (group "")`, `list nodes (group "")`,
		`list pods (group "")`, `get services (group "")`, `list events (group "")`,
		`get namespaces (group "")`, `get configmaps (group "")`, `list configmaps (group "")`,
		`get deployments (group "apps")`,
		`create selfsubjectaccessreviews (group "authorization.k8s.io")`,
		`get leases (group "coordination.k8s.io")`, `list leases (group "coordination.k8s.io")`,
		`list endpointslices (group "discovery.k8s.io")`,
		`get poddisruptionbudgets (group "policy")`,
		`get /readyz`,
	},
	Run: {
		`create namespaces (group "")`, `delete namespaces (group "")`,
		`create configmaps (group "")`, `update configmaps (group "")`, `delete configmaps (group "")`, `deletecollection configmaps (group "")`,
		`create services (group "")`, `patch services (group "")`,
		`create persistentvolumeclaims (group "")`, `patch persistentvolumeclaims (group "")`,
		`create deployments (group "apps")`, `patch deployments (group "apps")`,
		`create poddisruptionbudgets (group "policy")`, `patch poddisruptionbudgets (group "policy")`, `delete poddisruptionbudgets (group "policy")`,
	},
	WorkloadFaults: {
		`get nodes (group "")`, `patch nodes (group "")`,
		`get pods (group "")`, `list pods (group "")`, `create pods (group "")`, `delete pods (group "")`,
		`create pods/eviction (group "")`, `get pods/log (group "")`,
		`get daemonsets (group "apps")`, `get deployments (group "apps")`, `update deployments (group "apps")`,
		`get /api`, `get /api/*`,
	},
	NodeFaults: {
		`create namespaces (group "")`, `create serviceaccounts (group "")`,
		`create pods (group "")`, `get pods (group "")`, `delete pods (group "")`,
		`create leases (group "coordination.k8s.io")`, `get leases (group "coordination.k8s.io")`,
		`update leases (group "coordination.k8s.io")`, `patch leases (group "coordination.k8s.io")`,
		`delete leases (group "coordination.k8s.io")`,
		`create roles (group "rbac.authorization.k8s.io")`, `create rolebindings (group "rbac.authorization.k8s.io")`,
	},
	DR: {
		`get namespaces (group "")`, `delete namespaces (group "")`, `list pods (group "")`,
		`create configmaps (group "")`, `delete configmaps (group "")`,
		`get customresourcedefinitions backups.velero.io (group "apiextensions.k8s.io")`,
		`get deployments (group "apps")`, `get daemonsets (group "apps")`,
		`get backupstoragelocations (group "velero.io")`,
		`create backups (group "velero.io")`, `get backups (group "velero.io")`,
		`create restores (group "velero.io")`, `get restores (group "velero.io")`,
		`list podvolumebackups (group "velero.io")`, `list podvolumerestores (group "velero.io")`,
		`create schedules (group "velero.io")`, `get schedules (group "velero.io")`,
		`update schedules (group "velero.io")`, `delete schedules (group "velero.io")`,
		`get /api`, `get /api/*`, `get /apis`, `get /apis/*`,
	},
}

func TestShippedRulesAreTheAuditedOnes(t *testing.T) {
	for _, c := range Classes() {
		needs, err := Needs([]Class{c})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range needs {
			got = append(got, n.String())
		}
		want := slices.Clone(wantNeeds[c])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s grants\n  %s\nwant\n  %s", c.RoleName(), strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

func TestDecodeIsStrict(t *testing.T) {
	const head = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\n"
	for name, body := range map[string]string{
		"unknown field":     head + "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n  namespaces: [a]\n",
		"wildcard verb":     head + "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: ['*']\n",
		"wildcard resource": head + "rules:\n- apiGroups: ['']\n  resources: ['*']\n  verbs: [get]\n",
		"unknown verb":      head + "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [escalate]\n",
		"mixed":             head + "rules:\n- apiGroups: ['']\n  resources: [pods]\n  nonResourceURLs: [/readyz]\n  verbs: [get]\n",
		"URL written":       head + "rules:\n- nonResourceURLs: [/readyz]\n  verbs: [create]\n",
		"no group":          head + "rules:\n- resources: [pods]\n  verbs: [get]\n",
		"no rules":          head + "rules: []\n",
		"a Role":            strings.Replace(head, "ClusterRole", "Role", 1) + "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n",
		"two documents":     head + "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n---\n" + head,
		"duplicate key":     head + "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n  verbs: [list]\n",
	} {
		if _, err := Decode([]byte(body)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, err := Decode([]byte(head + "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n")); err != nil {
		t.Errorf("a plain role: %v", err)
	}
}

func TestWith(t *testing.T) {
	if got := With(DR, WorkloadFaults, DR); !slices.Equal(got, []Class{Observe, Run, WorkloadFaults, DR}) {
		t.Errorf("With = %v", got)
	}
	if got := With(); !slices.Equal(got, Common()) {
		t.Errorf("With() = %v", got)
	}
}

func TestRulesMergeAndSort(t *testing.T) {
	needs := []Need{
		{Permission{Verb: "get", URL: "/readyz"}, []Class{Observe}},
		{Permission{Verb: "patch", Group: "apps", Resource: "deployments"}, []Class{Run}},
		{Permission{Verb: "create", Group: "apps", Resource: "deployments"}, []Class{Run}},
		{Permission{Verb: "get", Group: "apps", Resource: "deployments"}, []Class{Observe, WorkloadFaults}},
		{Permission{Verb: "get", Group: "apps", Resource: "daemonsets"}, []Class{WorkloadFaults}},
		{Permission{Verb: "list", Group: "", Resource: "pods"}, []Class{Observe}},
		{Permission{Verb: "create", Group: "", Resource: "pods/eviction"}, []Class{WorkloadFaults}},
		{Permission{Verb: "get", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "backups.velero.io"}, []Class{DR}},
		{Permission{Verb: "get", URL: "/api"}, []Class{WorkloadFaults}},
	}
	got := Rules(needs)
	want := []Rule{
		{rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}, []Class{Observe}},
		{rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/eviction"}, Verbs: []string{"create"}}, []Class{WorkloadFaults}},
		{rbacv1.PolicyRule{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, ResourceNames: []string{"backups.velero.io"}, Verbs: []string{"get"}}, []Class{DR}},
		{rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"daemonsets"}, Verbs: []string{"get"}}, []Class{WorkloadFaults}},
		{rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "create", "patch"}}, []Class{Observe, Run, WorkloadFaults}},
		{rbacv1.PolicyRule{NonResourceURLs: []string{"/api"}, Verbs: []string{"get"}}, []Class{WorkloadFaults}},
		{rbacv1.PolicyRule{NonResourceURLs: []string{"/readyz"}, Verbs: []string{"get"}}, []Class{Observe}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rules, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if !equalRule(got[i], want[i]) {
			t.Errorf("rule %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
	// The order of the needs does not matter.
	slices.Reverse(needs)
	again := Rules(needs)
	for i := range got {
		if !equalRule(got[i], again[i]) {
			t.Errorf("rule %d depends on the order of the needs: %+v, then %+v", i, got[i], again[i])
		}
	}
}

func equalRule(a, b Rule) bool {
	return slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.NonResourceURLs, b.NonResourceURLs) &&
		slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.Classes, b.Classes)
}

// WriteRole's output decodes strictly, grants exactly the needs, and is
// the same every time.
func TestWriteRoleRoundTrip(t *testing.T) {
	needs, err := Needs(Classes())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteRole(&buf, "drill-all", []string{"every class", "", "second paragraph"}, Rules(needs)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "# every class\n#\n# second paragraph\n") {
		t.Errorf("header:\n%s", out)
	}
	if !strings.Contains(out, "# drill-observe, drill-run, drill-node-faults, drill-dr\n") ||
		!strings.Contains(out, `apiGroups: [""]`) {
		t.Errorf("output:\n%s", out)
	}
	r, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Name != "drill-all" || r.Labels[LabelPartOf] != "drill" {
		t.Errorf("metadata %+v", r.ObjectMeta)
	}
	back := Permissions(r.Rules)
	if len(back) != len(needs) {
		t.Errorf("%d permissions written, want %d", len(back), len(needs))
	}
	for _, n := range needs {
		if !slices.Contains(back, n.Permission) {
			t.Errorf("%s not written", n.Permission)
		}
	}
	var again bytes.Buffer
	if err := WriteRole(&again, "drill-all", []string{"every class", "", "second paragraph"}, Rules(needs)); err != nil {
		t.Fatal(err)
	}
	if again.String() != out {
		t.Error("two writes differ")
	}
}

func TestAllows(t *testing.T) {
	needs := []Need{
		{Permission: Permission{Verb: "get", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "backups.velero.io"}},
		{Permission: Permission{Verb: "list", Resource: "pods"}},
	}
	for p, want := range map[Permission]bool{
		{Verb: "list", Resource: "pods"}:                true,
		{Verb: "list", Resource: "pods", Name: "x"}:     true,
		{Verb: "get", Resource: "pods"}:                 false,
		{Verb: "list", Resource: "pods/log"}:            false,
		{Verb: "list", Group: "apps", Resource: "pods"}: false,
		{Verb: "get", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "backups.velero.io"}: true,
		{Verb: "get", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "other"}:             false,
		{Verb: "get", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}:                            false,
	} {
		if got := Allows(needs, p); got != want {
			t.Errorf("Allows(%s) = %v", p, got)
		}
	}
}

// reviewing answers every SelfSubjectAccessReview: allowed unless deny
// says no, and counts them.
func reviewing(deny func(*authorizationv1.SelfSubjectAccessReviewSpec) bool, count *atomic.Int32) *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		count.Add(1)
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		r.Status.Allowed = !deny(&r.Spec)
		r.Status.Denied = !r.Status.Allowed
		return true, r, nil
	})
	return cs
}

func TestReviewer(t *testing.T) {
	needs, err := Needs(With(WorkloadFaults))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("all allowed, asked once per run", func(t *testing.T) {
		var n atomic.Int32
		r := NewReviewer(reviewing(func(*authorizationv1.SelfSubjectAccessReviewSpec) bool { return false }, &n))
		for range 2 {
			missing, err := r.Missing(t.Context(), needs)
			if err != nil || len(missing) != 0 {
				t.Fatalf("missing %v, %v", missing, err)
			}
		}
		if int(n.Load()) != len(needs) {
			t.Errorf("%d reviews for %d permissions, twice", n.Load(), len(needs))
		}
	})
	t.Run("evictions denied", func(t *testing.T) {
		var n atomic.Int32
		cs := reviewing(func(s *authorizationv1.SelfSubjectAccessReviewSpec) bool {
			a := s.ResourceAttributes
			return a != nil && a.Resource == "pods" && a.Subresource == "eviction" && a.Verb == "create"
		}, &n)
		r := NewReviewer(cs)
		missing, err := r.Missing(t.Context(), needs)
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) != 1 || missing[0].String() != `create pods/eviction (group "")` {
			t.Fatalf("missing %v", missing)
		}
		msg := Describe(missing)
		if msg != "missing rule: create pods/eviction (group \"\") — needed by the workload-faults class; see `drill rbac`" {
			t.Errorf("Describe = %q", msg)
		}
		// Asked again: only what was denied.
		before := n.Load()
		if missing, err := r.Missing(t.Context(), needs); err != nil || len(missing) != 1 {
			t.Fatalf("again: %v, %v", missing, err)
		}
		if got := n.Load() - before; got != 1 {
			t.Errorf("asked %d again, want the denied one only", got)
		}
	})
	t.Run("URLs and names are asked as such", func(t *testing.T) {
		var n atomic.Int32
		cs := reviewing(func(s *authorizationv1.SelfSubjectAccessReviewSpec) bool {
			if u := s.NonResourceAttributes; u != nil {
				return u.Path == "/readyz" && u.Verb == "get"
			}
			a := s.ResourceAttributes
			return a.Name == "backups.velero.io" && a.Group == "apiextensions.k8s.io" && a.Namespace == ""
		}, &n)
		drNeeds, err := Needs(With(DR))
		if err != nil {
			t.Fatal(err)
		}
		missing, err := NewReviewer(cs).Missing(t.Context(), drNeeds)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range missing {
			got = append(got, m.String()+" by "+m.ClassNames())
		}
		want := []string{
			`get customresourcedefinitions backups.velero.io (group "apiextensions.k8s.io") by the dr class`,
			`get /readyz by the observe class`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("missing %q, want %q", got, want)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		cs := fake.NewClientset()
		cs.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("connection refused")
		})
		if _, err := NewReviewer(cs).Missing(t.Context(), needs); err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("got %v", err)
		}
	})
}

func TestClassNames(t *testing.T) {
	for _, tc := range []struct {
		classes []Class
		want    string
	}{
		{[]Class{Run}, "the run class"},
		{[]Class{Observe, WorkloadFaults}, "the observe and workload-faults classes"},
		{[]Class{Observe, Run, DR}, "the observe, run and dr classes"},
	} {
		if got := (Need{Classes: tc.classes}).ClassNames(); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.classes, got, tc.want)
		}
	}
}
