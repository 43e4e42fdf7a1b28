package framework

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/guard"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// noProvider is a provider the guard must refuse before using.
type noProvider struct{ t *testing.T }

func (p noProvider) Name() string { return "staging" }
func (p noProvider) Up(context.Context) (cluster.UpResult, error) {
	p.t.Error("Up called")
	return cluster.UpResult{}, nil
}
func (p noProvider) Kubeconfig() cluster.Kubeconfig {
	return cluster.Kubeconfig{Path: "k", Context: "staging"}
}
func (p noProvider) Nodes(context.Context) ([]cluster.Node, error) {
	p.t.Error("Nodes called")
	return nil, nil
}

// RunScenario refuses, before it writes anything to the cluster, a drill on
// a cluster that has not opted in, and a workload fault on a namespace that
// drill did not create and the opt-in does not list.
func TestRunScenarioGuard(t *testing.T) {
	load := func(t *testing.T, body string) *scenarios.Scenario {
		sc, err := scenarios.Parse("guard.yaml", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	crash := func(ns string) string {
		return "name: crash\ndescription: crash a Deployment\nfault: {type: crashloop-pods, params: {deployment: web, namespace: " + ns + ", holdFor: 30s}}\nobjectives: {maxDuration: 5m}\n"
	}
	optedIn := guard.Marker{Namespaces: []string{"shop"}}.ConfigMap()
	for _, tc := range []struct {
		name    string
		objects []runtime.Object
		drill   string
		want    string
	}{
		{name: "no opt-in", drill: crash("shop"),
			want: "refused by the guard: the cluster has not opted in to drill; opt the cluster in once with `drill cluster opt-in`"},
		{name: "a namespace neither drill's nor listed", objects: []runtime.Object{optedIn, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "payments"}}},
			drill: crash("payments"),
			want:  "refused by the guard: refusing a workload fault in namespace payments: drill did not create it and the cluster's opt-in does not list it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			for _, o := range tc.objects {
				if err := cs.Tracker().Add(o); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			d, err := RunScenario(context.Background(), RunScenarioInput{Provider: noProvider{t}, RESTConfig: &rest.Config{},
				Clientset: cs, Scenario: load(t, tc.drill), ReportDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if d.Verdict != reports.Error || len(d.Failures) != 1 || !strings.HasPrefix(d.Failures[0], tc.want) {
				t.Errorf("verdict %s, failures %q\nwant error: %s", d.Verdict, d.Failures, tc.want)
			}
			for _, a := range cs.Actions() {
				if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
					t.Errorf("the refused drill wrote to the cluster: %s %s", v, a.GetResource().Resource)
				}
			}
			if r, err := reports.ReadDrill(dir, "crash"); err != nil || r.Verdict != reports.Error {
				t.Errorf("report of the refused drill: %+v, %v", r, err)
			}
		})
	}
}
