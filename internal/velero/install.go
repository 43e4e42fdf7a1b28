package velero

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	velerov2alpha1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v2alpha1"
	"github.com/vmware-tanzu/velero/pkg/install"
	"github.com/vmware-tanzu/velero/pkg/uploader"
	kubeutil "github.com/vmware-tanzu/velero/pkg/util/kube"

	"github.com/drill-sre/drill/internal/kube"
)

// InstallConfig is what Install installs.
type InstallConfig struct {
	Store Store
	// Image is Velero's server image (DefaultImage); the node agent and
	// the restore helper run it too.
	Image string
	// PluginImage is the AWS object-store plugin (DefaultPluginImage), run
	// as an initContainer that copies the plugin into the server's pod.
	PluginImage string
	// Timeout bounds each of Install's waits: the CRDs established, the
	// server available, the node agent ready, the location Available.
	Timeout time.Duration
}

func (c InstallConfig) images() (server, plugin string) {
	server, plugin = c.Image, c.PluginImage
	if server == "" {
		server = DefaultImage
	}
	if plugin == "" {
		plugin = DefaultPluginImage
	}
	return server, plugin
}

// Resources returns what Install applies into namespace, in order: Velero's
// CRDs, the namespace, the cluster role binding and service account, drill's
// credentials Secret CredentialsSecret and BackupStorageLocation
// LocationName, the server Deployment and the
// node-agent DaemonSet. They are built by Velero's install package from the
// options `velero install` would get from
//
//	--provider aws --plugins PLUGIN --image IMAGE
//	--no-default-backup-location --no-secret
//	--use-node-agent --uploader-type kopia --default-volumes-to-fs-backup
//	--use-volume-snapshots=false
//
// and the location as `velero backup-location create drill-s3 --provider aws
// --bucket B --prefix P --config (Store.LocationConfig) --credential
// drill-s3-credentials=cloud` would make it: the server has no credentials
// of its own, only the location has, under names that are not Velero's
// defaults ("default", "cloud-credentials"), which a user's install has.
//
// The pods carry a hash of the credentials (CredentialsAnnotation), so that
// new credentials roll them, and Velero validates the location again; and
// every container pulls IfNotPresent: the images are loaded into the nodes,
// there is no registry to pull from. (Velero chooses IfNotPresent itself
// only for an image name with exactly one ':'.)
func Resources(namespace string, cfg InstallConfig) (*unstructured.UnstructuredList, error) {
	if namespace == "" {
		return nil, errors.New("velero resources: namespace is empty")
	}
	if err := cfg.Store.Validate(); err != nil {
		return nil, err
	}
	server, plugin := cfg.images()
	serverRes, err := kubeutil.ParseCPUAndMemoryResources(install.DefaultVeleroPodCPURequest, install.DefaultVeleroPodMemRequest,
		install.DefaultVeleroPodCPULimit, install.DefaultVeleroPodMemLimit)
	if err != nil {
		return nil, fmt.Errorf("velero resources: server pod resources: %w", err)
	}
	agentRes, err := kubeutil.ParseCPUAndMemoryResources(install.DefaultNodeAgentPodCPURequest, install.DefaultNodeAgentPodMemRequest,
		install.DefaultNodeAgentPodCPULimit, install.DefaultNodeAgentPodMemLimit)
	if err != nil {
		return nil, fmt.Errorf("velero resources: node agent pod resources: %w", err)
	}
	sum := sha256.Sum256(cfg.Store.CredentialsFile())
	list := install.AllResources(&install.VeleroOptions{
		Namespace:                namespace,
		PodAnnotations:           map[string]string{CredentialsAnnotation: hex.EncodeToString(sum[:8])},
		Image:                    server,
		ProviderName:             "aws",
		VeleroPodResources:       serverRes,
		NodeAgentPodResources:    agentRes,
		NoDefaultBackupLocation:  true,
		UseNodeAgent:             true,
		UseVolumeSnapshots:       false,
		Plugins:                  []string{plugin},
		DefaultVolumesToFsBackup: true,
		UploaderType:             uploader.KopiaType,
		// `velero install` defaults it; without it the node agent's
		// host paths are relative.
		KubeletRootDir: install.DefaultKubeletRootDir,
	})
	for i := range list.Items {
		if err := adapt(&list.Items[i]); err != nil {
			return nil, fmt.Errorf("velero resources: %w", err)
		}
	}
	loc, err := locationObjects(namespace, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("velero resources: %w", err)
	}
	// Before the server, as Velero's install puts its location.
	at := slices.IndexFunc(list.Items, func(u unstructured.Unstructured) bool { return u.GetKind() == "Deployment" })
	if at < 0 {
		at = len(list.Items)
	}
	list.Items = slices.Insert(list.Items, at, loc...)
	return list, nil
}

