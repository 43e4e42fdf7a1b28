package framework

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/drill-sre/drill/scenarios"
)

const testNS = "drill-drain-zone-x7k2p"

func TestProbeAppManifestsAsShipped(t *testing.T) {
	o, err := probeAppManifests(DeployProbeAppInput{Namespace: testNS})
	if err != nil {
		t.Fatal(err)
	}
	d := o.deployment
	if ptr.Deref(d.Name, "") != string(scenarios.FixtureProbeApp) {
		t.Errorf("deployment %q, want %q: drills name the workload's Deployment after its fixture", ptr.Deref(d.Name, ""), scenarios.FixtureProbeApp)
	}
	if ptr.Deref(d.Spec.Replicas, 0) != scenarios.DefaultReplicas {
		t.Errorf("replicas %d, want scenarios.DefaultReplicas %d", ptr.Deref(d.Spec.Replicas, 0), scenarios.DefaultReplicas)
	}
	if img := ptr.Deref(d.Spec.Template.Spec.Containers[0].Image, ""); img != ProbeAppImage {
		t.Errorf("image %s, want %s", img, ProbeAppImage)
	}
	for what, ns := range map[string]*string{
		"deployment": d.Namespace, "service": o.service.Namespace,
		"nodeport service": o.nodePortService.Namespace, "pdb": o.pdb.Namespace,
	} {
		if ptr.Deref(ns, "") != testNS {
			t.Errorf("%s namespace %q, want %q", what, ptr.Deref(ns, ""), testNS)
		}
	}
	if np := ptr.Deref(o.nodePortService.Spec.Ports[0].NodePort, 0); np != 30080 {
		t.Errorf("node port %d, want 30080", np)
	}
	if o.pdbName != "probe-app" || *o.pdb.Spec.MinAvailable != intstr.FromInt32(2) || o.pdb.Spec.MaxUnavailable != nil {
		t.Errorf("pdb %s: minAvailable %v maxUnavailable %v, want probe-app with minAvailable 2", o.pdbName, o.pdb.Spec.MinAvailable, o.pdb.Spec.MaxUnavailable)
	}
}

