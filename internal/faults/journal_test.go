package faults

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/etcdsnap"
	"github.com/drill-sre/drill/internal/kube"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/internal/velero"
	"github.com/drill-sre/drill/scenarios"
)

// testJournal is a Journal as the engine keeps one: each step saves the
// fault's JournalState as JSON. A step whose name starts with failAt fails.
type testJournal struct {
	mu     sync.Mutex
	f      Journaled
	failAt string
	names  []string
	states []json.RawMessage
}

var errJournalFull = errors.New("disk full")

func (j *testJournal) Step(_ context.Context, name string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failAt != "" && strings.HasPrefix(name, j.failAt) {
		return errJournalFull
	}
	raw, err := json.Marshal(j.f.JournalState())
	if err != nil {
		return err
	}
	j.names = append(j.names, name)
	j.states = append(j.states, raw)
	return nil
}

// last returns the last state saved.
func (j *testJournal) last(t *testing.T) json.RawMessage {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.states) == 0 {
		t.Fatal("nothing journalled")
	}
	return j.states[len(j.states)-1]
}

func (j *testJournal) steps() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.names)
}

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Every fault's journal state survives JSON: a fault restored from it
// journals the same state, and a state from an unknown version is refused.
func TestJournalRoundTrip(t *testing.T) {
	crash := &scenarios.CrashloopPodsParams{Deployment: "probe-app"}
	template := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "probe-app"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "probe-app:dev", Env: []corev1.EnvVar{{Name: "A", Value: "1"}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("16Mi")}},
		}}},
	}
	tests := []struct {
		name  string
		f     Journaled
		fresh Journaled // as New makes it in another process
		want  []string  // in the JSON
	}{{
		name:  "kill-control-plane",
		f:     &killControlPlane{js: killControlPlaneJournal{Node: testNodes[1], Killed: true, Started: t0}},
		fresh: &killControlPlane{},
		want:  []string{`"Name":"cp1"`, `"InternalIP":"10.0.0.1"`, `"killed":true`, `"started":"2026-01-01T12:00:00Z"`},
	}, {
		name:  "kill-control-plane",
		f:     &killControlPlane{js: killControlPlaneJournal{Node: testNodes[1], Killed: true, Agent: "isolate-cp1"}},
		fresh: &killControlPlane{},
		want:  []string{`"Name":"cp1"`, `"agent":"isolate-cp1"`},
	}, {
		name:  "zone-outage",
		f:     &zoneOutage{js: zoneOutageJournal{Nodes: []cluster.Node{testNodes[3], testNodes[4]}, Agents: map[string]string{"cp2": "isolate-cp2", "w2": "isolate-w2"}}},
		fresh: &zoneOutage{},
		want:  []string{`"Name":"cp2"`, `"InternalIP":"10.0.1.2"`, `"agents":{"cp2":"isolate-cp2","w2":"isolate-w2"}`},
	}, {
		name: "remove-etcd-member",
		f: &removeEtcdMember{node: testNodes[1], leader: "cp2", removed: true,
			member:     &etcdserverpb.Member{Name: "cp1", ID: 0x8e9e05c52164694d, PeerURLs: []string{"https://10.0.0.1:2380"}, ClientURLs: []string{"https://10.0.0.1:2379"}},
			readdState: readdProgress{ManifestAside: true, DataDeleted: true, AddedID: 0xfedcba9876543210}},
		fresh: &removeEtcdMember{},
		// IDs above 2^53 are strings: JSON numbers would round them.
		want: []string{`"id":"10276657743932975437"`, `"addedID":"18364758544493064720"`, `"manifestAside":true`, `"removed":true`},
	}, {
		name:  "drain-zone",
		f:     &drainZone{nodes: []string{"w1", "w4"}, cordoned: []string{"w1"}},
		fresh: &drainZone{},
		want:  []string{`"nodes":["w1","w4"]`, `"cordoned":["w1"]`},
	}, {
		name:  "crashloop-pods",
		f:     &crashloopPods{p: crash, namespace: "app", saved: template, injected: true},
		fresh: &crashloopPods{p: crash, namespace: "elsewhere"},
		want:  []string{`"namespace":"app"`, `"value":"1"`, `"memory":"16Mi"`},
	}, {
		name: "etcd-restore",
		f: &etcdRestore{nodes: testNodes[:2], peers: map[string]string{"cp1": "https://10.0.0.1:2380", "cp3": "https://10.0.0.3:2380"},
			victims: []string{"cp1"}, dir: "/tmp/snaps", injected: true, restored: []string{stageStopped, stageRestored},
			used: &etcdsnap.Snapshot{Path: "/tmp/snaps/s.db", Requested: t0, Saved: t0.Add(time.Second),
				Status: snapshot.Status{Hash: 0xdeadbeef, Revision: 4242, TotalKey: 9}}},
		fresh: &etcdRestore{},
		want:  []string{`"path":"/tmp/snaps/s.db"`, `"victims":["cp1"]`, `"restored":["stopped","restored"]`, `"injected":true`},
	}, {
		name: "velero-restore",
		f: &veleroRestore{env: Env{Namespace: "app", Deployment: "probe-app"}, run: "drill-1", schedule: ScheduleName, location: "drill-s3", deleted: true,
			backup:   &velero.BackupResult{Name: "drill-1", Phase: velerov1.BackupPhaseCompleted, Items: 7},
			restored: veleroRestoreProgress{Started: true}},
		fresh: &veleroRestore{env: Env{Namespace: "elsewhere", Deployment: "other"}, run: "drill-2"},
		want:  []string{`"namespace":"app"`, `"backup":"drill-1"`, `"deleted":true`, `"restore":{"started":true}`, `"scheduleName":"drill-daily-backup"`, `"location":"drill-s3"`},
	}, {
		name:  "memory-hog",
		f:     &memoryHog{namespace: "drill-x", node: testNodes[2], created: true},
		fresh: &memoryHog{namespace: "drill-y"},
		want:  []string{`"namespace":"drill-x"`, `"pod":"drill-memory-hog"`, `"Name":"w1"`},
	}}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			covered[tt.name] = true
			raw, err := json.Marshal(tt.f.JournalState())
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(raw), w) {
					t.Errorf("journal %s lacks %s", raw, w)
				}
			}
			if err := tt.fresh.RestoreJournal(raw); err != nil {
				t.Fatal(err)
			}
			again, err := json.Marshal(tt.fresh.JournalState())
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(raw) {
				t.Errorf("restored fault journals\n  %s\nwant\n  %s", again, raw)
			}
			var fields map[string]any
			if err := json.Unmarshal(raw, &fields); err != nil {
				t.Fatal(err)
			}
			fields["fromTheFuture"] = true
			future, _ := json.Marshal(fields)
			if err := tt.fresh.RestoreJournal(future); err == nil || !strings.Contains(err.Error(), "fromTheFuture") {
				t.Errorf("a state with an unknown field: got %v", err)
			}
		})
	}
	for _, s := range Specs() {
		if s.Type != fakeType && !covered[string(s.Type)] {
			t.Errorf("%s: no round trip", s.Type)
		}
	}
}