// CredentialsAnnotation is the pod template annotation that carries a hash
// of the store's credentials.
const CredentialsAnnotation = "drill.sre/credentials-sha256"

// adapt sets every container of a Deployment or DaemonSet to pull only
// images the node does not have, and has the server's Deployment replace
// its pod rather than roll it: two servers at once would both act on the
// same backups, and a second pod needs room for another 500m CPU request,
// which a small node lacks.
func adapt(u *unstructured.Unstructured) error {
	var obj runtime.Object
	var spec *corev1.PodSpec
	switch u.GetKind() {
	case "Deployment":
		d := &appsv1.Deployment{}
		obj, spec = d, &d.Spec.Template.Spec
	case "DaemonSet":
		d := &appsv1.DaemonSet{}
		obj, spec = d, &d.Spec.Template.Spec
	default:
		return nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	if d, ok := obj.(*appsv1.Deployment); ok {
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			cs[i].ImagePullPolicy = corev1.PullIfNotPresent
		}
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	delete(m, "status") // as Velero's install package does: nothing to say
	u.Object = m
	return nil
}

// Install installs Velero into the namespace (see Resources), or brings an
// installation of drill's up to date, with server-side apply, every object
// labelled as drill's. It then waits, logging progress, until the server
// Deployment is available, the node agent is ready on every node and drill's
// BackupStorageLocation is Available. A location Velero finds Unavailable
// (the store unreachable, the bucket missing, the credentials refused) fails
// Install with Velero's message. A Velero drill did not install (Installed)
// is refused before anything is applied: use it as it is (WaitServer,
// AddLocation or UseLocation).
func (v *Velero) Install(ctx context.Context, cfg InstallConfig) error {
	if err := v.check(); err != nil {
		return err
	}
	resources, err := Resources(v.Namespace, cfg)
	if err != nil {
		return err
	}
	switch inst, err := v.Installed(ctx); {
	case err != nil:
		return fmt.Errorf("install velero: %w", err)
	case inst.IsForeign():
		return fmt.Errorf("install velero: drill did not install the Velero there (%s) and does not overwrite it", strings.Join(inst.Foreign, ", "))
	}
	timeout := v.timeout(cfg.Timeout)
	server, plugin := cfg.images()
	v.logger().V(0).Infof("Installing Velero (%s, plugin %s) into namespace %s; location %s: bucket %s at %s",
		server, plugin, v.Namespace, LocationName, cfg.Store.Bucket, cfg.Store.URL)

	// A namespace still terminating (an Uninstall) takes no new objects.
	if err := v.waitNamespaceGone(ctx, timeout, true); err != nil {
		return fmt.Errorf("install velero: %w", err)
	}
	before, err := v.generations(ctx)
	if err != nil {
		return fmt.Errorf("install velero: %w", err)
	}

	applied := time.Now()
	var crds, others []*unstructured.Unstructured
	for i := range resources.Items {
		if u := &resources.Items[i]; u.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, u)
		} else {
			others = append(others, u)
		}
	}
	for _, u := range crds {
		if err := v.apply(ctx, u); err != nil {
			return err
		}
	}
	if err := v.waitFor(ctx, timeout, fmt.Sprintf("Velero's %d CRDs established", len(crds)), func(ctx context.Context) (bool, string, error) {
		return v.crdsEstablished(ctx, crds)
	}); err != nil {
		return fmt.Errorf("install velero: %w", err)
	}
	for _, u := range others {
		if err := v.apply(ctx, u); err != nil {
			return err
		}
	}
	v.logger().V(0).Infof("Applied %d objects of Velero into %s", len(resources.Items), v.Namespace)

	if err := v.waitServer(ctx, timeout); err != nil {
		return fmt.Errorf("install velero: %w", err)
	}
	if err := v.waitNodeAgent(ctx, timeout); err != nil {
		return fmt.Errorf("install velero: %w", err)
	}

	// Velero validates a location again when its spec changes, and a new
	// server (new credentials, a new image) validates them all when it
	// starts: a phase from before the apply, or from before the new server
	// ran, is then stale. (The Deployment is available as soon as the
	// server's container runs, before its controllers do.)
	after, err := v.generations(ctx)
	if err != nil {
		return fmt.Errorf("install velero: %w", err)
	}
	staleBefore := time.Time{}
	if after != before {
		staleBefore = applied
		if started := v.serverStarted(ctx); started.After(staleBefore) {
			staleBefore = started
		}
	}
	if err := v.waitLocation(ctx, LocationName, staleBefore, timeout); err != nil {
		return fmt.Errorf("install velero: %w", err)
	}
	v.logger().V(0).Infof("Velero is installed in %s (%s)", v.Namespace, time.Since(applied).Round(100*time.Millisecond))
	return nil
}

