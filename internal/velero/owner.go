package velero

import (
	"context"
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
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/install"

	"github.com/drill-sre/drill/internal/kube"
)

// Owned tells whether drill created obj: it carries drill's label
// (kube.LabelManagedBy), or, made by a drill older than that label, drill's
// field manager applied it (server-side apply, FieldManager). Drill changes
// and deletes only what it owns.
func Owned(obj metav1.Object) bool {
	if obj.GetLabels()[kube.LabelManagedBy] == kube.ManagedBy {
		return true
	}
	return slices.ContainsFunc(obj.GetManagedFields(), func(m metav1.ManagedFieldsEntry) bool {
		return m.Manager == FieldManager && m.Operation == metav1.ManagedFieldsOperationApply
	})
}

// Installation is what Installed found of Velero.
type Installation struct {
	// Found: Velero's CRDs are there, or its server in the namespace.
	Found bool
	// Foreign lists what of it drill did not install; none when Velero is
	// drill's or absent.
	Foreign []string
}

// IsForeign tells whether the Velero found is not drill's: then drill
// installs nothing of it and uses it as it is.
func (i Installation) IsForeign() bool { return len(i.Foreign) > 0 }

// backupsCRD is the CRD whose presence says Velero is installed.
const backupsCRD = "backups.velero.io"

// Installed looks for Velero: its CRD backups.velero.io and its server
// Deployment in the namespace, and whether drill installed them (Owned).
func (v *Velero) Installed(ctx context.Context) (Installation, error) {
	if err := v.check(); err != nil {
		return Installation{}, err
	}
	var inst Installation
	for _, o := range []struct {
		obj  client.Object
		key  client.ObjectKey
		what string
	}{
		{&apiextv1.CustomResourceDefinition{}, client.ObjectKey{Name: backupsCRD}, "CRD " + backupsCRD},
		{&appsv1.Deployment{}, client.ObjectKey{Namespace: v.Namespace, Name: DeploymentName}, "deployment " + objectName(v.Namespace, DeploymentName)},
	} {
		switch err := v.Client.Get(ctx, o.key, o.obj); {
		case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
			continue
		case err != nil:
			return inst, fmt.Errorf("look for Velero: get %s: %w", o.what, err)
		}
		inst.Found = true
		if !Owned(o.obj) {
			inst.Foreign = append(inst.Foreign, o.what)
		}
	}
	return inst, nil
}

// notDrills says why drill leaves a Velero object alone.
func notDrills(what string) string {
	return fmt.Sprintf("%s exists and drill did not create it (no label %s=%s): drill does not replace it", what, kube.LabelManagedBy, kube.ManagedBy)
}

// WaitServer waits until the server Deployment of a Velero drill uses as
// it is (one it did not install, or with a location of the user's) is
// available, and its node agent ready: drill backs volumes up with
// file-system backup, which the node agent does. Drill changes nothing of
// that Velero, so a server that is not available, or no node agent, is an
// error that says so.
func (v *Velero) WaitServer(ctx context.Context, timeout time.Duration) error {
	if err := v.check(); err != nil {
		return err
	}
	timeout = v.timeout(timeout)
	err := v.waitServer(ctx, timeout)
	if err == nil {
		err = v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: NodeAgentName}, &appsv1.DaemonSet{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("drill uses the Velero in namespace %s as it is, changing nothing of it, and it has no node agent (daemonset %s), "+
				"which backs the app's volume up (file-system backup): install Velero with --use-node-agent", v.Namespace, objectName(v.Namespace, NodeAgentName))
		}
		if err == nil {
			err = v.waitNodeAgent(ctx, timeout)
		}
	}
	if err != nil {
		return fmt.Errorf("drill uses the Velero in namespace %s as it is, changing nothing of it, and its server is not available: %w", v.Namespace, err)
	}
	return nil
}

// awsPlugin is the name of the AWS object-store plugin's image.
const awsPlugin = "velero-plugin-for-aws"

