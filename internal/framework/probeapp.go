package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/e2e-framework/klient/wait"
	"sigs.k8s.io/yaml"

	"github.com/drill-sre/drill/fixtures"
)

// ProbeAppImage is the image of the probe-app fixture, built by
// `make images` (images/build.sh); load it into the nodes where the provider
// is an ImageLoader.
const ProbeAppImage = fixtures.ProbeAppImage

// FieldManager is the server-side apply field manager of what drill applies.
const FieldManager = "drill"

// Default waits of DeployProbeApp and DeleteProbeApp, when no intervals are
// given.
const (
	DefaultProbeAppTimeout  = 3 * time.Minute
	DefaultProbeAppInterval = time.Second
)

// DeployProbeAppInput is the input of DeployProbeApp.
type DeployProbeAppInput struct {
	Clientset kubernetes.Interface
	// Namespace to deploy into; it must exist.
	Namespace string
	// Replicas of the Deployment. 0 keeps the fixture's 3.
	Replicas int32
	// MinAvailable overrides the PodDisruptionBudget's minAvailable (the
	// fixture's is 2). At most Replicas.
	MinAvailable *int32
	// MaxUnavailable gives the PodDisruptionBudget a maxUnavailable instead
	// of a minAvailable.
	MaxUnavailable *int32
	// WithoutPDB deploys no PodDisruptionBudget, and deletes the one an
	// earlier deploy in the namespace made.
	WithoutPDB bool
	// Image overrides the fixture's image (ProbeAppImage), for a cluster
	// that pulls it from a registry.
	Image string
	// NodePort is the node port of Service probe-app-nodeport. 0 keeps the
	// fixture's, 30080. A node port is unique in the whole cluster: specs
	// that deploy the app in parallel set AllocateNodePort instead.
	NodePort int32
	// AllocateNodePort lets the API server choose a free node port.
	AllocateNodePort bool
	// Persistent keeps the record store on a PersistentVolumeClaim
	// (fixture probe-app/pvc.yaml, ReadWriteOnce) instead of an emptyDir:
	// one replica, replaced with the Recreate strategy.
	Persistent bool
}

// ProbeApp is a deployed probe-app fixture, as read back once it was
// available.
type ProbeApp struct {
	Namespace  string
	Deployment *appsv1.Deployment
	// Service is the ClusterIP Service probe-app, port 80.
	Service *corev1.Service
	// NodePortService is probe-app-nodeport, which clients outside the
	// cluster reach on every node's IP.
	NodePortService *corev1.Service
	// PDB is nil when the app was deployed WithoutPDB.
	PDB *policyv1.PodDisruptionBudget
	// Pods are the Ready pods once the Deployment was available.
	Pods []corev1.Pod
}

// NodePort is the port of the app on every node.
func (a ProbeApp) NodePort() int32 {
	if a.NodePortService == nil || len(a.NodePortService.Spec.Ports) == 0 {
		return 0
	}
	return a.NodePortService.Spec.Ports[0].NodePort
}

// NodeURL is the URL of path (probeapp.PathReady, "/") through the node port
// of the node at nodeIP, for clients outside the cluster.
func (a ProbeApp) NodeURL(nodeIP, path string) string {
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(nodeIP, strconv.Itoa(int(a.NodePort()))), Path: path}
	return u.String()
}

// NodeURLs is NodeURL for each node IP, skipping empty ones.
func (a ProbeApp) NodeURLs(nodeIPs []string, path string) []string {
	var urls []string
	for _, ip := range nodeIPs {
		if ip != "" {
			urls = append(urls, a.NodeURL(ip, path))
		}
	}
	return urls
}

// ServiceURL is the URL of path through the ClusterIP Service, for clients
// in the cluster.
func (a ProbeApp) ServiceURL(path string) string {
	host := "probe-app"
	if a.Service != nil {
		host = a.Service.Name
	}
	u := url.URL{Scheme: "http", Host: host + "." + a.Namespace + ".svc", Path: path}
	return u.String()
}