// waitServer waits until the server Deployment is available.
func (v *Velero) waitServer(ctx context.Context, timeout time.Duration) error {
	d := &appsv1.Deployment{}
	return v.waitPods(ctx, timeout, "deployment", DeploymentName, "available", d, func() (bool, string, *metav1.LabelSelector) {
		ok, desc := kube.DeploymentReady(d)
		return ok, desc, d.Spec.Selector
	})
}

// waitNodeAgent waits until the node agent is ready on every node.
func (v *Velero) waitNodeAgent(ctx context.Context, timeout time.Duration) error {
	ds := &appsv1.DaemonSet{}
	return v.waitPods(ctx, timeout, "daemonset", NodeAgentName, "ready", ds, func() (bool, string, *metav1.LabelSelector) {
		ok, desc := kube.DaemonSetReady(ds)
		return ok, desc, ds.Spec.Selector
	})
}

// waitPods waits until ready finds obj, read as name in the namespace,
// ready, and names its pods' problems while it is not.
func (v *Velero) waitPods(ctx context.Context, timeout time.Duration, kind, name, state string, obj client.Object,
	ready func() (bool, string, *metav1.LabelSelector)) error {
	return v.waitFor(ctx, timeout, fmt.Sprintf("%s %s %s", kind, objectName(v.Namespace, name), state), func(ctx context.Context) (bool, string, error) {
		if err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: name}, obj); err != nil {
			return false, err.Error(), nil
		}
		ok, desc, sel := ready()
		if !ok && sel != nil {
			desc = withPodProblems(desc, v.podProblems(ctx, sel.MatchLabels))
		}
		return ok, desc, nil
	})
}

// generations returns the generations of the location and of the server's
// Deployment, -1 for one that does not exist.
func (v *Velero) generations(ctx context.Context) ([2]int64, error) {
	gens := [2]int64{-1, -1}
	for i, obj := range []client.Object{&velerov1.BackupStorageLocation{}, &appsv1.Deployment{}} {
		name := LocationName
		if i == 1 {
			name = DeploymentName
		}
		switch err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: name}, obj); {
		case err == nil:
			gens[i] = obj.GetGeneration()
		case !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err):
			return gens, fmt.Errorf("get %T %s/%s: %w", obj, v.Namespace, name, err)
		}
	}
	return gens, nil
}

// serverStarted returns when the newest running server container started,
// zero if unknown.
func (v *Velero) serverStarted(ctx context.Context) time.Time {
	d := &appsv1.Deployment{}
	if err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: DeploymentName}, d); err != nil || d.Spec.Selector == nil {
		return time.Time{}
	}
	pods := &corev1.PodList{}
	if err := v.Client.List(ctx, pods, client.InNamespace(v.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
		return time.Time{}
	}
	var newest time.Time
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if r := cs.State.Running; cs.Name == DeploymentName && r != nil && r.StartedAt.After(newest) {
				newest = r.StartedAt.Time
			}
		}
	}
	return newest
}

// apply server-side applies one object as FieldManager, taking over fields
// others set.
func (v *Velero) apply(ctx context.Context, u *unstructured.Unstructured) error {
	obj := u.DeepCopy()
	kube.MarkManaged(obj)
	if err := v.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("install velero: apply %s %s: %w", u.GetKind(), objectName(u.GetNamespace(), u.GetName()), err)
	}
	return nil
}

func objectName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// crdsEstablished tells whether the API server serves every CRD.
func (v *Velero) crdsEstablished(ctx context.Context, crds []*unstructured.Unstructured) (bool, string, error) {
	var pending []string
	for _, u := range crds {
		crd := &apiextv1.CustomResourceDefinition{}
		if err := v.Client.Get(ctx, client.ObjectKey{Name: u.GetName()}, crd); err != nil {
			return false, err.Error(), nil
		}
		if !crdEstablished(crd) {
			pending = append(pending, crd.Name)
		}
	}
	if len(pending) > 0 {
		return false, "not yet established: " + strings.Join(pending, ", "), nil
	}
	return true, "", nil
}