// hasAWSPlugin tells whether the server's pods load the AWS object-store
// plugin: `velero install --plugins` and `velero plugin add` run it as an
// initContainer that copies it into the server's pod.
func hasAWSPlugin(d *appsv1.Deployment) bool {
	return slices.ContainsFunc(d.Spec.Template.Spec.InitContainers, func(c corev1.Container) bool {
		name, _, _ := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":")
		name, _, _ = strings.Cut(name, "@")
		return name == awsPlugin
	})
}

// CheckAWSPlugin refuses a Velero drill did not install whose server does
// not load the AWS object-store plugin, which drill's location needs.
func (v *Velero) CheckAWSPlugin(ctx context.Context) error {
	if err := v.check(); err != nil {
		return err
	}
	d := &appsv1.Deployment{}
	if err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: DeploymentName}, d); err != nil {
		return fmt.Errorf("add backup location %s: get deployment %s: %w", LocationName, objectName(v.Namespace, DeploymentName), err)
	}
	if !hasAWSPlugin(d) {
		return fmt.Errorf("add backup location %s: the Velero in namespace %s, which drill did not install, has no AWS object-store plugin "+
			"(no initContainer runs %s), which drill's location in its S3 store needs; drill does not change that Velero: "+
			"name one of its backup locations in fault.params.backupLocation", LocationName, v.Namespace, awsPlugin)
	}
	return nil
}

// locationObjects returns drill's credentials Secret and its location in
// store, labelled as drill's, in namespace.
func locationObjects(namespace string, store Store) ([]unstructured.Unstructured, error) {
	sec := install.Secret(namespace, store.CredentialsFile())
	sec.Name = CredentialsSecret
	bsl := install.BackupStorageLocation(namespace, "aws", store.Bucket, store.Prefix, store.LocationConfig(), nil)
	bsl.Name = LocationName
	// Not the default: a user's install has its own, and drill names its
	// location in every backup and schedule.
	bsl.Spec.Default = false
	bsl.Spec.Credential = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: CredentialsSecret}, Key: CredentialsKey}
	var out []unstructured.Unstructured
	for _, obj := range []client.Object{sec, bsl} {
		kube.MarkManaged(obj)
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, fmt.Errorf("%T %s: %w", obj, obj.GetName(), err)
		}
		delete(m, "status")
		out = append(out, unstructured.Unstructured{Object: m})
	}
	return out, nil
}

// AddLocation adds drill's location (LocationName, with its credentials
// CredentialsSecret) to a Velero drill did not install, changing nothing
// else of it, and waits until Velero finds it Available. It refuses a
// server without the AWS object-store plugin, which the location needs, and
// a location or Secret of those names that is not drill's.
func (v *Velero) AddLocation(ctx context.Context, cfg InstallConfig) error {
	if err := v.check(); err != nil {
		return err
	}
	if err := cfg.Store.Validate(); err != nil {
		return err
	}
	if err := v.CheckAWSPlugin(ctx); err != nil {
		return err
	}
	objs, err := locationObjects(v.Namespace, cfg.Store)
	if err != nil {
		return fmt.Errorf("add backup location %s: %w", LocationName, err)
	}
	var before []string // each object's resourceVersion, "" if absent
	for i := range objs {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(objs[i].GroupVersionKind())
		switch err := v.Client.Get(ctx, client.ObjectKeyFromObject(&objs[i]), cur); {
		case apierrors.IsNotFound(err):
			before = append(before, "")
			continue
		case err != nil:
			return fmt.Errorf("add backup location %s: get %s %s: %w", LocationName, objs[i].GetKind(), objs[i].GetName(), err)
		case !Owned(cur):
			return fmt.Errorf("add backup location %s: %s", LocationName, notDrills(strings.ToLower(objs[i].GetKind())+" "+objectName(v.Namespace, objs[i].GetName())))
		}
		before = append(before, cur.GetResourceVersion())
	}
	applied := time.Now()
	changed := false
	for i := range objs {
		if err := v.apply(ctx, &objs[i]); err != nil {
			return err
		}
		after := &unstructured.Unstructured{}
		after.SetGroupVersionKind(objs[i].GroupVersionKind())
		if err := v.Client.Get(ctx, client.ObjectKeyFromObject(&objs[i]), after); err != nil {
			return fmt.Errorf("add backup location %s: get %s %s: %w", LocationName, objs[i].GetKind(), objs[i].GetName(), err)
		}
		changed = changed || after.GetResourceVersion() != before[i]
	}
	v.logger().V(0).Infof("Backup location %s: bucket %s at %s, in the Velero of namespace %s, which drill did not install", LocationName, cfg.Store.Bucket, cfg.Store.URL, v.Namespace)
	staleBefore := time.Time{}
	if changed {
		// Velero validates a new or changed location within its
		// validation frequency; a phase from before is not the verdict.
		staleBefore = applied
	}
	if err := v.waitLocation(ctx, LocationName, staleBefore, v.timeout(cfg.Timeout)); err != nil {
		return fmt.Errorf("add backup location %s: %w", LocationName, err)
	}
	return nil
}

