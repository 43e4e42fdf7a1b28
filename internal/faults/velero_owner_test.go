package faults

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/kube"
	"github.com/drill-sre/drill/internal/velero"
	"github.com/drill-sre/drill/scenarios"
)

const ns = velero.DefaultNamespace

// usersVelero is a Velero a user installed (`velero install` and `velero
// schedule create daily-backup`): nothing of it labelled as drill's.
func usersVelero(plugin bool) []client.Object {
	sel := map[string]string{"deploy": "velero"}
	var inits []corev1.Container
	if plugin {
		inits = []corev1.Container{{Name: "velero-velero-plugin-for-aws", Image: "velero/velero-plugin-for-aws:v1.14.3"}}
	}
	return []client.Object{
		&apiextv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "backups.velero.io", Labels: map[string]string{"component": "velero"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"component": "velero"}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "velero"},
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cloud-credentials"}, Data: map[string][]byte{"cloud": []byte("[default]\naws_access_key_id=USER\n")}},
		&velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"},
			Spec: velerov1.BackupStorageLocationSpec{Provider: "aws", Default: true,
				StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "users-bucket"}}},
			Status: velerov1.BackupStorageLocationStatus{Phase: velerov1.BackupStorageLocationPhaseAvailable}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: velero.DeploymentName},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: sel},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel}, Spec: corev1.PodSpec{
					InitContainers: inits, Containers: []corev1.Container{{Name: "velero", Image: "velero/velero:v1.18.3"}}}}},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}},
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: velero.NodeAgentName},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, NumberReady: 2, UpdatedNumberScheduled: 2, NumberAvailable: 2}},
		&velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "daily-backup"},
			Spec:   velerov1.ScheduleSpec{Schedule: "0 2 * * *", Template: velerov1.BackupSpec{StorageLocation: "default"}},
			Status: velerov1.ScheduleStatus{Phase: velerov1.SchedulePhaseEnabled}},
	}
}

// lists are the kinds the tests look through for what changed.
func lists() []client.ObjectList {
	return []client.ObjectList{&apiextv1.CustomResourceDefinitionList{}, &corev1.NamespaceList{}, &rbacv1.ClusterRoleBindingList{},
		&corev1.SecretList{}, &velerov1.BackupStorageLocationList{}, &appsv1.DeploymentList{}, &appsv1.DaemonSetList{},
		&velerov1.ScheduleList{}, &velerov1.BackupList{}}
}

// objectsOf returns every object of lists(), by kind/namespace/name.
func objectsOf(t *testing.T, c client.Client) map[string]client.Object {
	t.Helper()
	out := map[string]client.Object{}
	for _, l := range lists() {
		if err := c.List(t.Context(), l); err != nil {
			t.Fatal(err)
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			o := it.(client.Object)
			out[fmt.Sprintf("%T %s/%s", o, o.GetNamespace(), o.GetName())] = o
		}
	}
	return out
}

// fakeVelero plays Velero on a fake client holding objs: locations
// validated Available (unless unavailable names them), schedules Enabled,
// backups Completed with their pod volume backed up.
func fakeVelero(t *testing.T, run string, unavailable []string, objs ...client.Object) client.Client {
	t.Helper()
	scheme, err := velero.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	pvb := &velerov1.PodVolumeBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: run + "-vol", Labels: map[string]string{velerov1.BackupNameLabel: run}},
		Status: velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseCompleted}}
	return ctrlfake.NewClientBuilder().WithScheme(scheme).WithObjects(append(objs, pvb)...).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			now := &metav1.Time{Time: time.Now().Add(time.Second)}
			switch o := obj.(type) {
			case *velerov1.BackupStorageLocation:
				if o.Status.Phase == "" {
					o.Status.Phase, o.Status.LastValidationTime = velerov1.BackupStorageLocationPhaseAvailable, now
				}
				if slices.Contains(unavailable, o.Name) {
					o.Status.Phase, o.Status.Message = velerov1.BackupStorageLocationPhaseUnavailable, "the bucket is gone"
				}
			case *velerov1.Schedule:
				if o.Status.Phase == "" {
					o.Status.Phase = velerov1.SchedulePhaseEnabled
				}
			case *velerov1.Backup:
				o.Status = velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, StartTimestamp: now, CompletionTimestamp: now}
			}
			return nil
		},
	}).Build()
}