func crdEstablished(crd *apiextv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextv1.Established && c.Status == apiextv1.ConditionTrue {
			return true
		}
	}
	return false
}

// podProblems describes why the pods matching selector are not running:
// containers waiting (an image that is not on the node, a crash loop) or
// pods unschedulable. Best effort: an error reading them says nothing.
func (v *Velero) podProblems(ctx context.Context, selector map[string]string) []string {
	pods := &corev1.PodList{}
	if err := v.Client.List(ctx, pods, client.InNamespace(v.Namespace), client.MatchingLabels(selector)); err != nil {
		return nil
	}
	return kube.PodProblems(pods.Items, "")
}

func withPodProblems(desc string, problems []string) string {
	if len(problems) == 0 {
		return desc
	}
	return desc + "; " + strings.Join(problems, "; ")
}

// WaitLocationAvailable waits until Velero finds BackupStorageLocation name
// Available. Unavailable is an error carrying Velero's message; timeout 0
// is the Velero's Timeout.
func (v *Velero) WaitLocationAvailable(ctx context.Context, name string, timeout time.Duration) error {
	if err := v.check(); err != nil {
		return err
	}
	return v.waitLocation(ctx, name, time.Time{}, v.timeout(timeout))
}

// waitLocation waits for the location's verdict; one Velero reached before
// staleBefore is not taken.
func (v *Velero) waitLocation(ctx context.Context, name string, staleBefore time.Time, timeout time.Duration) error {
	return v.waitFor(ctx, timeout, fmt.Sprintf("backup storage location %s/%s available", v.Namespace, name), func(ctx context.Context) (bool, string, error) {
		bsl := &velerov1.BackupStorageLocation{}
		if err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: name}, bsl); err != nil {
			return false, err.Error(), nil
		}
		return locationVerdict(bsl, staleBefore)
	})
}

// locationVerdict reads a location's phase: done when Available, an error
// when Unavailable. A phase validated before staleBefore (to the second, as
// the API keeps it) is waited past.
func locationVerdict(bsl *velerov1.BackupStorageLocation, staleBefore time.Time) (bool, string, error) {
	st := bsl.Status
	validated := st.LastValidationTime
	if !staleBefore.IsZero() && (validated == nil || validated.Time.Before(staleBefore.Truncate(time.Second))) {
		if st.Phase == "" {
			return false, "not yet validated", nil
		}
		return false, fmt.Sprintf("%s before the install changed it; waiting for Velero to validate it again", st.Phase), nil
	}
	switch st.Phase {
	case velerov1.BackupStorageLocationPhaseAvailable:
		return true, string(st.Phase), nil
	case velerov1.BackupStorageLocationPhaseUnavailable:
		msg := st.Message
		if msg == "" {
			msg = "Velero gave no message (see the velero deployment's log)"
		}
		return false, "", fmt.Errorf("%s is Unavailable: %s", describeLocation(bsl), msg)
	default:
		return false, "not yet validated", nil
	}
}

// describeLocation names a location with where it points: bucket, prefix,
// URL.
func describeLocation(bsl *velerov1.BackupStorageLocation) string {
	where := ""
	if st := bsl.Spec.ObjectStorage; st != nil {
		where = "bucket " + st.Bucket
		if st.Prefix != "" {
			where += " prefix " + st.Prefix
		}
	}
	if u := bsl.Spec.Config["s3Url"]; u != "" {
		where += " at " + u
	}
	return fmt.Sprintf("backup storage location %s/%s (%s)", bsl.Namespace, bsl.Name, strings.TrimSpace(where))
}

