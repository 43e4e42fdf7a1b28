package faults

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/internal/rbac/rbactest"
	"github.com/drill-sre/drill/internal/velero"
	"github.com/drill-sre/drill/scenarios"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

// A fault's calls through the Kubernetes API are granted by the access
// classes its spec names (Spec.Access) with those every drill needs
// (fixtures/rbac): a call the roles lack fails here, naming it, before a
// user bound to those roles finds it on a cluster.

// accessOf is the classes of fault type t's drills.
func accessOf(t *testing.T, typ scenarios.FaultType) []rbac.Class {
	t.Helper()
	s, ok := Lookup(typ)
	if !ok {
		t.Fatalf("no spec of %s", typ)
	}
	return rbac.With(s.Access...)
}

// Every fault's plan reads only what its classes grant.
func TestPlansNeedOnlyTheirAccess(t *testing.T) {
	scs := drillsOfEveryType(t)
	for _, s := range Specs() {
		sc := scs[s.Type]
		if sc == nil {
			continue // TestEveryRegisteredFaultPlans says so
		}
		env, cs, _ := planCluster(t)
		writes := 0
		planOf(t, env, sc, veleroFake(t, &writes))
		rbactest.Granted(t, "plan of "+sc.Name, cs.Actions(), accessOf(t, s.Type)...)
	}
}