func TestProbeAppManifestsOverrides(t *testing.T) {
	o, err := probeAppManifests(DeployProbeAppInput{
		Namespace: testNS, Replicas: 5, MinAvailable: ptr.To[int32](4),
		Image: "registry.example/probe-app:v2", NodePort: 31000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ptr.Deref(o.deployment.Spec.Replicas, 0); got != 5 {
		t.Errorf("replicas %d, want 5", got)
	}
	if got := ptr.Deref(o.deployment.Spec.Template.Spec.Containers[0].Image, ""); got != "registry.example/probe-app:v2" {
		t.Errorf("image %s", got)
	}
	if got := ptr.Deref(o.nodePortService.Spec.Ports[0].NodePort, 0); got != 31000 {
		t.Errorf("node port %d, want 31000", got)
	}
	if *o.pdb.Spec.MinAvailable != intstr.FromInt32(4) {
		t.Errorf("minAvailable %v, want 4", o.pdb.Spec.MinAvailable)
	}

	o, err = probeAppManifests(DeployProbeAppInput{Namespace: testNS, MaxUnavailable: ptr.To[int32](1), AllocateNodePort: true})
	if err != nil {
		t.Fatal(err)
	}
	if o.pdb.Spec.MinAvailable != nil || *o.pdb.Spec.MaxUnavailable != intstr.FromInt32(1) {
		t.Errorf("minAvailable %v maxUnavailable %v, want maxUnavailable 1 only", o.pdb.Spec.MinAvailable, o.pdb.Spec.MaxUnavailable)
	}
	if o.nodePortService.Spec.Ports[0].NodePort != nil {
		t.Errorf("node port %d, want none so that the API server allocates one", *o.nodePortService.Spec.Ports[0].NodePort)
	}

	o, err = probeAppManifests(DeployProbeAppInput{Namespace: testNS, WithoutPDB: true})
	if err != nil {
		t.Fatal(err)
	}
	if o.pdb != nil || o.pdbName != "probe-app" {
		t.Errorf("WithoutPDB: pdb %+v named %q, want none, named probe-app", o.pdb, o.pdbName)
	}

	o, err = probeAppManifests(DeployProbeAppInput{Namespace: testNS, Persistent: true, WithoutPDB: true})
	if err != nil {
		t.Fatal(err)
	}
	spec := o.deployment.Spec
	if o.pvc == nil || ptr.Deref(o.pvc.Namespace, "") != testNS || o.pvc.Annotations["volumeType"] != "local" {
		t.Errorf("Persistent: pvc %+v, want one in %s annotated volumeType local", o.pvc, testNS)
	} else if v := spec.Template.Spec.Volumes[0]; v.PersistentVolumeClaim == nil || ptr.Deref(v.PersistentVolumeClaim.ClaimName, "") != ptr.Deref(o.pvc.Name, "") {
		t.Errorf("Persistent: volume %+v, want the claim %s", v, ptr.Deref(o.pvc.Name, ""))
	}
	if len(spec.Template.Spec.TopologySpreadConstraints) != 0 {
		t.Errorf("Persistent: topology spread constraints %+v, want none (Velero cannot restore pods with matchLabelKeys)", spec.Template.Spec.TopologySpreadConstraints)
	}
	if ptr.Deref(spec.Replicas, 0) != 1 || ptr.Deref(spec.Strategy.Type, "") != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("Persistent: %d replicas, strategy %v; want 1, Recreate", ptr.Deref(spec.Replicas, 0), spec.Strategy.Type)
	}
	if err := checkDeployProbeAppInput(DeployProbeAppInput{Clientset: fake.NewClientset(), Namespace: testNS, Persistent: true, Replicas: 3}); err == nil {
		t.Errorf("Persistent with 3 replicas: no error")
	}

	// Above the fixture's 3 replicas.
	if _, err := probeAppManifests(DeployProbeAppInput{Namespace: testNS, MinAvailable: ptr.To[int32](4)}); err == nil ||
		!strings.Contains(err.Error(), "MinAvailable 4 is above the 3 replicas") {
		t.Errorf("MinAvailable 4 of 3 replicas: %v", err)
	}
}

func TestDeployProbeAppChecksInput(t *testing.T) {
	cs := fake.NewClientset()
	for _, tc := range []struct {
		name  string
		input DeployProbeAppInput
		says  string
	}{
		{"nothing", DeployProbeAppInput{}, "Clientset is required; Namespace is required"},
		{"negative replicas", DeployProbeAppInput{Clientset: cs, Namespace: testNS, Replicas: -1}, "Replicas -1 is negative"},
		{"both budgets", DeployProbeAppInput{Clientset: cs, Namespace: testNS, MinAvailable: ptr.To[int32](1), MaxUnavailable: ptr.To[int32](1)}, "exclusive"},
		{"budget without pdb", DeployProbeAppInput{Clientset: cs, Namespace: testNS, WithoutPDB: true, MinAvailable: ptr.To[int32](1)}, "WithoutPDB excludes"},
		{"negative min", DeployProbeAppInput{Clientset: cs, Namespace: testNS, MinAvailable: ptr.To[int32](-1)}, "MinAvailable -1 is negative"},
		{"negative max", DeployProbeAppInput{Clientset: cs, Namespace: testNS, MaxUnavailable: ptr.To[int32](-2)}, "MaxUnavailable -2 is negative"},
		{"min above replicas", DeployProbeAppInput{Clientset: cs, Namespace: testNS, Replicas: 2, MinAvailable: ptr.To[int32](3)}, "above the 2 replicas"},
		{"two node ports", DeployProbeAppInput{Clientset: cs, Namespace: testNS, NodePort: 30081, AllocateNodePort: true}, "exclusive"},
	} {
		_, err := DeployProbeApp(context.Background(), tc.input)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.says)
		}
	}
	if _, err := DeployProbeApp(context.Background(), DeployProbeAppInput{Clientset: cs, Namespace: testNS}, "soon"); err == nil {
		t.Error("an unparsable interval was accepted")
	}
	if len(cs.Actions()) != 0 {
		t.Errorf("bad input reached the API: %v", cs.Actions())
	}
}