// probeAppObjects are the fixture's manifests as apply configurations, with
// an input's overrides.
type probeAppObjects struct {
	deployment      *appsv1ac.DeploymentApplyConfiguration
	service         *corev1ac.ServiceApplyConfiguration
	nodePortService *corev1ac.ServiceApplyConfiguration
	// pdb is nil WithoutPDB; pdbName is its name either way.
	pdb     *policyv1ac.PodDisruptionBudgetApplyConfiguration
	pdbName string
	// pvc is the volume of a Persistent app, nil otherwise.
	pvc *corev1ac.PersistentVolumeClaimApplyConfiguration
}

// decodeFixture reads an embedded manifest strictly: a field the apply
// configuration does not know is an error.
func decodeFixture(name string, obj any) error {
	raw, err := fixtures.ProbeApp.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read embedded %s: %w", name, err)
	}
	if err := yaml.UnmarshalStrict(raw, obj); err != nil {
		return fmt.Errorf("decode embedded %s: %w", name, err)
	}
	return nil
}

// probeAppManifests decodes the fixture and applies an input's overrides;
// checkDeployProbeAppInput comes first.
func probeAppManifests(input DeployProbeAppInput) (probeAppObjects, error) {
	var o probeAppObjects
	o.deployment = &appsv1ac.DeploymentApplyConfiguration{}
	o.service = &corev1ac.ServiceApplyConfiguration{}
	o.nodePortService = &corev1ac.ServiceApplyConfiguration{}
	pdb := &policyv1ac.PodDisruptionBudgetApplyConfiguration{}
	for name, obj := range map[string]any{
		fixtures.ProbeAppDeployment:      o.deployment,
		fixtures.ProbeAppService:         o.service,
		fixtures.ProbeAppNodePortService: o.nodePortService,
		fixtures.ProbeAppPDB:             pdb,
	} {
		if err := decodeFixture(name, obj); err != nil {
			return o, err
		}
	}
	o.deployment.WithNamespace(input.Namespace)
	o.service.WithNamespace(input.Namespace)
	o.nodePortService.WithNamespace(input.Namespace)
	pdb.WithNamespace(input.Namespace)
	o.pdbName = ptr.Deref(pdb.Name, "")

	if input.Replicas != 0 {
		o.deployment.Spec.WithReplicas(input.Replicas)
	}
	if input.Image != "" {
		containers := o.deployment.Spec.Template.Spec.Containers
		if len(containers) != 1 {
			return o, fmt.Errorf("embedded %s: %d containers, want 1", fixtures.ProbeAppDeployment, len(containers))
		}
		containers[0].WithImage(input.Image)
	}

	ports := o.nodePortService.Spec.Ports
	if len(ports) != 1 {
		return o, fmt.Errorf("embedded %s: %d ports, want 1", fixtures.ProbeAppNodePortService, len(ports))
	}
	switch {
	case input.AllocateNodePort:
		ports[0].NodePort = nil
	case input.NodePort != 0:
		ports[0].WithNodePort(input.NodePort)
	}

	if input.Persistent {
		o.pvc = &corev1ac.PersistentVolumeClaimApplyConfiguration{}
		if err := decodeFixture(fixtures.ProbeAppPVC, o.pvc); err != nil {
			return o, err
		}
		o.pvc.WithNamespace(input.Namespace)
		spec := o.deployment.Spec
		spec.WithReplicas(1).WithStrategy(appsv1ac.DeploymentStrategy().WithType(appsv1.RecreateDeploymentStrategyType))
		vols := spec.Template.Spec.Volumes
		if len(vols) != 1 || ptr.Deref(vols[0].Name, "") != "data" {
			return o, fmt.Errorf("embedded %s: want one volume named data", fixtures.ProbeAppDeployment)
		}
		vols[0] = *corev1ac.Volume().WithName("data").WithPersistentVolumeClaim(
			corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(ptr.Deref(o.pvc.Name, "")))
		// The volume's directory is created by the provisioner; the app
		// runs as 65532 and must be able to write it.
		spec.Template.Spec.SecurityContext.WithFSGroup(65532)
		// One replica has nothing to spread; and Velero cannot restore a
		// pod with the fixture's constraint: Kubernetes 1.34 merges the
		// matchLabelKeys into the pod's labelSelector at admission, and
		// the pod Velero re-creates from the backup then has
		// pod-template-hash in both, which the API server rejects as
		// invalid (the Restore ends PartiallyFailed).
		spec.Template.Spec.TopologySpreadConstraints = nil
	}

	if input.WithoutPDB {
		return o, nil
	}
	o.pdb = pdb
	switch {
	case input.MinAvailable != nil:
		// A budget above the replicas could never be met: every eviction
		// would be refused and the budget reported violated throughout.
		if replicas := ptr.Deref(o.deployment.Spec.Replicas, 1); *input.MinAvailable > replicas {
			return o, fmt.Errorf("DeployProbeApp: MinAvailable %d is above the %d replicas", *input.MinAvailable, replicas)
		}
		pdb.Spec.WithMinAvailable(intstr.FromInt32(*input.MinAvailable))
	case input.MaxUnavailable != nil:
		pdb.Spec.MinAvailable = nil
		pdb.Spec.WithMaxUnavailable(intstr.FromInt32(*input.MaxUnavailable))
	}
	return o, nil
}