// JournalState is a snapshot: what the fault does next does not change a
// state already handed out.
func TestJournalStateIsASnapshot(t *testing.T) {
	f := &drainZone{nodes: []string{"w1", "w4"}, cordoned: []string{"w1"}}
	js := f.JournalState().(drainZoneJournal)
	f.cordoned = append(f.cordoned[:0], "w4")
	f.nodes[0] = "changed"
	if !reflect.DeepEqual(js, drainZoneJournal{Nodes: []string{"w1", "w4"}, Cordoned: []string{"w1"}}) {
		t.Errorf("state changed with the fault: %+v", js)
	}
}

// zoneNodes: two workers in zone-a, one in zone-b that an operator
// cordoned.
var zoneNodes = []cluster.Node{
	{Name: "w1", Role: cluster.RoleWorker, Zone: "zone-a", InternalIP: "10.0.1.1"},
	{Name: "w4", Role: cluster.RoleWorker, Zone: "zone-a", InternalIP: "10.0.1.4"},
	{Name: "w2", Role: cluster.RoleWorker, Zone: "zone-b", InternalIP: "10.0.1.2"},
}

func zoneEnv(t *testing.T) Env {
	t.Helper()
	cs := fake.NewClientset()
	for _, n := range zoneNodes {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}, Spec: corev1.NodeSpec{Unschedulable: n.Name == "w2"}}
		if _, err := cs.CoreV1().Nodes().Create(t.Context(), node, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return Env{Provider: fakeProvider{zoneNodes}, Clientset: cs, Logger: log.NoopLogger{}, Timeout: 5 * time.Second}
}