// fakeDeploymentController stands in for the deployment controller and the
// kubelets of a real cluster: every probe-app Deployment it sees gets its
// replicas as Ready pods and an available status.
func fakeDeploymentController(ctx context.Context, t *testing.T, cs *fake.Clientset) {
	t.Helper()
	w, err := cs.AppsV1().Deployments(testNS).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				d, isDeployment := ev.Object.(*appsv1.Deployment)
				if !isDeployment || ev.Type == watch.Deleted || deploymentReady(d) {
					continue
				}
				want := ptr.Deref(d.Spec.Replicas, 1)
				pods, _ := cs.CoreV1().Pods(testNS).List(ctx, metav1.ListOptions{})
				for i := int32(len(pods.Items)); i < want; i++ {
					cs.CoreV1().Pods(testNS).Create(ctx, &corev1.Pod{
						ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("probe-app-%d", i), Namespace: testNS, Labels: d.Spec.Template.Labels},
						Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
							{Type: corev1.PodReady, Status: corev1.ConditionTrue},
						}},
					}, metav1.CreateOptions{})
				}
				d.Status = appsv1.DeploymentStatus{
					Replicas: want, UpdatedReplicas: want, ReadyReplicas: want, AvailableReplicas: want,
					Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}},
				}
				cs.AppsV1().Deployments(testNS).UpdateStatus(ctx, d, metav1.UpdateOptions{})
			}
		}
	}()
}

func TestDeployProbeApp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := fake.NewClientset()
	fakeDeploymentController(ctx, t, cs)

	app, err := DeployProbeApp(ctx, DeployProbeAppInput{Clientset: cs, Namespace: testNS, MinAvailable: ptr.To[int32](3)},
		"5s", "10ms")
	if err != nil {
		t.Fatal(err)
	}
	if app.Namespace != testNS || app.Deployment.Name != "probe-app" || len(app.Pods) != 3 {
		t.Errorf("app in %s: deployment %s with %d Ready pods, want probe-app with 3 in %s", app.Namespace, app.Deployment.Name, len(app.Pods), testNS)
	}
	if app.Service.Name != "probe-app" || app.Service.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("service %s (%s)", app.Service.Name, app.Service.Spec.Type)
	}
	if app.NodePort() != 30080 {
		t.Errorf("node port %d, want 30080", app.NodePort())
	}
	if got := app.NodeURL("172.18.0.5", "/ready"); got != "http://172.18.0.5:30080/ready" {
		t.Errorf("NodeURL = %s", got)
	}
	if got := app.NodeURLs([]string{"172.18.0.5", "", "fc00:f853:ccd:e793::3"}, "/"); strings.Join(got, " ") !=
		"http://172.18.0.5:30080/ http://[fc00:f853:ccd:e793::3]:30080/" {
		t.Errorf("NodeURLs = %v", got)
	}
	if got := app.ServiceURL("/records"); got != "http://probe-app."+testNS+".svc/records" {
		t.Errorf("ServiceURL = %s", got)
	}
	if app.PDB == nil || *app.PDB.Spec.MinAvailable != intstr.FromInt32(3) {
		t.Fatalf("pdb = %+v, want minAvailable 3", app.PDB)
	}
	if m := app.Deployment.ManagedFields; len(m) == 0 || m[0].Manager != FieldManager || m[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("managed fields %+v, want applied by %s", m, FieldManager)
	}

	// Deploying again converges on the new input: a bigger Deployment, a
	// budget as maxUnavailable (the minAvailable applied before is gone).
	app, err = DeployProbeApp(ctx, DeployProbeAppInput{Clientset: cs, Namespace: testNS, Replicas: 4, MaxUnavailable: ptr.To[int32](1)},
		"5s", "10ms")
	if err != nil {
		t.Fatal(err)
	}
	if ptr.Deref(app.Deployment.Spec.Replicas, 0) != 4 || len(app.Pods) != 4 {
		t.Errorf("replicas %d with %d Ready pods, want 4", ptr.Deref(app.Deployment.Spec.Replicas, 0), len(app.Pods))
	}
	if app.PDB.Spec.MinAvailable != nil || *app.PDB.Spec.MaxUnavailable != intstr.FromInt32(1) {
		t.Errorf("pdb minAvailable %v maxUnavailable %v, want maxUnavailable 1 only", app.PDB.Spec.MinAvailable, app.PDB.Spec.MaxUnavailable)
	}

	// And without a budget.
	app, err = DeployProbeApp(ctx, DeployProbeAppInput{Clientset: cs, Namespace: testNS, Replicas: 4, WithoutPDB: true}, "5s", "10ms")
	if err != nil {
		t.Fatal(err)
	}
	if app.PDB != nil {
		t.Errorf("pdb %+v, want none", app.PDB)
	}
	if _, err := cs.PolicyV1().PodDisruptionBudgets(testNS).Get(ctx, "probe-app", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the earlier pdb is still there: %v", err)
	}
}