func testVeleroRestore(c client.Client, p *scenarios.VeleroRestoreParams) *veleroRestore {
	v := velero.New(c, "", nil)
	v.Interval, v.Timeout = 5*time.Millisecond, 2*time.Second
	p.BackupTimeout = 2 * time.Second
	f := &veleroRestore{env: Env{Namespace: "app", Deployment: "probe-app", Logger: log.NoopLogger{}, Timeout: time.Second},
		sc: &scenarios.Scenario{Name: "velero-restore"}, p: p, v: v, c: c, run: "drill-1", steps: stepLog{locator: LocatorVelero}}
	f.store = func(context.Context) (velero.Store, error) {
		return velero.Store{URL: "http://versitygw.drill-s3.svc:7070", Bucket: "velero", AccessKey: "a", SecretKey: "s"}, nil
	}
	return f
}

// A Velero drill did not install, with its location default, credentials
// cloud-credentials and Schedule daily-backup: the drill changes none of
// them, and creates only objects labelled as drill's, with drill's names.
func TestVeleroRestoreLeavesAUsersVeleroAsItWas(t *testing.T) {
	c := fakeVelero(t, "drill-1", nil, usersVelero(true)...)
	before := objectsOf(t, c)
	f := testVeleroRestore(c, &scenarios.VeleroRestoreParams{Schedule: "0 2 * * *"})
	target, err := f.Target(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(target, "to location "+velero.LocationName) {
		t.Errorf("target %q does not name location %s", target, velero.LocationName)
	}
	after := objectsOf(t, c)
	for k, o := range before {
		if !reflect.DeepEqual(after[k], o) {
			t.Errorf("%s changed:\n  before %+v\n  after  %+v", k, o, after[k])
		}
	}
	var created []string
	for k, o := range after {
		if before[k] != nil {
			continue
		}
		created = append(created, k)
		if o.GetLabels()[kube.LabelManagedBy] != kube.ManagedBy {
			t.Errorf("%s created without drill's label: %v", k, o.GetLabels())
		}
	}
	slices.Sort(created)
	want := []string{
		"*v1.Backup velero/drill-1",
		"*v1.BackupStorageLocation velero/" + velero.LocationName,
		"*v1.Schedule velero/" + ScheduleName,
		"*v1.Secret velero/" + velero.CredentialsSecret,
	}
	if !slices.Equal(created, want) {
		t.Errorf("created %q, want %q", created, want)
	}
	bsl := after["*v1.BackupStorageLocation velero/"+velero.LocationName].(*velerov1.BackupStorageLocation)
	if cr := bsl.Spec.Credential; cr == nil || cr.Name != velero.CredentialsSecret || bsl.Spec.Default {
		t.Errorf("drill's location: credential %+v, default %v; want its own credentials, not the default", cr, bsl.Spec.Default)
	}
	if s := after["*v1.Schedule velero/"+ScheduleName].(*velerov1.Schedule); s.Spec.Schedule != "0 2 * * *" || s.Spec.Template.StorageLocation != velero.LocationName {
		t.Errorf("drill's schedule %q to %q, want 0 2 * * * to %s", s.Spec.Schedule, s.Spec.Template.StorageLocation, velero.LocationName)
	}
	if b := after["*v1.Backup velero/drill-1"].(*velerov1.Backup); b.Spec.StorageLocation != velero.LocationName {
		t.Errorf("backup to %q, want %s", b.Spec.StorageLocation, velero.LocationName)
	}

	// The revert deletes drill's Schedule only.
	if err := f.Revert(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: ScheduleName}, &velerov1.Schedule{}); !apierrors.IsNotFound(err) {
		t.Errorf("drill's schedule after the revert: %v", err)
	}
	if got := objectsOf(t, c)["*v1.Schedule velero/daily-backup"]; !reflect.DeepEqual(got, before["*v1.Schedule velero/daily-backup"]) {
		t.Errorf("the user's schedule after the revert: %+v", got)
	}
}

