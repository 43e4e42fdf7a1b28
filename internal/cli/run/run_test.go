package run

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/drill-sre/drill/internal/cli/clitest"
	_ "github.com/drill-sre/drill/internal/faults" // registers the fault types
	"github.com/drill-sre/drill/internal/rbac"
)

// drill run --dry-run on an existing cluster only reads it, creates no run
// directory and no journal, and prints each drill's plan: here a drill
// whose target is its own workload, which needs nothing of the cluster.
func TestDryRunWritesNothing(t *testing.T) {
	var (
		mu     sync.Mutex
		writes []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
			// A question about the user's access: nothing is stored.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(authorizationv1.SelfSubjectAccessReview{
				TypeMeta: metav1.TypeMeta{Kind: "SelfSubjectAccessReview", APIVersion: "authorization.k8s.io/v1"},
				Status:   authorizationv1.SubjectAccessReviewStatus{Allowed: true},
			})
			return
		}
		if r.Method != http.MethodGet {
			mu.Lock()
			writes = append(writes, r.Method+" "+r.URL.Path)
			mu.Unlock()
			http.Error(w, "a dry run writes nothing", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/nodes":
			_ = json.NewEncoder(w).Encode(corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}})
		case "/readyz":
			_, _ = w.Write([]byte("ok"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: " + srv.URL + "}}]\n" +
		"contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {}}]\n"
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	reports, journals := filepath.Join(dir, "run"), filepath.Join(dir, "journal")
	out, err := clitest.Run(t, NewCommand, "--provider", "existing", "--kubeconfig", kubeconfig, "--context", "c", "--dry-run",
		"--report-dir", reports, "--journal-dir", journals, "../../../scenarios/crashloop-pods.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"Dry run against cluster c: nothing is created, changed, loaded or recovered.",
		"open journals: none",
		"drill crashloop-pods (fault crashloop-pods), dry run",
		"  target: deployment probe-app of the drill's workload: the 3 pods of Deployment probe-app in namespace drill-<drill>-<random>",
		"    1. set PROBE_APP_CRASH=exit",
		"  its revert would:\n    1. restore the pod template",
		"    access       ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	if len(writes) > 0 {
		t.Errorf("the dry run wrote: %q", writes)
	}
	for _, d := range []string{reports, journals} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("the dry run created %s", d)
		}
	}
}

// A drill never runs against the kubeconfig's current context: without
// --context it is refused before the kubeconfig is read, so before anything
// is written to any cluster.
func TestRunRefusesWithoutContext(t *testing.T) {
	_, err := clitest.Run(t, NewCommand, "--provider", "existing", "--kubeconfig", "no-such-kubeconfig")
	want := "refusing to act on no-such-kubeconfig: no kubeconfig context was named, and drill never falls back to the kubeconfig's current context: pass --context"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// A run whose user lacks a rule every drill needs is refused before
// anything is written or recovered, naming the rule.
func TestCommonAccess(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		attrs := r.Spec.ResourceAttributes
		r.Status.Allowed = attrs == nil || attrs.Resource != "events"
		return true, r, nil
	})
	err := commonAccess(t.Context(), rbac.NewReviewer(cs))
	want := "refusing to start: every drill needs rules this user does not hold: missing rule: list events (group \"\") — needed by the observe class; see `drill rbac`"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
