package faults

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/velero"
	"github.com/drill-sre/drill/scenarios"
)

// actingProvider is a provider with every capability the faults use, each
// of which records that it acted: a plan must call none of them.
type actingProvider struct {
	fakeProvider
	mu    sync.Mutex
	acted []string
}

func (p *actingProvider) act(what string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acted = append(p.acted, what)
	return nil
}

func (p *actingProvider) StopNode(_ context.Context, n string) error       { return p.act("stop " + n) }
func (p *actingProvider) KillNode(_ context.Context, n, _ string) error    { return p.act("kill " + n) }
func (p *actingProvider) StartNode(_ context.Context, n string) error      { return p.act("start " + n) }
func (p *actingProvider) KeepAddress(_ context.Context, n, _ string) error { return p.act("keep " + n) }
func (p *actingProvider) NodeRunning(context.Context, string) (bool, string, error) {
	return true, "running", nil
}
func (p *actingProvider) ExecOnNode(_ context.Context, n string, cmd ...string) (string, error) {
	return "", p.act("exec on " + n + ": " + strings.Join(cmd, " "))
}
func (p *actingProvider) ExecOnNodeInput(_ context.Context, n string, _ io.Reader, cmd ...string) (string, error) {
	return "", p.act("exec on " + n + ": " + strings.Join(cmd, " "))
}
func (p *actingProvider) LoadImages(_ context.Context, images ...string) (cluster.LoadResult, error) {
	return cluster.LoadResult{}, p.act("load " + strings.Join(images, " "))
}
func (p *actingProvider) EtcdConfig(context.Context) (clientv3.Config, error) {
	return clientv3.Config{Endpoints: []string{"127.0.0.1:1"}}, nil
}

// planCluster is a fake cluster to plan against: the test nodes, etcd's
// members one on each control-plane node with cp2 leading, the
// controller-manager lease held by cp3, pods on the workers (one of a
// DaemonSet, which a drain leaves), and a Deployment app/web with two pods.
func planCluster(t *testing.T) (Env, *fake.Clientset, *actingProvider) {
	t.Helper()
	var objs []runtime.Object
	for _, n := range testNodes {
		objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: map[string]string{"pool": n.Zone}}})
	}
	owner := func(kind, name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, Controller: ptr.To(true)}}
	}
	pod := func(ns, name, node string, owners []metav1.OwnerReference, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: owners, Labels: labels},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	}
	web := map[string]string{"app": "web"}
	objs = append(objs,
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kindnet"}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web-1"}},
		pod("kube-system", "kindnet-w1", "w1", owner("DaemonSet", "kindnet"), nil),
		pod("kube-system", "kindnet-w2", "w2", owner("DaemonSet", "kindnet"), nil),
		pod("app", "web-1-a", "w1", owner("ReplicaSet", "web-1"), web),
		pod("app", "web-1-b", "w2", owner("ReplicaSet", "web-1"), web),
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: web},
				Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "server"}}}}}},
		&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-controller-manager"},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("cp3_1234")}},
	)
	cs := fake.NewClientset(objs...)
	p := &actingProvider{fakeProvider: fakeProvider{testNodes}}
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = etcd.Close() })
	var members []*etcdserverpb.Member
	for i, n := range []string{"cp1", "cp2", "cp3"} {
		ip := "10.0.0." + string(rune('1'+i))
		members = append(members, &etcdserverpb.Member{ID: uint64(0xa1 + i), Name: n,
			PeerURLs: []string{"https://" + ip + ":2380"}, ClientURLs: []string{"https://" + ip + ":2379"}})
	}
	env := Env{Provider: p, Clientset: cs, Etcd: etcd, RESTConfig: &rest.Config{Host: "https://127.0.0.1:1"}, ArtifactDir: "/runs/1/artifacts",
		etcdView: func(context.Context) (etcdView, error) { return etcdView{members: members, leader: "cp2"}, nil }}
	return env, cs, p
}

// veleroFake is a controller-runtime client over Velero's scheme that
// counts every write.
func veleroFake(t *testing.T, writes *int, objs ...client.Object) client.Client {
	t.Helper()
	scheme, err := velero.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	count := func() { *writes++ }
	return ctrlfake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			count()
			return nil
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			count()
			return nil
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			count()
			return nil
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			count()
			return nil
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			count()
			return nil
		},
	}).Build()
}