// checkDeployProbeAppInput checks what can be checked without the fixture.
func checkDeployProbeAppInput(input DeployProbeAppInput) error {
	var problems []string
	if input.Clientset == nil {
		problems = append(problems, "Clientset is required")
	}
	if input.Namespace == "" {
		problems = append(problems, "Namespace is required")
	}
	if input.Replicas < 0 {
		problems = append(problems, fmt.Sprintf("Replicas %d is negative", input.Replicas))
	}
	if input.MinAvailable != nil && input.MaxUnavailable != nil {
		problems = append(problems, "MinAvailable and MaxUnavailable are exclusive")
	}
	if input.WithoutPDB && (input.MinAvailable != nil || input.MaxUnavailable != nil) {
		problems = append(problems, "WithoutPDB excludes MinAvailable and MaxUnavailable")
	}
	if m := input.MinAvailable; m != nil && *m < 0 {
		problems = append(problems, fmt.Sprintf("MinAvailable %d is negative", *m))
	}
	if m := input.MaxUnavailable; m != nil && *m < 0 {
		problems = append(problems, fmt.Sprintf("MaxUnavailable %d is negative", *m))
	}
	if input.NodePort < 0 {
		problems = append(problems, fmt.Sprintf("NodePort %d is negative", input.NodePort))
	}
	if input.Persistent && input.Replicas > 1 {
		problems = append(problems, fmt.Sprintf("a Persistent app has 1 replica (its volume is ReadWriteOnce), not %d", input.Replicas))
	}
	if input.NodePort != 0 && input.AllocateNodePort {
		problems = append(problems, "NodePort and AllocateNodePort are exclusive")
	}
	if len(problems) > 0 {
		return fmt.Errorf("DeployProbeApp: %s", strings.Join(problems, "; "))
	}
	return nil
}