func TestDeployProbeAppTimesOutWithEvidence(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(&corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e1", Namespace: testNS},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "probe-app-0"},
		Type:           corev1.EventTypeWarning, Reason: "Failed", Message: "ErrImageNeverPull",
		LastTimestamp: metav1.NewTime(time.Now()),
	})
	_, err := DeployProbeApp(ctx, DeployProbeAppInput{Clientset: cs, Namespace: testNS}, 50*time.Millisecond, 10*time.Millisecond)
	if err == nil {
		t.Fatal("no controller made the app available, yet DeployProbeApp succeeded")
	}
	for _, want := range []string{"wait 50ms for deployment " + testNS + "/probe-app to be available", "want 3 replicas: 0", "ErrImageNeverPull"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestDeleteProbeApp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := fake.NewClientset()
	fakeDeploymentController(ctx, t, cs)
	if _, err := DeployProbeApp(ctx, DeployProbeAppInput{Clientset: cs, Namespace: testNS}, "5s", "10ms"); err != nil {
		t.Fatal(err)
	}
	// The fake has no garbage collector: the pods go with the Deployment
	// here, as they would with foreground deletion.
	cs.PrependReactor("delete", "deployments", func(_ k8stesting.Action) (bool, runtime.Object, error) {
		pods, _ := cs.Tracker().List(corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod"), testNS)
		for _, p := range pods.(*corev1.PodList).Items {
			cs.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), testNS, p.Name)
		}
		return false, nil, nil
	})
	for i := range 2 {
		if err := DeleteProbeApp(ctx, DeleteProbeAppInput{Clientset: cs, Namespace: testNS}, "5s", "10ms"); err != nil {
			t.Fatalf("DeleteProbeApp #%d: %v", i+1, err)
		}
	}
	if _, err := cs.AppsV1().Deployments(testNS).Get(ctx, "probe-app", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment: %v", err)
	}
	svcs, _ := cs.CoreV1().Services(testNS).List(ctx, metav1.ListOptions{})
	pdbs, _ := cs.PolicyV1().PodDisruptionBudgets(testNS).List(ctx, metav1.ListOptions{})
	if len(svcs.Items) != 0 || len(pdbs.Items) != 0 {
		t.Errorf("%d services and %d pdbs left", len(svcs.Items), len(pdbs.Items))
	}

	if err := DeleteProbeApp(ctx, DeleteProbeAppInput{}); err == nil || !strings.Contains(err.Error(), "Clientset is required; Namespace is required") {
		t.Errorf("empty input: %v", err)
	}
}

func TestDeleteProbeAppWaitsForPods(t *testing.T) {
	ctx := context.Background()
	// A pod the garbage collector has not removed yet.
	cs := fake.NewClientset(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "probe-app-0", Namespace: testNS, Labels: map[string]string{"app.kubernetes.io/name": "probe-app"},
	}})
	err := DeleteProbeApp(ctx, DeleteProbeAppInput{Clientset: cs, Namespace: testNS}, "50ms", "10ms")
	if err == nil || !strings.Contains(err.Error(), "1 pods are left, such as probe-app-0") {
		t.Errorf("DeleteProbeApp with a pod left: %v", err)
	}
}

func TestWaitIntervals(t *testing.T) {
	for _, tc := range []struct {
		in                []interface{}
		timeout, interval time.Duration
		err               bool
	}{
		{nil, DefaultProbeAppTimeout, DefaultProbeAppInterval, false},
		{[]interface{}{"2m"}, 2 * time.Minute, DefaultProbeAppInterval, false},
		{[]interface{}{"2m", 5 * time.Second}, 2 * time.Minute, 5 * time.Second, false},
		{[]interface{}{"2m", "1s", "1s"}, 0, 0, true},
		{[]interface{}{120}, 0, 0, true},
		{[]interface{}{"-1s"}, 0, 0, true},
	} {
		timeout, interval, err := waitIntervals(tc.in)
		if (err != nil) != tc.err || timeout != tc.timeout || interval != tc.interval {
			t.Errorf("waitIntervals(%v) = %s, %s, %v", tc.in, timeout, interval, err)
		}
	}
}