// A drain cordons, evicts a pod (PodDisruptionBudgets apply), leaves a
// DaemonSet's, and uncordons, within drill-workload-faults.
func TestDrainNeedsOnlyItsAccess(t *testing.T) {
	env, cs, _ := planCluster(t)
	env.Timeout, env.Logger = 5*time.Second, log.NoopLogger{}
	cs.Resources = []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "pods/eviction", Kind: "Eviction", Group: "policy", Version: "v1"}}}}
	// An eviction the budget allows deletes the pod, as the API server does.
	cs.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		e := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
		return true, nil, cs.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), a.GetNamespace(), e.GetName())
	})
	cs.ClearActions()
	f := newTestDrain(env)
	if _, err := f.Target(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Inject(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Effect(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-f.done
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, evicted := f.counts(); len(evicted) == 0 {
		t.Error("nothing evicted: the drain did not run as on a cluster")
	}
	rbactest.Granted(t, "drain-zone", cs.Actions(), accessOf(t, scenarios.FaultDrainZone)...)
}

// crashloop-pods rolls a crashing template out and the saved one back,
// within drill-workload-faults.
func TestCrashloopNeedsOnlyItsAccess(t *testing.T) {
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "probe-app"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "probe-app:dev"}}}}
	cs := fake.NewClientset(completeDeployment("app", "probe-app", template))
	env := Env{Clientset: cs, Namespace: "app", Deployment: "probe-app", Logger: log.NoopLogger{}, Timeout: 5 * time.Second}
	f, err := newCrashloopPods(env, &scenarios.Scenario{}, &scenarios.CrashloopPodsParams{Deployment: "probe-app", Until: scenarios.PodStateCrashLoopBackOff})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Target(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Inject(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.(*crashloopPods).crashing(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	rbactest.Granted(t, "crashloop-pods", cs.Actions(), accessOf(t, scenarios.FaultCrashloopPods)...)
}

// memory-hog creates its pod, reads its log and deletes it, within
// drill-workload-faults.
func TestMemoryHogNeedsOnlyItsAccess(t *testing.T) {
	env, cs, _ := planCluster(t)
	env.DrillNamespace, env.Logger = "drill-hog", log.NoopLogger{}
	cs.ClearActions()
	f, err := newMemoryHog(env, &scenarios.Scenario{}, &scenarios.MemoryHogParams{Used: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Target(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Inject(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.(*memoryHog).state(t.Context()); err != nil && !strings.Contains(err.Error(), "log") {
		t.Logf("the fake pod's log: %v", err)
	}
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	rbactest.Granted(t, "memory-hog", cs.Actions(), accessOf(t, scenarios.FaultMemoryHog)...)
}

// recordingVelero is a controller-runtime client over Velero's objects
// that records what each call needed, and plays Velero's server: what it
// is asked to back up or restore completes, a Schedule is enabled.
func recordingVelero(t *testing.T, needed *[]rbac.Permission, objs ...client.Object) client.Client {
	t.Helper()
	scheme, err := velero.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	var c client.WithWatch
	record := func(verb string, obj runtime.Object, name string) {
		gvk, err := c.GroupVersionKindFor(obj)
		if err != nil {
			t.Fatalf("%T: %v", obj, err)
		}
		gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
		gvr, _ := meta.UnsafeGuessKindToResource(gvk)
		*needed = append(*needed, rbac.Permission{Verb: verb, Group: gvr.Group, Resource: gvr.Resource, Name: name})
	}
	c = ctrlfake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			record("get", obj, key.Name)
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			switch o := obj.(type) {
			case *velerov1.Backup:
				o.Status.Phase = velerov1.BackupPhaseCompleted
			case *velerov1.Restore:
				o.Status.Phase = velerov1.RestorePhaseCompleted
			case *velerov1.Schedule:
				o.Status.Phase = velerov1.SchedulePhaseEnabled
			}
			return nil
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			record("list", list, "")
			return c.List(ctx, list, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			record("create", obj, "")
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			record("update", obj, obj.GetName())
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			record("patch", obj, obj.GetName())
			return c.Patch(ctx, obj, patch, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			record("delete", obj, obj.GetName())
			return c.Delete(ctx, obj, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			t.Errorf("an apply: drill-dr covers a Velero drill does not install")
			return nil
		},
	}).Build()
	return c
}

// velero-restore with a Velero that is there and a backup location of the
// user's (what drill-dr covers): it checks Velero, schedules and takes the
// backup, deletes the namespace, restores it and deletes its Schedule,
// within drill-dr.
func TestVeleroRestoreNeedsOnlyItsAccess(t *testing.T) {
	ns := velero.DefaultNamespace
	ready := appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	var needed []rbac.Permission
	c := recordingVelero(t, &needed,
		&apiextv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "backups.velero.io"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: velero.DeploymentName}, Status: ready},
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: velero.NodeAgentName},
			Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 1, NumberReady: 1, UpdatedNumberScheduled: 1, NumberAvailable: 1}},
		&velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "users"},
			Status: velerov1.BackupStorageLocationStatus{Phase: velerov1.BackupStorageLocationPhaseAvailable}},
		&velerov1.PodVolumeBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pvb", Labels: map[string]string{velerov1.BackupNameLabel: "drill-1"}},
			Status: velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseCompleted}},
	)
	v := velero.New(c, "", nil)
	v.Interval = 5 * time.Millisecond
	cs := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}},
		completeDeployment("app", "probe-app", corev1.PodTemplateSpec{}))
	f := &veleroRestore{env: Env{Provider: fakeProvider{testNodes}, Clientset: cs, Namespace: "app", Deployment: "probe-app", Logger: log.NoopLogger{}, Timeout: 5 * time.Second},
		sc: &scenarios.Scenario{Name: "velero"}, p: &scenarios.VeleroRestoreParams{BackupLocation: "users", Schedule: "0 2 * * *",
			BackupTimeout: 5 * time.Second, RestoreTimeout: 5 * time.Second},
		v: v, c: c, run: "drill-1", steps: stepLog{locator: LocatorVelero}}
	if _, err := f.Target(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Inject(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Effect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	classes := accessOf(t, scenarios.FaultVeleroRestore)
	rbactest.Granted(t, "velero-restore", cs.Actions(), classes...)
	needs, err := rbac.Needs(classes)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range needed {
		if !rbac.Allows(needs, p) {
			t.Errorf("velero-restore's Velero client needs %s, which %v do not grant", p, classes)
		}
	}
	for _, want := range []string{"create backups", "create restores", "create schedules", "delete schedules", "get backupstoragelocations users"} {
		if !slices.ContainsFunc(needed, func(p rbac.Permission) bool { return strings.HasPrefix(p.String(), want) }) {
			t.Errorf("Velero's client never did %q: the drill did not run as on a cluster (%v)", want, needed)
		}
	}
}
