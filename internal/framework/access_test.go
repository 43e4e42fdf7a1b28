package framework

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/guard"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/preflight"
	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/internal/rbac/rbactest"
	"github.com/drill-sre/drill/internal/recovery"
	"github.com/drill-sre/drill/internal/rpo"
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

// What every drill does through the API, whatever its fault (its
// namespace's workload deployed and read back, the journals' copies, the
// RPO writer's records, the preflight, the samplers' probes, the guard), is
// granted by drill-observe and drill-run alone: a call those roles lack
// fails here, naming it.
func TestEveryDrillsCallsNeedOnlyCommonAccess(t *testing.T) {
	ctx := t.Context()
	const ns = "drill-x"
	cs := fake.NewClientset(guard.Marker{}.ConfigMap(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: "uid-1"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{guard.LabelManagedBy: guard.ManagedBy}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "w1"}},
		&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-scheduler"}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes",
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
			Ports:     []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](6443)}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}}},
	)
	// The deployment controller and the kubelets, in one: the workload is
	// available once applied.
	cs.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		o, err := cs.Tracker().Get(appsv1.SchemeGroupVersion.WithResource("deployments"), a.GetNamespace(), a.(k8stesting.GetAction).GetName())
		if err != nil {
			return true, nil, err
		}
		d := o.(*appsv1.Deployment).DeepCopy()
		n := ptr.Deref(d.Spec.Replicas, 1)
		d.Status = appsv1.DeploymentStatus{Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}}
		return true, d, nil
	})
	// drill-system is not there yet: the journal's copy creates it.
	first := true
	cs.PrependReactor("create", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == journal.Namespace && first {
			first = false
			return true, nil, apierrors.NewNotFound(corev1.Resource("namespaces"), journal.Namespace)
		}
		return false, nil, nil
	})
	cs.ClearActions()

	for _, in := range []DeployProbeAppInput{
		{Clientset: cs, Namespace: ns, Replicas: 1, MinAvailable: ptr.To[int32](1), AllocateNodePort: true, Persistent: true},
		{Clientset: cs, Namespace: ns, Replicas: 3, WithoutPDB: true, AllocateNodePort: true},
	} {
		app, err := DeployProbeApp(ctx, in, "5s", "10ms")
		if err != nil {
			t.Fatal(err)
		}
		_ = DescribeDeployment(ctx, cs, app.Deployment)
	}

	mirror := journal.ConfigMaps{Clientset: cs}
	e := journal.Entry{Schema: journal.Schema, ID: "drill-1", Drill: "drill"}
	for range 2 {
		if err := mirror.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mirror.List(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mirror.Delete(ctx, e.ID); err != nil {
		t.Fatal(err)
	}

	store := rpo.ConfigMapStore{CS: cs, Namespace: ns, Run: "run-1"}
	if err := store.Write(ctx, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReadBack(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx); err != nil {
		t.Fatal(err)
	}

	_ = preflight.Run(ctx, preflight.Input{Clientset: cs, Workload: &preflight.Workload{Namespace: ns, Deployment: "probe-app"},
		OpenJournals: func(ctx context.Context) ([]string, error) { _, err := mirror.List(ctx); return nil, err }})
	for _, probe := range []monitor.Probe{
		monitor.LeaseHolder(cs, "kube-system", "kube-scheduler"),
		monitor.ReadyPods(cs, ns, "app=probe-app"),
		monitor.DisruptionsAllowed(cs, ns, "probe-app"),
		monitor.DeploymentRollout(cs, ns, "probe-app"),
	} {
		_, _ = probe(ctx)
	}
	if _, err := monitor.APIServerEndpoints(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.ListNodes(ctx, cs); err != nil {
		t.Fatal(err)
	}
	m, err := guard.Read(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if err := guard.CheckWorkloadNamespace(ctx, cs, m, ns); err != nil {
		t.Fatal(err)
	}
	if recovery.ClusterUID(ctx, cs) == "" {
		t.Error("no cluster uid")
	}
	_ = DescribeEvents(ctx, cs, ns)

	if len(cs.Actions()) < 30 {
		t.Errorf("%d calls recorded: the paths did not run", len(cs.Actions()))
	}
	rbactest.Granted(t, "every drill", cs.Actions(), rbac.Common()...)
}