func cordoned(t *testing.T, env Env) []string {
	t.Helper()
	list, err := env.Clientset.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range list.Items {
		if n.Spec.Unschedulable {
			out = append(out, n.Name)
		}
	}
	slices.Sort(out)
	return out
}

func newTestDrain(env Env) *drainZone {
	f, _ := newDrainZone(env, &scenarios.Scenario{Target: scenarios.Target{Role: scenarios.RoleWorker}},
		&scenarios.DrainZoneParams{Zone: "zone-a", Timeout: 5 * time.Second})
	return f.(*drainZone)
}

// A drain reverted by another process from its journal uncordons exactly
// the nodes journalled, not a node an operator cordoned.
func TestDrainRevertFromJournal(t *testing.T) {
	env := zoneEnv(t)
	j := &testJournal{}
	env.Journal = j
	f := newTestDrain(env)
	j.f = f
	if _, err := f.Target(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Inject(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-f.done // the drain of nodes without pods
	if got := cordoned(t, env); !slices.Equal(got, []string{"w1", "w2", "w4"}) {
		t.Fatalf("cordoned %v after the injection", got)
	}
	wantSteps := []string{"cordoning node w1", "node w1 cordoned", "cordoning node w4", "node w4 cordoned"}
	if got := j.steps(); !slices.Equal(got, wantSteps) {
		t.Errorf("journal steps %q, want %q", got, wantSteps)
	}

	// Another process, with no journal of its own.
	later := newTestDrain(Env{Provider: env.Provider, Clientset: env.Clientset, Logger: log.NoopLogger{}})
	if err := later.RestoreJournal(j.last(t)); err != nil {
		t.Fatal(err)
	}
	if err := later.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := cordoned(t, env); !slices.Equal(got, []string{"w2"}) {
		t.Errorf("cordoned %v after the revert, want the operator's w2 only", got)
	}

	// Exactly those journalled: a state saved before w4 was cordoned
	// leaves w4 alone.
	for _, n := range []string{"w1", "w4"} {
		node, _ := env.Clientset.CoreV1().Nodes().Get(t.Context(), n, metav1.GetOptions{})
		node.Spec.Unschedulable = true
		if _, err := env.Clientset.CoreV1().Nodes().Update(t.Context(), node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	early := newTestDrain(Env{Provider: env.Provider, Clientset: env.Clientset, Logger: log.NoopLogger{}})
	if err := early.RestoreJournal(j.states[1]); err != nil { // "node w1 cordoned"
		t.Fatal(err)
	}
	if err := early.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := cordoned(t, env); !slices.Equal(got, []string{"w2", "w4"}) {
		t.Errorf("cordoned %v after reverting the early state, want w2 and w4", got)
	}
	// Once reverted, the journal says nothing is left to uncordon.
	if js := early.JournalState().(drainZoneJournal); len(js.Cordoned) != 0 {
		t.Errorf("journal after the revert: %+v", js)
	}
}

// A journal step that fails stops the injection before the change it was
// to record.
func TestJournalErrorAborts(t *testing.T) {
	env := zoneEnv(t)
	j := &testJournal{failAt: "cordoning node w4"}
	env.Journal = j
	f := newTestDrain(env)
	j.f = f
	if _, err := f.Target(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := f.Inject(t.Context())
	if !errors.Is(err, errJournalFull) || !strings.Contains(err.Error(), `journal "cordoning node w4"`) {
		t.Fatalf("got %v, want the journal's error", err)
	}
	if got := cordoned(t, env); !slices.Equal(got, []string{"w1", "w2"}) {
		t.Errorf("cordoned %v, want w4 left alone", got)
	}
	if f.done != nil {
		t.Error("the drain started")
	}
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := cordoned(t, env); !slices.Equal(got, []string{"w2"}) {
		t.Errorf("cordoned %v after the revert", got)
	}
}

func completeDeployment(ns, name string, template corev1.PodTemplateSpec) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Template: template,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
		Status: appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1},
	}
}

// crashloop-pods reverted by another process from its journal restores the
// template saved before the injection, in the journalled namespace.
func TestCrashloopRevertFromJournal(t *testing.T) {
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "probe-app"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "probe-app:dev", Env: []corev1.EnvVar{{Name: "A", Value: "1"}}}}},
	}
	cs := fake.NewClientset(completeDeployment("app", "probe-app", template))
	j := &testJournal{}
	env := Env{Clientset: cs, Namespace: "app", Deployment: "probe-app", Logger: log.NoopLogger{}, Timeout: 5 * time.Second, Journal: j}
	p := &scenarios.CrashloopPodsParams{Deployment: "probe-app", Until: scenarios.PodStateCrashLoopBackOff}
	f, err := newCrashloopPods(env, &scenarios.Scenario{}, p)
	if err != nil {
		t.Fatal(err)
	}
	j.f = f.(Journaled)
	if _, err := f.Target(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Inject(t.Context()); err != nil {
		t.Fatal(err)
	}
	d, _ := cs.AppsV1().Deployments("app").Get(t.Context(), "probe-app", metav1.GetOptions{})
	if env := d.Spec.Template.Spec.Containers[0].Env; len(env) != 2 || env[1].Name != probeapp.EnvCrash {
		t.Fatalf("injected env %v", env)
	}
	if got := j.steps(); !slices.Equal(got, []string{"making the pods of deployment app/probe-app crash", "the pods of deployment app/probe-app crash"}) {
		t.Errorf("journal steps %q", got)
	}

	laterEnv := Env{Clientset: cs, Namespace: "another-drill", Logger: log.NoopLogger{}, Timeout: 5 * time.Second}
	later, err := newCrashloopPods(laterEnv, &scenarios.Scenario{}, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := later.(Journaled).RestoreJournal(j.last(t)); err != nil {
		t.Fatal(err)
	}
	if err := later.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	d, _ = cs.AppsV1().Deployments("app").Get(t.Context(), "probe-app", metav1.GetOptions{})
	if !reflect.DeepEqual(d.Spec.Template, template) {
		t.Errorf("template after the revert\n  %+v\nwant\n  %+v", d.Spec.Template, template)
	}
}

// The memory hog reverted by another process deletes the pod in the
// journalled namespace, not in its own drill's.
func TestMemoryHogRevertFromJournal(t *testing.T) {
	cs := fake.NewClientset(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "drill-old", Name: MemoryHogPod}})
	f, err := newMemoryHog(Env{Clientset: cs, DrillNamespace: "drill-new", Logger: log.NoopLogger{}},
		&scenarios.Scenario{}, &scenarios.MemoryHogParams{Used: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	state, _ := json.Marshal(memoryHogJournal{Namespace: "drill-old", Pod: MemoryHogPod, Node: zoneNodes[0], Created: true})
	if err := f.(Journaled).RestoreJournal(state); err != nil {
		t.Fatal(err)
	}
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("drill-old").Get(t.Context(), MemoryHogPod, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the hog's pod is still there: %v", err)
	}
}

// fakeLifecycle runs and starts fake nodes.
type fakeLifecycle struct {
	fakeProvider
	mu      sync.Mutex
	running map[string]bool
	started []string
}

func (l *fakeLifecycle) StopNode(context.Context, string) error         { return nil }
func (l *fakeLifecycle) KillNode(context.Context, string, string) error { return nil }
func (l *fakeLifecycle) StartNode(_ context.Context, n string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running[n], l.started = true, append(l.started, n)
	return nil
}

func (l *fakeLifecycle) NodeRunning(_ context.Context, n string) (bool, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running[n], "", nil
}

// A kill reverted by another process starts the journalled node and
// journals when, which its heartbeat must be after.
func TestKillControlPlaneRevertFromJournal(t *testing.T) {
	lc := &fakeLifecycle{fakeProvider: fakeProvider{testNodes}, running: map[string]bool{"cp1": true, "cp3": true}}
	j := &testJournal{}
	env := testEnv()
	env.Provider, env.Journal, env.Logger = lc, j, log.NoopLogger{}
	f := &killControlPlane{env: env, lc: lc, p: &scenarios.KillControlPlaneParams{RejoinTimeout: 10 * time.Millisecond}}
	j.f = f
	state, _ := json.Marshal(killControlPlaneJournal{Node: testNodes[3], Killed: true})
	if err := f.RestoreJournal(state); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	err := f.Revert(t.Context())
	// The fake node never reports Ready.
	if err == nil || !strings.Contains(err.Error(), "node cp2 to rejoin") {
		t.Errorf("got %v, want a timeout waiting for cp2", err)
	}
	if !slices.Equal(lc.started, []string{"cp2"}) {
		t.Errorf("started %v, want cp2", lc.started)
	}
	var js killControlPlaneJournal
	if err := json.Unmarshal(j.last(t), &js); err != nil || js.Started.Before(before) || !slices.Equal(j.steps(), []string{"node cp2 started"}) {
		t.Errorf("journal %q: %+v, %v", j.steps(), js, err)
	}
}

// Where an etcd restore resumes: at the first stage not done, but never at
// the data directories without stopping everything first.
func TestResumeAt(t *testing.T) {
	var stages []restoreStage
	for _, n := range []string{stageStopped, stageRestored, stageEtcd, stageAPIServers, stageWorkload} {
		stages = append(stages, restoreStage{name: n})
	}
	for _, tt := range []struct {
		done []string
		want int
	}{
		{nil, 0},
		{[]string{stageStopped}, 0},
		{[]string{stageStopped, stageRestored}, 2},
		{[]string{stageStopped, stageRestored, stageEtcd}, 3},
		{[]string{stageStopped, stageRestored, stageEtcd, stageAPIServers}, 4},
		{[]string{stageStopped, stageRestored, stageEtcd, stageAPIServers, stageWorkload}, 5},
	} {
		if got := resumeAt(stages, tt.done); got != tt.want {
			t.Errorf("done %v: resume at %d, want %d", tt.done, got, tt.want)
		}
	}
	// Without a workload, the restore is done once the API servers are.
	if got := resumeAt(stages[:4], []string{stageStopped, stageRestored, stageEtcd, stageAPIServers}); got != 4 {
		t.Errorf("resume at %d, want 4 (done)", got)
	}
}

// velero-restore reverted by another process waits for the Restore the
// earlier one created, in the journalled namespace (which the restore has
// brought back already), then deletes drill's Schedule, and only it: the
// user's daily-backup stays.
func TestVeleroRevertFromJournal(t *testing.T) {
	scheme, err := velero.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	backup := &velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: velero.DefaultNamespace, Name: "drill-1"},
		Status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted}}
	created := &velerov1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: velero.DefaultNamespace, Name: "drill-1"},
		Spec: velerov1.RestoreSpec{BackupName: "drill-1"}}
	schedule := &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: velero.DefaultNamespace, Name: ScheduleName, Labels: map[string]string{kube.LabelManagedBy: kube.ManagedBy}}}
	users := &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: velero.DefaultNamespace, Name: "daily-backup"}}
	var creates int
	c := ctrlfake.NewClientBuilder().WithScheme(scheme).WithObjects(backup, created, schedule, users).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			if r, ok := obj.(*velerov1.Restore); ok { // Velero completes it
				r.Status.Phase = velerov1.RestorePhaseCompleted
			}
			return nil
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			creates++
			return c.Create(ctx, obj, opts...)
		},
	}).Build()
	v := velero.New(c, "", nil)
	v.Interval = 5 * time.Millisecond
	cs := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}},
		completeDeployment("app", "probe-app", corev1.PodTemplateSpec{}))
	j := &testJournal{}
	f := &veleroRestore{env: Env{Clientset: cs, Namespace: "another-drill", Deployment: "probe-app", Logger: log.NoopLogger{}, Timeout: time.Second, Journal: j},
		p: &scenarios.VeleroRestoreParams{RestoreTimeout: 5 * time.Second}, v: v, c: c, run: "drill-2", steps: stepLog{locator: LocatorVelero}}
	j.f = f
	state, _ := json.Marshal(veleroRestoreJournal{Namespace: "app", Deployment: "probe-app", Run: "drill-1", Schedule: true, ScheduleName: ScheduleName,
		Location: velero.LocationName, Backup: "drill-1", Deleted: true, Restore: veleroRestoreProgress{Started: true}})
	if err := f.RestoreJournal(state); err != nil {
		t.Fatal(err)
	}
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	if creates != 1 { // the Restore, refused as existing
		t.Errorf("%d creates, want the one refused", creates)
	}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(schedule), &velerov1.Schedule{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Schedule is still there: %v", err)
	}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(users), &velerov1.Schedule{}); err != nil {
		t.Errorf("the user's Schedule daily-backup: %v", err)
	}
	wantSteps := []string{"Restore drill-1 completed", "the workload available", "Schedule drill-daily-backup deleted"}
	if got := j.steps(); !slices.Equal(got, wantSteps) {
		t.Errorf("journal steps %q, want %q", got, wantSteps)
	}
	var js veleroRestoreJournal
	if err := json.Unmarshal(j.last(t), &js); err != nil || js.Schedule ||
		js.Restore != (veleroRestoreProgress{Started: true, Completed: true, Available: true}) {
		t.Errorf("journal %+v, %v", js, err)
	}
	// Reverted again, nothing is left to do.
	if err := f.Revert(t.Context()); err != nil || creates != 1 {
		t.Errorf("second revert: %v, %d creates", err, creates)
	}
}

