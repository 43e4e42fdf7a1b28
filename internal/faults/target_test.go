package faults

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/scenarios"
)

// fakeProvider lists fixed nodes.
type fakeProvider struct{ nodes []cluster.Node }

func (fakeProvider) Name() string                                    { return "fake" }
func (fakeProvider) Up(context.Context) (cluster.UpResult, error)    { return cluster.UpResult{}, nil }
func (fakeProvider) Kubeconfig() cluster.Kubeconfig                  { return cluster.Kubeconfig{} }
func (p fakeProvider) Nodes(context.Context) ([]cluster.Node, error) { return p.nodes, nil }

var testNodes = []cluster.Node{
	{Name: "cp3", Role: cluster.RoleControlPlane, Zone: "zone-c", InternalIP: "10.0.0.3"},
	{Name: "cp1", Role: cluster.RoleControlPlane, Zone: "zone-a", InternalIP: "10.0.0.1"},
	{Name: "w1", Role: cluster.RoleWorker, Zone: "zone-a", InternalIP: "10.0.1.1"},
	{Name: "cp2", Role: cluster.RoleControlPlane, Zone: "zone-b", InternalIP: "10.0.0.2"},
	{Name: "w2", Role: cluster.RoleWorker, Zone: "zone-b", InternalIP: "10.0.1.2"},
}

func testEnv() Env {
	cs := fake.NewClientset()
	for _, n := range testNodes {
		node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: map[string]string{"pool": n.Zone}}}
		_, _ = cs.CoreV1().Nodes().Create(context.Background(), &node, metav1.CreateOptions{})
	}
	return Env{Provider: fakeProvider{testNodes}, Clientset: cs}
}

// A random control-plane target is the same for the same seed, differs
// across seeds, and stays within the target's zone and selector.
func TestKillControlPlaneRandomTarget(t *testing.T) {
	pick := func(seed int64, target scenarios.Target) (string, error) {
		f := &killControlPlane{env: testEnv(), p: &scenarios.KillControlPlaneParams{Target: scenarios.TargetRandom},
			sc: &scenarios.Scenario{Seed: seed, Target: target}}
		return f.Target(context.Background())
	}
	seen := map[string]bool{}
	for seed := int64(0); seed < 30; seed++ {
		a, err := pick(seed, scenarios.Target{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pick(seed, scenarios.Target{})
		if a != b {
			t.Fatalf("seed %d picked %q then %q", seed, a, b)
		}
		if strings.Contains(a, "w1") || strings.Contains(a, "w2") {
			t.Fatalf("seed %d picked a worker: %s", seed, a)
		}
		seen[strings.Fields(a)[1]] = true
	}
	if len(seen) != 3 {
		t.Errorf("30 seeds picked %v; want all three control-plane nodes", seen)
	}
	got, err := pick(5, scenarios.Target{Zone: "zone-b"})
	if err != nil || !strings.HasPrefix(got, "node cp2 ") {
		t.Errorf("zone-b: got %q, %v; want cp2", got, err)
	}
	got, err = pick(5, scenarios.Target{Selector: "pool=zone-c"})
	if err != nil || !strings.HasPrefix(got, "node cp3 ") {
		t.Errorf("selector pool=zone-c: got %q, %v; want cp3", got, err)
	}
	if _, err := pick(5, scenarios.Target{Zone: "zone-x"}); err == nil {
		t.Error("no control-plane node in zone-x: want an error")
	}
}

func TestDrainZoneTarget(t *testing.T) {
	f := &drainZone{env: testEnv(), p: &scenarios.DrainZoneParams{Zone: "zone-a"},
		sc: &scenarios.Scenario{Target: scenarios.Target{Role: scenarios.RoleWorker}}, refused: map[string]int{}}
	got, err := f.Target(context.Background())
	if err != nil || got != "zone zone-a: w1" {
		t.Errorf("got %q, %v; want zone-a's worker only", got, err)
	}
	f = &drainZone{env: testEnv(), p: &scenarios.DrainZoneParams{Zone: "zone-c"},
		sc: &scenarios.Scenario{Target: scenarios.Target{Role: scenarios.RoleWorker}}, refused: map[string]int{}}
	if _, err := f.Target(context.Background()); err == nil {
		t.Error("zone-c has no worker: want an error")
	}
}