// Uninstall removes what Install created: the namespace with everything in
// it, the cluster role binding and Velero's CRDs (with them every Velero
// object in the cluster, as `velero uninstall` does). Restores and data
// movements are deleted first, while Velero still runs to release their
// finalizers; those it has not released within a minute are released here.
// It waits until the namespace and the CRDs are gone, and is idempotent.
func (v *Velero) Uninstall(ctx context.Context) error {
	if err := v.check(); err != nil {
		return err
	}
	timeout := v.timeout(0)
	start := time.Now()
	v.logger().V(0).Infof("Uninstalling Velero from namespace %s", v.Namespace)
	if err := v.deleteFinalized(ctx, min(timeout, time.Minute)); err != nil {
		return fmt.Errorf("uninstall velero: %w", err)
	}
	ns := &corev1.Namespace{}
	ns.Name = v.Namespace
	if err := v.Client.Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("uninstall velero: delete namespace %s: %w", v.Namespace, err)
	}
	if err := v.waitNamespaceGone(ctx, timeout, false); err != nil {
		return fmt.Errorf("uninstall velero: %w", err)
	}
	crb := install.ClusterRoleBinding(v.Namespace)
	if err := v.Client.Delete(ctx, crb); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("uninstall velero: delete cluster role binding %s: %w", crb.Name, err)
	}
	veleroLabels := client.MatchingLabels(install.Labels())
	if err := v.Client.DeleteAllOf(ctx, &apiextv1.CustomResourceDefinition{}, veleroLabels); err != nil {
		return fmt.Errorf("uninstall velero: delete the CRDs labelled %s: %w", labels.Set(install.Labels()), err)
	}
	if err := v.waitFor(ctx, timeout, "Velero's CRDs deleted", func(ctx context.Context) (bool, string, error) {
		list := &apiextv1.CustomResourceDefinitionList{}
		if err := v.Client.List(ctx, list, veleroLabels); err != nil {
			return false, err.Error(), nil
		}
		return len(list.Items) == 0, fmt.Sprintf("%d left", len(list.Items)), nil
	}); err != nil {
		return fmt.Errorf("uninstall velero: %w", err)
	}
	v.logger().V(0).Infof("Velero is uninstalled from %s (%s)", v.Namespace, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// finalized lists the Velero objects whose finalizers Velero's server
// releases: deleting the namespace without them first would leave it
// terminating for good once the server is gone.
func finalized() []client.ObjectList {
	return []client.ObjectList{&velerov1.RestoreList{}, &velerov2alpha1.DataUploadList{}, &velerov2alpha1.DataDownloadList{}}
}

// deleteFinalized deletes the namespace's restores and data movements and
// waits up to grace for Velero to release them, then releases what remains.
func (v *Velero) deleteFinalized(ctx context.Context, grace time.Duration) error {
	listAll := func(ctx context.Context) ([]client.Object, error) {
		var objs []client.Object
		for _, list := range finalized() {
			if err := v.Client.List(ctx, list, client.InNamespace(v.Namespace)); err != nil {
				if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
					continue // no such CRD: nothing to delete
				}
				return nil, fmt.Errorf("list %T in %s: %w", list, v.Namespace, err)
			}
			items, err := meta.ExtractList(list)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				objs = append(objs, it.(client.Object))
			}
		}
		return objs, nil
	}
	objs, err := listAll(ctx)
	if err != nil || len(objs) == 0 {
		return err
	}
	for _, o := range objs {
		if err := v.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
	}
	err = v.waitFor(ctx, grace, fmt.Sprintf("%d restores and data movements released by Velero", len(objs)), func(ctx context.Context) (bool, string, error) {
		left, err := listAll(ctx)
		if err != nil {
			return false, err.Error(), nil
		}
		return len(left) == 0, fmt.Sprintf("%d left", len(left)), nil
	})
	if err == nil || ctx.Err() != nil {
		return err
	}
	left, lerr := listAll(ctx)
	if lerr != nil {
		return lerr
	}
	v.logger().Warnf("Velero did not release %d restores and data movements in %s: removing their finalizers", len(left), grace)
	for _, o := range left {
		patch := client.MergeFrom(o.DeepCopyObject().(client.Object))
		o.SetFinalizers(nil)
		if err := v.Client.Patch(ctx, o, patch); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("remove the finalizers of %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}

// waitNamespaceGone waits until the namespace no longer exists. With
// onlyTerminating, a namespace that is not being deleted is fine as it is.
func (v *Velero) waitNamespaceGone(ctx context.Context, timeout time.Duration, onlyTerminating bool) error {
	return v.waitFor(ctx, timeout, fmt.Sprintf("namespace %s deleted", v.Namespace), func(ctx context.Context) (bool, string, error) {
		ns := &corev1.Namespace{}
		err := v.Client.Get(ctx, client.ObjectKey{Name: v.Namespace}, ns)
		switch {
		case apierrors.IsNotFound(err):
			return true, "", nil
		case err != nil:
			return false, err.Error(), nil
		case ns.DeletionTimestamp == nil && onlyTerminating:
			return true, "", nil
		}
		desc := string(ns.Status.Phase)
		for _, c := range ns.Status.Conditions {
			if c.Status == corev1.ConditionTrue && c.Message != "" {
				desc += "; " + c.Message
			}
		}
		return false, desc, nil
	})
}