// A harness killed after journalling the namespace's deletion but before
// issuing it left the namespace as it was: the revert restores nothing and
// does not wait for a deletion that never comes (the kill matrix's case).
func TestVeleroRevertWhenTheNamespaceWasNeverDeleted(t *testing.T) {
	scheme, err := velero.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	schedule := &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: velero.DefaultNamespace, Name: ScheduleName, Labels: map[string]string{kube.LabelManagedBy: kube.ManagedBy}}}
	var creates int
	c := ctrlfake.NewClientBuilder().WithScheme(scheme).WithObjects(schedule).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			creates++
			return c.Create(ctx, obj, opts...)
		},
	}).Build()
	v := velero.New(c, "", nil)
	v.Interval = 5 * time.Millisecond
	cs := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}})
	j := &testJournal{}
	f := &veleroRestore{env: Env{Clientset: cs, Namespace: "another-drill", Deployment: "probe-app", Logger: log.NoopLogger{}, Timeout: time.Minute, Journal: j},
		p: &scenarios.VeleroRestoreParams{RestoreTimeout: 5 * time.Second}, v: v, c: c, run: "drill-2", steps: stepLog{locator: LocatorVelero}}
	j.f = f
	state, _ := json.Marshal(veleroRestoreJournal{Namespace: "app", Deployment: "probe-app", Run: "drill-1", Schedule: true, ScheduleName: ScheduleName,
		Location: velero.LocationName, Backup: "drill-1", Deleted: true})
	if err := f.RestoreJournal(state); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the revert took %s: it waited for a deletion", took)
	}
	if creates != 0 {
		t.Errorf("%d creates: a Restore was made of a namespace that is there", creates)
	}
	wantSteps := []string{"namespace app was never deleted: nothing to restore", "Schedule drill-daily-backup deleted"}
	if got := j.steps(); !slices.Equal(got, wantSteps) {
		t.Errorf("journal steps %q, want %q", got, wantSteps)
	}
	var js veleroRestoreJournal
	if err := json.Unmarshal(j.last(t), &js); err != nil || js.Deleted {
		t.Errorf("journal %+v, %v: want the deletion no longer recorded", js, err)
	}
}

// A remove-etcd-member journal that names no member (it stopped at
// resolving the target, or only its lagging cluster copy is left) is
// restored, and its revert then checks etcd is whole rather than failing to
// read the journal; one that says a member was removed without naming it is
// refused.
func TestRemoveEtcdMemberJournalWithoutMember(t *testing.T) {
	// What the journal holds when it is opened, before Target.
	atOpen, err := json.Marshal((&removeEtcdMember{}).JournalState())
	if err != nil {
		t.Fatal(err)
	}
	f := &removeEtcdMember{}
	if err := f.RestoreJournal(atOpen); err != nil {
		t.Fatalf("a journal naming no member: %v", err)
	}
	if !f.unknownTarget {
		t.Error("not marked as naming no member")
	}
	g := &removeEtcdMember{}
	if err := g.RestoreJournal(json.RawMessage(`{"member":{"name":"","id":"0"},"removed":true}`)); err == nil {
		t.Error("a journal saying a member was removed, naming none: no error")
	}
}