// Refusals, each before anything is created or changed.
func TestVeleroRestoreRefuses(t *testing.T) {
	users := func(mutate func([]client.Object) []client.Object) []client.Object { return mutate(usersVelero(true)) }
	notDrills := &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ScheduleName}, Spec: velerov1.ScheduleSpec{Schedule: "@hourly"}}
	unlabelled := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: velero.CredentialsSecret}}
	readOnly := &velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "archive"},
		Spec: velerov1.BackupStorageLocationSpec{Provider: "aws", AccessMode: velerov1.BackupStorageLocationAccessModeReadOnly}}
	for _, tc := range []struct {
		name        string
		objs        []client.Object
		p           scenarios.VeleroRestoreParams
		unavailable string
		want        string
	}{
		{"no AWS plugin", usersVelero(false), scenarios.VeleroRestoreParams{},
			"", "has no AWS object-store plugin (no initContainer runs velero-plugin-for-aws), which drill's location in its S3 store needs; drill does not change that Velero: name one of its backup locations in fault.params.backupLocation"},
		{"server not available", users(func(o []client.Object) []client.Object {
			o[5].(*appsv1.Deployment).Status.AvailableReplicas = 0
			return o
		}), scenarios.VeleroRestoreParams{}, "", "drill uses the Velero in namespace velero as it is, changing nothing of it, and its server is not available: waiting 2s for deployment velero/velero available"},
		{"no node agent", users(func(o []client.Object) []client.Object {
			return slices.DeleteFunc(o, func(o client.Object) bool { return o.GetName() == velero.NodeAgentName })
		}), scenarios.VeleroRestoreParams{}, "", "drill uses the Velero in namespace velero as it is, changing nothing of it, and it has no node agent (daemonset velero/node-agent), which backs the app's volume up (file-system backup): install Velero with --use-node-agent"},
		{"drill's credentials name taken", append(usersVelero(true), unlabelled), scenarios.VeleroRestoreParams{},
			"", "secret velero/drill-s3-credentials exists and drill did not create it (no label app.kubernetes.io/managed-by=drill): drill does not replace it"},
		{"named location missing", usersVelero(true), scenarios.VeleroRestoreParams{BackupLocation: "offsite"},
			"", "backup storage location velero/offsite (fault.params.backupLocation) does not exist: drill backs up only to a location that is there, and creates none when one is named"},
		{"named location unavailable", usersVelero(true), scenarios.VeleroRestoreParams{BackupLocation: "default"},
			"default", "backup storage location velero/default (fault.params.backupLocation), which drill does not change: backup storage location velero/default (bucket users-bucket) is Unavailable: the bucket is gone"},
		{"named location, no Velero", nil, scenarios.VeleroRestoreParams{BackupLocation: "default"},
			"", "fault.params.backupLocation names location default, but no Velero is installed in namespace velero: drill installs no Velero to back up to a location of the user's"},
		{"named location read-only", append(usersVelero(true), readOnly), scenarios.VeleroRestoreParams{BackupLocation: "archive"},
			"", "backup storage location velero/archive (fault.params.backupLocation) is ReadOnly: Velero takes no backup to it"},
		{"drill's schedule name taken", append(usersVelero(true), notDrills), scenarios.VeleroRestoreParams{Schedule: "0 2 * * *"},
			"", "schedule velero/drill-daily-backup exists and drill did not create it (no label app.kubernetes.io/managed-by=drill): drill does not replace it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeVelero(t, "drill-1", []string{tc.unavailable}, tc.objs...)
			before := objectsOf(t, c)
			f := testVeleroRestore(c, &tc.p)
			deployed := false
			store := f.store
			f.store = func(ctx context.Context) (velero.Store, error) { deployed = true; return store(ctx) }
			_, err := f.Target(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an error with %q", err, tc.want)
			}
			after := objectsOf(t, c)
			for k, o := range after {
				if b := before[k]; b == nil || !reflect.DeepEqual(b, o) {
					t.Errorf("%s created or changed", k)
				}
			}
			if deployed && tc.name != "drill's credentials name taken" {
				t.Error("drill's S3 store deployed for a drill refused")
			}
			// The revert leaves a Schedule that is not drill's.
			if err := f.Revert(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := objectsOf(t, c)["*v1.Schedule velero/"+ScheduleName]; tc.name == "drill's schedule name taken" && !reflect.DeepEqual(got, before["*v1.Schedule velero/"+ScheduleName]) {
				t.Errorf("the schedule that is not drill's after the revert: %+v", got)
			}
		})
	}
}