// planOf plans sc in a dry run on env, through New as drill does; a
// velero-restore fault reads Velero's objects from vc.
func planOf(t *testing.T, env Env, sc *scenarios.Scenario, vc client.Client) Plan {
	t.Helper()
	env.DryRun = true
	f, err := New(env, sc)
	if err != nil {
		t.Fatalf("%s: %v", sc.Name, err)
	}
	d, ok := f.(dryRunOnly)
	if !ok {
		t.Fatalf("%s: New in a dry run built a %T, not a fault that only plans", sc.Name, f)
	}
	if v, ok := d.Planner.(*veleroRestore); ok {
		v.c, v.v = vc, velero.New(vc, "", nil)
	}
	if _, err := f.Target(t.Context()); err == nil {
		t.Errorf("%s: a fault built for a dry run resolved its target for a run", sc.Name)
	}
	if err := f.Inject(t.Context()); err == nil {
		t.Errorf("%s: a fault built for a dry run injected", sc.Name)
	}
	p, err := d.Plan(t.Context())
	if err != nil {
		t.Fatalf("%s: plan: %v", sc.Name, err)
	}
	return p
}

// readOnly fails unless every action the fake clientset recorded is a
// get, list or watch.
func readOnly(t *testing.T, name string, cs *fake.Clientset) {
	t.Helper()
	for _, a := range cs.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
			t.Errorf("%s: plan wrote to the cluster: %s %s", name, v, a.GetResource().Resource)
		}
	}
}

// Every registered fault plans (Planner), and New in a dry run builds one
// that only plans.
func TestEveryRegisteredFaultPlans(t *testing.T) {
	scs := drillsOfEveryType(t)
	for _, s := range Specs() {
		sc := scs[s.Type]
		if sc == nil {
			t.Errorf("fault %q: no shipped or example drill to plan", s.Type)
			continue
		}
		env, _, _ := planCluster(t)
		env.DryRun = true
		f, err := s.New(env, sc)
		if err != nil {
			t.Errorf("fault %q: %v", s.Type, err)
			continue
		}
		if _, ok := f.(Planner); !ok {
			t.Errorf("fault %q (%T) does not implement Planner: no dry run for its drills", s.Type, f)
		}
	}
}

// drillsOfEveryType returns a shipped or example drill of each fault type.
func drillsOfEveryType(t *testing.T) map[scenarios.FaultType]*scenarios.Scenario {
	t.Helper()
	shipped, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	examples, err := scenarios.LoadPaths("../../scenarios/examples")
	if err != nil {
		t.Fatal(err)
	}
	out := map[scenarios.FaultType]*scenarios.Scenario{}
	for _, sc := range append(shipped, examples...) {
		if out[sc.Fault.Type] == nil {
			out[sc.Fault.Type] = sc
		}
	}
	return out
}

// Each shipped drill and example plans on a fake cluster in a dry run:
// its target resolved, and nothing written (the clientset recorded only
// reads, the provider did nothing, Velero's client wrote nothing).
func TestPlanShippedDrills(t *testing.T) {
	shipped, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	examples, err := scenarios.LoadPaths("../../scenarios/examples")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"kill-control-plane-etcd-leader": {"node cp2 (etcd leader), 10.0.0.2"},
		"kill-control-plane-services":    {"node cp3 (kube-controller-manager leader), 10.0.0.3"},
		"kill-control-plane-isolate":     {"node cp2 (etcd leader), 10.0.0.2"},
		"zone-outage":                    {"zone zone-b: cp2, w2"},
		"remove-etcd-member":             {"etcd member cp2 (a2, leader), peer https://10.0.0.2:2380"},
		"etcd-restore-quorum-loss":       {"etcd members cp1,cp2,cp3: quorum-loss destroys "},
		"etcd-restore-total-loss":        {"etcd members cp1,cp2,cp3: total-loss destroys cp1,cp2,cp3"},
		"drain-zone":                     {"zone zone-b: w2; pods it would evict now: app/web-1-b; and, wherever the scheduler places them, the 3 pods of Deployment probe-app in namespace " + DryRunNamespace},
		"drain-zone-blocked":             {"zone zone-a: w1; pods it would evict now: app/web-1-a;"},
		"crashloop-pods":                 {"deployment probe-app of the drill's workload: the 3 pods of Deployment probe-app in namespace " + DryRunNamespace},
		"velero-restore":                 {"namespace " + DryRunNamespace + " (the pod of Deployment probe-app in", "with its PersistentVolumeClaim"},
		"memory-hog":                     {"node w", "(picked with seed"},
	}
	for _, sc := range append(shipped, examples...) {
		t.Run(sc.Name, func(t *testing.T) {
			env, cs, p := planCluster(t)
			writes := 0
			plan := planOf(t, env, sc, veleroFake(t, &writes))
			t.Logf("target: %s\nchanges:\n  %s\nrevert:\n  %s", plan.Target, strings.Join(plan.Changes, "\n  "), strings.Join(plan.Revert, "\n  "))
			w, ok := want[sc.Name]
			if !ok {
				t.Fatalf("no expected target for drill %s: add it", sc.Name)
			}
			for _, s := range w {
				if !strings.Contains(plan.Target, s) {
					t.Errorf("target %q does not contain %q", plan.Target, s)
				}
			}
			if len(plan.Changes) == 0 || len(plan.Revert) == 0 {
				t.Errorf("plan without changes or revert: %+v", plan)
			}
			readOnly(t, sc.Name, cs)
			if len(p.acted) > 0 || writes > 0 {
				t.Errorf("plan acted: provider %q, %d Velero writes", p.acted, writes)
			}
		})
	}
}