// DeployProbeApp deploys the probe-app fixture (fixtures/probe-app) into a
// namespace with server-side apply, as field manager FieldManager, so that
// deploying again converges on the input. It then waits until the
// Deployment is available, every replica updated and Ready, and returns the
// app as read back.
//
// intervals are the timeout and polling interval of the wait, as Eventually
// takes them (durations or duration strings, such as Intervals.Get returns);
// by default DefaultProbeAppTimeout and DefaultProbeAppInterval. When the wait
// fails, the error tells where the pods are and why they are not Ready, with
// the namespace's events.
//
// The image must be on the nodes or pullable: with a kind cluster, load
// ProbeAppImage first (cluster.ImageLoader).
func DeployProbeApp(ctx context.Context, input DeployProbeAppInput, intervals ...interface{}) (ProbeApp, error) {
	if err := checkDeployProbeAppInput(input); err != nil {
		return ProbeApp{}, err
	}
	timeout, interval, err := waitIntervals(intervals)
	if err != nil {
		return ProbeApp{}, fmt.Errorf("DeployProbeApp: %w", err)
	}
	o, err := probeAppManifests(input)
	if err != nil {
		return ProbeApp{}, err
	}
	cs, ns := input.Clientset, input.Namespace
	apply := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}

	// The budget first, so that it guards the pods from their start.
	if o.pdb != nil {
		if _, err := cs.PolicyV1().PodDisruptionBudgets(ns).Apply(ctx, o.pdb, apply); err != nil {
			return ProbeApp{}, fmt.Errorf("apply pdb %s/%s: %w", ns, o.pdbName, err)
		}
	} else {
		err := cs.PolicyV1().PodDisruptionBudgets(ns).Delete(ctx, o.pdbName, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return ProbeApp{}, fmt.Errorf("delete pdb %s/%s: %w", ns, o.pdbName, err)
		}
	}
	if o.pvc != nil {
		if _, err := cs.CoreV1().PersistentVolumeClaims(ns).Apply(ctx, o.pvc, apply); err != nil {
			return ProbeApp{}, fmt.Errorf("apply pvc %s/%s: %w", ns, ptr.Deref(o.pvc.Name, ""), err)
		}
	}
	for _, svc := range []*corev1ac.ServiceApplyConfiguration{o.service, o.nodePortService} {
		if _, err := cs.CoreV1().Services(ns).Apply(ctx, svc, apply); err != nil {
			return ProbeApp{}, fmt.Errorf("apply service %s/%s: %w", ns, ptr.Deref(svc.Name, ""), err)
		}
	}
	d, err := cs.AppsV1().Deployments(ns).Apply(ctx, o.deployment, apply)
	if err != nil {
		return ProbeApp{}, fmt.Errorf("apply deployment %s/%s: %w", ns, ptr.Deref(o.deployment.Name, ""), err)
	}

	var last *appsv1.Deployment
	err = wait.For(func(ctx context.Context) (bool, error) {
		got, err := cs.AppsV1().Deployments(ns).Get(ctx, d.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil // an API blip is not a failure of the app
		}
		last = got
		return deploymentReady(got), nil
	}, wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(interval), wait.WithImmediate())
	if err != nil {
		return ProbeApp{}, fmt.Errorf("wait %s for deployment %s/%s to be available: %w (%s)\n%s",
			timeout, ns, d.Name, err, deploymentStatusText(last), strings.TrimRight(describeAfter(ctx, input.Clientset, d), "\n"))
	}

	app := ProbeApp{Namespace: ns, Deployment: last}
	if app.Service, err = cs.CoreV1().Services(ns).Get(ctx, ptr.Deref(o.service.Name, ""), metav1.GetOptions{}); err != nil {
		return ProbeApp{}, fmt.Errorf("get service %s/%s: %w", ns, ptr.Deref(o.service.Name, ""), err)
	}
	if app.NodePortService, err = cs.CoreV1().Services(ns).Get(ctx, ptr.Deref(o.nodePortService.Name, ""), metav1.GetOptions{}); err != nil {
		return ProbeApp{}, fmt.Errorf("get service %s/%s: %w", ns, ptr.Deref(o.nodePortService.Name, ""), err)
	}
	if o.pdb != nil {
		if app.PDB, err = cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, o.pdbName, metav1.GetOptions{}); err != nil {
			return ProbeApp{}, fmt.Errorf("get pdb %s/%s: %w", ns, o.pdbName, err)
		}
	}
	if app.Pods, err = readyPods(ctx, cs, last); err != nil {
		return ProbeApp{}, err
	}
	return app, nil
}

