package framework

import (
	"context"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/drill-sre/drill/internal/guard"
	"github.com/drill-sre/drill/internal/preflight"
	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// A drill whose user lacks a rule it needs is refused before anything is
// written to the cluster, with the missing rule named in its failure and
// in its preflight.
func TestRunScenarioRefusesWithoutAccess(t *testing.T) {
	sc, err := scenarios.Parse("crash.yaml", []byte("name: crash\ndescription: crash a Deployment\n"+
		"fault: {type: crashloop-pods, params: {deployment: web, namespace: shop, holdFor: 30s}}\nobjectives: {maxDuration: 5m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset(guard.Marker{Namespaces: []string{"shop"}}.ConfigMap(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		attrs := r.Spec.ResourceAttributes
		r.Status.Allowed = attrs == nil || !(attrs.Verb == "update" && attrs.Group == "apps" && attrs.Resource == "deployments")
		return true, r, nil
	})
	dir := t.TempDir()
	d, err := RunScenario(context.Background(), RunScenarioInput{Provider: noProvider{t}, RESTConfig: &rest.Config{},
		Clientset: cs, Scenario: sc, ReportDir: dir, Access: rbac.NewReviewer(cs)})
	if err != nil {
		t.Fatal(err)
	}
	want := noAccess + `missing rule: update deployments (group "apps") — needed by the workload-faults class; see ` + "`drill rbac`"
	if d.Verdict != reports.Error || len(d.Failures) != 1 || d.Failures[0] != want {
		t.Errorf("verdict %s, failures %q\nwant error: %s", d.Verdict, d.Failures, want)
	}
	if len(d.Preflight) != 1 || d.Preflight[0].Name != preflight.CheckAccess || d.Preflight[0].Status != string(preflight.StatusFailed) {
		t.Errorf("preflight %+v", d.Preflight)
	}
	for _, a := range cs.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" && !strings.HasPrefix(a.GetResource().Resource, "selfsubjectaccessreviews") {
			t.Errorf("the refused drill wrote to the cluster: %s %s", v, a.GetResource().Resource)
		}
	}
	if r, err := reports.ReadDrill(dir, "crash"); err != nil || r.Verdict != reports.Error || len(r.Preflight) != 1 {
		t.Errorf("report of the refused drill: %+v, %v", r, err)
	}
}
