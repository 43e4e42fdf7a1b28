package framework

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/scenarios"
)

// nodesProvider lists fixed nodes, and can do nothing else.
type nodesProvider struct{ nodes []cluster.Node }

func (nodesProvider) Name() string                                    { return "fake" }
func (nodesProvider) Up(context.Context) (cluster.UpResult, error)    { return cluster.UpResult{}, nil }
func (nodesProvider) Kubeconfig() cluster.Kubeconfig                  { return cluster.Kubeconfig{} }
func (p nodesProvider) Nodes(context.Context) ([]cluster.Node, error) { return p.nodes, nil }

// A dry run of a shipped drill reads the cluster and writes nothing: no
// namespace, no workload, no journal; it prints the preflight, the target,
// the changes and the revert.
func TestPlanScenarioWritesNothing(t *testing.T) {
	shipped, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	var sc *scenarios.Scenario
	for _, s := range shipped {
		if s.Name == "drain-zone" {
			sc = s
		}
	}
	now := metav1.NewTime(time.Now())
	cs := fake.NewClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "w2"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: now}}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: "uid-1"}},
	)
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		r.Status.Allowed = true
		return true, r, nil
	})
	p := nodesProvider{[]cluster.Node{{Name: "w2", Role: cluster.RoleWorker, Zone: "zone-b"}}}
	journals := t.TempDir()
	plan, err := PlanScenario(t.Context(), RunScenarioInput{Provider: p, RESTConfig: &rest.Config{Host: "https://127.0.0.1:1"},
		Clientset: cs, Scenario: sc, JournalDir: journals})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := plan.Write(&out); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	for _, want := range []string{"drill drain-zone (fault drain-zone), dry run", "target: zone zone-b: w2", "1. cordon nodes w2", "2. uncordon nodes w2",
		"workload     not checked: not deployed in a dry run", "journals     ok", "access       ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan does not say %q", want)
		}
	}
	for _, a := range cs.Actions() {
		if a.GetResource().Resource == "selfsubjectaccessreviews" {
			continue // a question: nothing is stored
		}
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
			t.Errorf("dry run wrote: %s %s", v, a.GetResource().Resource)
		}
	}
}