// deploymentReady says whether a rollout is complete, as `kubectl rollout
// status` judges it, with every replica Ready and the Available condition
// true.
func deploymentReady(d *appsv1.Deployment) bool {
	want := ptr.Deref(d.Spec.Replicas, 1)
	s := d.Status
	if s.ObservedGeneration < d.Generation || s.Replicas != want || s.UpdatedReplicas != want ||
		s.ReadyReplicas != want || s.AvailableReplicas != want {
		return false
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func deploymentStatusText(d *appsv1.Deployment) string {
	if d == nil {
		return "deployment never read"
	}
	s := d.Status
	return fmt.Sprintf("generation %d observed %d, want %d replicas: %d, updated %d, ready %d, available %d",
		d.Generation, s.ObservedGeneration, ptr.Deref(d.Spec.Replicas, 1), s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
}

// describeAfter describes a Deployment's pods and events with a context of
// its own, since ctx may be what ran out.
func describeAfter(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return DescribeDeployment(ctx, cs, d)
}

// readyPods lists a Deployment's Ready pods that are not being deleted.
func readyPods(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	pods, err := cs.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list pods of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	var ready []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && podReady(&p) {
			ready = append(ready, p)
		}
	}
	return ready, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// DeleteProbeAppInput is the input of DeleteProbeApp.
type DeleteProbeAppInput struct {
	Clientset kubernetes.Interface
	Namespace string
}

// DeleteProbeApp deletes the probe-app fixture from a namespace and waits
// until its Deployment and pods are gone, so that the next drill starts from
// nothing and its node port is free. What is already gone is not an error,
// so it can be called again. intervals are as DeployProbeApp's.
func DeleteProbeApp(ctx context.Context, input DeleteProbeAppInput, intervals ...interface{}) error {
	var problems []string
	if input.Clientset == nil {
		problems = append(problems, "Clientset is required")
	}
	if input.Namespace == "" {
		problems = append(problems, "Namespace is required")
	}
	timeout, interval, err := waitIntervals(intervals)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("DeleteProbeApp: %s", strings.Join(problems, "; "))
	}
	o, err := probeAppManifests(DeployProbeAppInput{Namespace: input.Namespace})
	if err != nil {
		return err
	}
	cs, ns := input.Clientset, input.Namespace
	name := ptr.Deref(o.deployment.Name, "")
	var errs []error
	selector := labels.SelectorFromSet(o.deployment.Spec.Selector.MatchLabels).String()

	ignoreNotFound := func(err error) error {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	// Foreground: the Deployment goes only once its ReplicaSets and pods
	// have.
	if err := ignoreNotFound(cs.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationForeground),
	})); err != nil {
		errs = append(errs, fmt.Errorf("delete deployment %s/%s: %w", ns, name, err))
	}
	for _, svc := range []string{ptr.Deref(o.service.Name, ""), ptr.Deref(o.nodePortService.Name, "")} {
		if err := ignoreNotFound(cs.CoreV1().Services(ns).Delete(ctx, svc, metav1.DeleteOptions{})); err != nil {
			errs = append(errs, fmt.Errorf("delete service %s/%s: %w", ns, svc, err))
		}
	}
	if err := ignoreNotFound(cs.PolicyV1().PodDisruptionBudgets(ns).Delete(ctx, o.pdbName, metav1.DeleteOptions{})); err != nil {
		errs = append(errs, fmt.Errorf("delete pdb %s/%s: %w", ns, o.pdbName, err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	left := "nothing read yet"
	err = wait.For(func(ctx context.Context) (bool, error) {
		_, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			left = "deployment " + name + " is still there"
			return false, nil
		case !apierrors.IsNotFound(err):
			left = "get deployment: " + err.Error()
			return false, nil
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			left = "list pods: " + err.Error()
			return false, nil
		}
		if n := len(pods.Items); n > 0 {
			left = fmt.Sprintf("%d pods are left, such as %s", n, pods.Items[0].Name)
			return false, nil
		}
		return true, nil
	}, wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(interval), wait.WithImmediate())
	if err != nil {
		return fmt.Errorf("wait %s for probe-app to be gone from %s: %w (%s)", timeout, ns, err, left)
	}
	return nil
}

// waitIntervals reads the timeout and polling interval of a wait the way
// Eventually does: time.Duration or a duration string, in that order, each
// optional.
func waitIntervals(intervals []interface{}) (timeout, interval time.Duration, err error) {
	timeout, interval = DefaultProbeAppTimeout, DefaultProbeAppInterval
	if len(intervals) > 2 {
		return 0, 0, fmt.Errorf("intervals: %d given, want at most a timeout and a polling interval", len(intervals))
	}
	for i, v := range intervals {
		var d time.Duration
		switch v := v.(type) {
		case time.Duration:
			d = v
		case string:
			if d, err = time.ParseDuration(v); err != nil {
				return 0, 0, fmt.Errorf("intervals: %w", err)
			}
		default:
			return 0, 0, fmt.Errorf("intervals: %v (%T) is not a duration", v, v)
		}
		if d <= 0 {
			return 0, 0, fmt.Errorf("intervals: %s is not positive", d)
		}
		if i == 0 {
			timeout = d
		} else {
			interval = d
		}
	}
	return timeout, interval, nil
}