// A location the user names, Available, is used as it is: no location, no
// credentials and no S3 store of drill's.
func TestVeleroRestoreUsesANamedLocation(t *testing.T) {
	c := fakeVelero(t, "drill-1", nil, usersVelero(true)...)
	before := objectsOf(t, c)
	f := testVeleroRestore(c, &scenarios.VeleroRestoreParams{BackupLocation: "default"})
	f.store = func(context.Context) (velero.Store, error) {
		return velero.Store{}, errors.New("the store was deployed")
	}
	if _, err := f.Target(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := objectsOf(t, c)
	for k, o := range after {
		if b := before[k]; b == nil && k != "*v1.Backup velero/drill-1" || b != nil && !reflect.DeepEqual(b, o) {
			t.Errorf("%s created or changed", k)
		}
	}
	if b := after["*v1.Backup velero/drill-1"].(*velerov1.Backup); b.Spec.StorageLocation != "default" {
		t.Errorf("backup to %q, want the named location default", b.Spec.StorageLocation)
	}
	if js := f.JournalState().(veleroRestoreJournal); js.Location != "default" {
		t.Errorf("journalled location %q", js.Location)
	}
}

// A journal of a drill older than ScheduleName says only that it created a
// Schedule: that was daily-backup, deleted if it carries drill's label, left
// as it is otherwise.
func TestVeleroRevertOfAnOlderJournal(t *testing.T) {
	for _, labelled := range []bool{true, false} {
		s := &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: legacyScheduleName}}
		if labelled {
			s.Labels = map[string]string{kube.LabelManagedBy: kube.ManagedBy}
		}
		c := fakeVelero(t, "drill-1", nil, s)
		j := &testJournal{}
		f := testVeleroRestore(c, &scenarios.VeleroRestoreParams{})
		f.env.Journal, j.f = j, f
		if err := f.RestoreJournal([]byte(`{"namespace":"app","deployment":"probe-app","run":"drill-1","schedule":true,"restore":{}}`)); err != nil {
			t.Fatal(err)
		}
		if err := f.Revert(t.Context()); err != nil {
			t.Fatal(err)
		}
		err := c.Get(t.Context(), client.ObjectKeyFromObject(s), &velerov1.Schedule{})
		want := "Schedule daily-backup deleted"
		if labelled && !apierrors.IsNotFound(err) {
			t.Errorf("drill's daily-backup after the revert: %v", err)
		}
		if !labelled {
			want = "Schedule daily-backup left as it was: not drill's"
			if err != nil {
				t.Errorf("a daily-backup that is not drill's after the revert: %v", err)
			}
		}
		if got := j.steps(); !slices.Equal(got, []string{want}) {
			t.Errorf("labelled %v: steps %q, want %q", labelled, got, want)
		}
	}
}