// UseLocation checks a location of the user's that drill is to back up to,
// changing nothing of it: it must exist, take backups (not ReadOnly), and
// be Available, as Velero last found it (waited for up to timeout while
// Velero has not validated it yet).
func (v *Velero) UseLocation(ctx context.Context, name string, timeout time.Duration) error {
	if err := v.check(); err != nil {
		return err
	}
	bsl := &velerov1.BackupStorageLocation{}
	what := "backup storage location " + objectName(v.Namespace, name)
	switch err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: name}, bsl); {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return fmt.Errorf("%s (fault.params.backupLocation) does not exist: drill backs up only to a location that is there, and creates none when one is named", what)
	case err != nil:
		return fmt.Errorf("get %s: %w", what, err)
	}
	if bsl.Spec.AccessMode == velerov1.BackupStorageLocationAccessModeReadOnly {
		return fmt.Errorf("%s (fault.params.backupLocation) is ReadOnly: Velero takes no backup to it", what)
	}
	if err := v.waitLocation(ctx, name, time.Time{}, v.timeout(timeout)); err != nil {
		return fmt.Errorf("%s (fault.params.backupLocation), which drill does not change: %w", what, err)
	}
	return nil
}

// CheckSchedule refuses a Schedule name that an object drill did not
// create holds, as Schedule would, before anything else is created.
func (v *Velero) CheckSchedule(ctx context.Context, name string) error {
	if err := v.check(); err != nil {
		return err
	}
	s := &velerov1.Schedule{}
	switch err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: name}, s); {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return nil
	case err != nil:
		return fmt.Errorf("get schedule %s: %w", objectName(v.Namespace, name), err)
	case !Owned(s):
		return errors.New(notDrills("schedule " + objectName(v.Namespace, name)))
	}
	return nil
}

// DeleteSchedule deletes the Schedule name if drill created it (Owned).
// One that is gone is fine; one that is not drill's is left as it is, and
// left says so.
func (v *Velero) DeleteSchedule(ctx context.Context, name string) (left bool, err error) {
	if err := v.check(); err != nil {
		return false, err
	}
	s := &velerov1.Schedule{}
	what := "schedule " + objectName(v.Namespace, name)
	switch err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: name}, s); {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get %s: %w", what, err)
	}
	if !Owned(s) {
		v.logger().Warnf("%s is not drill's (no label %s=%s): left as it is", what, kube.LabelManagedBy, kube.ManagedBy)
		return true, nil
	}
	// Only the one drill's Get saw: not one made since by someone else.
	uid := s.UID
	if err := v.Client.Delete(ctx, s, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("delete %s: %w", what, err)
	}
	return false, nil
}