// Plans of drills whose targets are not the drill's own workload resolve
// them from the cluster: the controller-manager's leader, a random member,
// the pods of an existing Deployment.
func TestPlanResolvesFromTheCluster(t *testing.T) {
	env, cs, p := planCluster(t)
	ctx := t.Context()
	kill := &killControlPlane{env: env, sc: &scenarios.Scenario{}, p: &scenarios.KillControlPlaneParams{Target: scenarios.TargetControllerManagerLeader, Signal: "SIGKILL"}}
	got, err := kill.Plan(ctx)
	if err != nil || got.Target != "node cp3 (kube-controller-manager leader), 10.0.0.3" {
		t.Errorf("kill the controller-manager's leader: %q, %v", got.Target, err)
	}
	rm := &removeEtcdMember{env: env, sc: &scenarios.Scenario{Seed: 1}, p: &scenarios.RemoveEtcdMemberParams{Member: scenarios.MemberFollower}}
	got, err = rm.Plan(ctx)
	if err != nil || strings.Contains(got.Target, "cp2") || !strings.Contains(got.Target, "follower") {
		t.Errorf("remove a follower: %q, %v", got.Target, err)
	}
	if tgt, err := rm.Target(ctx); err != nil || tgt != got.Target {
		t.Errorf("Target %q, %v; Plan resolved %q: they share the resolution", tgt, err, got.Target)
	}
	crash, err := newCrashloopPods(env, &scenarios.Scenario{}, &scenarios.CrashloopPodsParams{Deployment: "web", Namespace: "app", HoldFor: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err = crash.(Planner).Plan(ctx)
	if err != nil || got.Target != "deployment app/web, containers server, pods web-1-a, web-1-b" {
		t.Errorf("crash app/web: %q, %v", got.Target, err)
	}
	drain := &drainZone{env: env, sc: &scenarios.Scenario{Target: scenarios.Target{Role: scenarios.RoleWorker}},
		p: &scenarios.DrainZoneParams{Zone: "zone-a"}, refused: map[string]int{}}
	got, err = drain.Plan(ctx)
	if err != nil || got.Target != "zone zone-a: w1; pods it would evict now: app/web-1-a" {
		t.Errorf("drain zone-a: %q, %v", got.Target, err)
	}
	// A pod no controller manages: the drain, forcing nothing, would refuse it.
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bare"}, Spec: corev1.PodSpec{NodeName: "w2"}}
	if err := cs.Tracker().Add(bare); err != nil {
		t.Fatal(err)
	}
	drain.p.Zone = "zone-b"
	got, err = drain.Plan(ctx)
	if err != nil || !strings.HasPrefix(got.Target, "zone zone-b: w2; pods it would evict now: app/web-1-b; the drain would refuse: w2: ") ||
		!strings.Contains(got.Target, "default/bare") {
		t.Errorf("drain zone-b with a bare pod: %q, %v", got.Target, err)
	}
	// A Schedule of drill's name there already, not drill's: the plan says
	// a run would be refused.
	writes := 0
	vc := veleroFake(t, &writes, &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: velero.DefaultNamespace, Name: ScheduleName}})
	shipped, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(shipped, func(sc *scenarios.Scenario) bool { return sc.Name == "velero-restore" })
	got = planOf(t, env, shipped[i], vc)
	if !slices.Contains(got.Changes, "a run would be refused before anything is created: schedule velero/drill-daily-backup exists and drill did not create it (no label app.kubernetes.io/managed-by=drill): drill does not replace it") || writes > 0 {
		t.Errorf("velero-restore over an existing Schedule: %q, %d writes", got.Changes, writes)
	}
	readOnly(t, "plans", cs)
	if len(p.acted) > 0 {
		t.Errorf("plans acted: %q", p.acted)
	}
	if !slices.ContainsFunc(cs.Actions(), func(a k8stesting.Action) bool { return a.GetVerb() == "list" }) {
		t.Error("no list recorded: the plans read nothing from the clientset")
	}
}
