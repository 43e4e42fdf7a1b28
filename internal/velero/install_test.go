package velero

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/drill-sre/drill/internal/kube"
)

func testStore() Store {
	return Store{
		URL: "http://versitygw.drill-s3.svc:7070", PublicURL: "http://localhost:30070",
		Bucket: "velero", Prefix: "drill", AccessKey: "drill", SecretKey: "s3cret",
	}
}

// newFake returns a Velero on a fake client holding objs, polling fast.
func newFake(t *testing.T, funcs *interceptor.Funcs, objs ...client.Object) (*Velero, client.WithWatch) {
	t.Helper()
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).
		WithStatusSubresource(&apiextv1.CustomResourceDefinition{}, &velerov1.BackupStorageLocation{})
	if funcs != nil {
		b = b.WithInterceptorFuncs(*funcs)
	}
	c := b.Build()
	v := New(c, "", nil)
	v.Interval, v.Timeout = 5*time.Millisecond, 5*time.Second
	return v, c
}

func TestStoreValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Store)
		want   string
	}{
		{"complete", func(*Store) {}, ""},
		{"no public URL", func(s *Store) { s.PublicURL = "" }, ""},
		{"URL without scheme", func(s *Store) { s.URL = "versitygw:7070" }, "URL"},
		{"bad public URL", func(s *Store) { s.PublicURL = "ftp://x" }, "PublicURL"},
		{"short bucket", func(s *Store) { s.Bucket = "ab" }, "3 characters"},
		{"no secret", func(s *Store) { s.SecretKey = "" }, "secret key"},
	} {
		s := testStore()
		tc.change(&s)
		err := s.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

func TestStoreCredentialsAndConfig(t *testing.T) {
	s := testStore()
	if got, want := string(s.CredentialsFile()), "[default]\naws_access_key_id=drill\naws_secret_access_key=s3cret\n"; got != want {
		t.Errorf("credentials file %q, want %q", got, want)
	}
	c := s.LocationConfig()
	want := map[string]string{"region": "us-east-1", "s3ForcePathStyle": "true", "s3Url": s.URL, "publicUrl": s.PublicURL}
	if len(c) != len(want) {
		t.Errorf("config %v, want %v", c, want)
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("config[%s] = %q, want %q", k, c[k], v)
		}
	}
	s.Region, s.PublicURL = "minio", ""
	if c := s.LocationConfig(); c["region"] != "minio" || c["publicUrl"] != "" {
		t.Errorf("config %v, want region minio and no publicUrl", c)
	}
}

// byKind indexes resources by kind/name.
func byKind(t *testing.T, list *unstructured.UnstructuredList) map[string]*unstructured.Unstructured {
	t.Helper()
	m := map[string]*unstructured.Unstructured{}
	for i := range list.Items {
		u := &list.Items[i]
		m[u.GetKind()+"/"+u.GetName()] = u
	}
	return m
}

func convert(t *testing.T, u *unstructured.Unstructured, obj runtime.Object) {
	t.Helper()
	if u == nil {
		t.Fatalf("missing %T", obj)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		t.Fatal(err)
	}
}

func TestResources(t *testing.T) {
	list, err := Resources("velero", InstallConfig{Store: testStore()})
	if err != nil {
		t.Fatal(err)
	}
	objs := byKind(t, list)

	// CRDs come first, as they must be established before Velero's objects.
	lastCRD, firstOther := -1, len(list.Items)
	for i, u := range list.Items {
		if u.GetKind() == "CustomResourceDefinition" {
			lastCRD = i
		} else if i < firstOther {
			firstOther = i
		}
	}
	if lastCRD < 0 || lastCRD > firstOther {
		t.Errorf("CRDs at up to %d, other objects from %d: CRDs must come first", lastCRD, firstOther)
	}
	for _, name := range []string{"backups.velero.io", "restores.velero.io", "backupstoragelocations.velero.io", "podvolumebackups.velero.io", "datauploads.velero.io"} {
		if objs["CustomResourceDefinition/"+name] == nil {
			t.Errorf("no CRD %s", name)
		}
	}
	for _, k := range []string{"Namespace/velero", "ClusterRoleBinding/velero", "ServiceAccount/velero", "Secret/" + CredentialsSecret} {
		if objs[k] == nil {
			t.Errorf("no %s", k)
		}
	}
	if u := objs["VolumeSnapshotLocation/default"]; u != nil {
		t.Error("a VolumeSnapshotLocation was created: volume snapshots are off")
	}

	var sec corev1.Secret
	convert(t, objs["Secret/"+CredentialsSecret], &sec)
	if string(sec.Data["cloud"]) != string(testStore().CredentialsFile()) {
		t.Errorf("secret cloud = %q", sec.Data["cloud"])
	}

	var bsl velerov1.BackupStorageLocation
	convert(t, objs["BackupStorageLocation/"+LocationName], &bsl)
	if bsl.Spec.Provider != "aws" || bsl.Spec.ObjectStorage.Bucket != "velero" || bsl.Spec.ObjectStorage.Prefix != "drill" || bsl.Spec.Default {
		t.Errorf("location spec %+v, want an aws location in bucket velero prefix drill, not the default", bsl.Spec)
	}
	if c := bsl.Spec.Credential; c == nil || c.Name != CredentialsSecret || c.Key != CredentialsKey {
		t.Errorf("location credential %+v, want key %s of %s", c, CredentialsKey, CredentialsSecret)
	}
	// Velero's own names are a user's: drill has none of them.
	for _, k := range []string{"BackupStorageLocation/default", "Secret/cloud-credentials"} {
		if objs[k] != nil {
			t.Errorf("drill's install has %s, the name Velero's install gives a user's", k)
		}
	}
	for _, k := range []string{"Secret/" + CredentialsSecret, "BackupStorageLocation/" + LocationName} {
		if objs[k].GetLabels()[kube.LabelManagedBy] != kube.ManagedBy {
			t.Errorf("%s is not labelled as drill's: %v", k, objs[k].GetLabels())
		}
	}
	if bsl.Spec.Config["s3Url"] != testStore().URL || bsl.Spec.Config["region"] != DefaultRegion || bsl.Spec.Config["s3ForcePathStyle"] != "true" {
		t.Errorf("location config %v", bsl.Spec.Config)
	}

	var d appsv1.Deployment
	convert(t, objs["Deployment/"+DeploymentName], &d)
	pod := d.Spec.Template.Spec
	if len(pod.InitContainers) != 1 || pod.InitContainers[0].Image != DefaultPluginImage {
		t.Fatalf("init containers %+v, want the plugin %s", pod.InitContainers, DefaultPluginImage)
	}
	if m := pod.InitContainers[0].VolumeMounts; len(m) != 1 || m[0].Name != "plugins" || m[0].MountPath != "/target" {
		t.Errorf("plugin init container mounts %+v, want plugins at /target", m)
	}
	server := pod.Containers[0]
	for _, e := range server.Env {
		if e.Name == "AWS_SHARED_CREDENTIALS_FILE" {
			t.Errorf("the server has credentials of its own (%s=%s): only drill's location has", e.Name, e.Value)
		}
	}
	if server.Image != DefaultImage {
		t.Errorf("server image %s, want %s", server.Image, DefaultImage)
	}
	for _, arg := range []string{"--default-volumes-to-fs-backup=true", "--uploader-type=kopia"} {
		if !slices.Contains(server.Args, arg) {
			t.Errorf("server args %v lack %s", server.Args, arg)
		}
	}
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		if c.ImagePullPolicy != corev1.PullIfNotPresent {
			t.Errorf("deployment container %s pulls %s, want IfNotPresent", c.Name, c.ImagePullPolicy)
		}
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("deployment strategy %+v, want Recreate: one server at a time", d.Spec.Strategy)
	}

	var ds appsv1.DaemonSet
	convert(t, objs["DaemonSet/"+NodeAgentName], &ds)
	agent := ds.Spec.Template.Spec
	if agent.Containers[0].Image != DefaultImage || agent.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("node agent %s (%s), want %s IfNotPresent", agent.Containers[0].Image, agent.Containers[0].ImagePullPolicy, DefaultImage)
	}
	hostPods := ""
	for _, vol := range agent.Volumes {
		if vol.HostPath != nil && vol.Name == "host-pods" {
			hostPods = vol.HostPath.Path
		}
	}
	if hostPods != "/var/lib/kubelet/pods" {
		t.Errorf("node agent host-pods volume %q, want /var/lib/kubelet/pods", hostPods)
	}
	if _, ok := objs["Deployment/"+DeploymentName].Object["status"]; ok {
		t.Error("the deployment carries a status")
	}

	// New credentials change both pod templates: the pods roll.
	hash := d.Spec.Template.Annotations[CredentialsAnnotation]
	if hash == "" || ds.Spec.Template.Annotations[CredentialsAnnotation] != hash {
		t.Errorf("credentials annotation %q on the server, %q on the node agent", hash, ds.Spec.Template.Annotations[CredentialsAnnotation])
	}
	rotated := testStore()
	rotated.SecretKey = "rotated"
	list2, err := Resources("velero", InstallConfig{Store: rotated})
	if err != nil {
		t.Fatal(err)
	}
	var d2 appsv1.Deployment
	convert(t, byKind(t, list2)["Deployment/"+DeploymentName], &d2)
	if h := d2.Spec.Template.Annotations[CredentialsAnnotation]; h == "" || h == hash {
		t.Errorf("credentials annotation %q after rotation, was %q", h, hash)
	}
	if strings.Contains(hash, "s3cret") {
		t.Error("the annotation carries the secret")
	}
}

// Velero picks Always for an image whose name has a registry port; there is
// no registry, so Resources overrides it.
func TestResourcesPullIfNotPresentWithRegistryPort(t *testing.T) {
	list, err := Resources("backup", InstallConfig{Store: testStore(), Image: "localhost:5000/velero:v1", PluginImage: "localhost:5000/aws:v1"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range list.Items {
		var spec corev1.PodSpec
		switch u.GetKind() {
		case "Deployment":
			var d appsv1.Deployment
			convert(t, &u, &d)
			spec = d.Spec.Template.Spec
		case "DaemonSet":
			var d appsv1.DaemonSet
			convert(t, &u, &d)
			spec = d.Spec.Template.Spec
		default:
			if u.GetNamespace() != "" && u.GetNamespace() != "backup" {
				t.Errorf("%s %s in namespace %s, want backup", u.GetKind(), u.GetName(), u.GetNamespace())
			}
			continue
		}
		for _, c := range append(spec.InitContainers, spec.Containers...) {
			n++
			if c.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("%s container %s (%s) pulls %s", u.GetKind(), c.Name, c.Image, c.ImagePullPolicy)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d containers, want 3 (plugin, server, node agent)", n)
	}
	if _, err := Resources("", InstallConfig{Store: testStore()}); err == nil {
		t.Error("no namespace: want an error")
	}
	if _, err := Resources("velero", InstallConfig{}); err == nil {
		t.Error("no store: want an error")
	}
}

// simulate plays the API server's controllers and Velero's location
// controller on a fake client: CRDs are established, the deployment and the
// daemonset become ready, the location gets phase with message.
func simulate(ctx context.Context, c client.Client, phase velerov1.BackupStorageLocationPhase, message string) {
	for ctx.Err() == nil {
		crds := &apiextv1.CustomResourceDefinitionList{}
		if c.List(ctx, crds) == nil {
			for i := range crds.Items {
				crd := &crds.Items[i]
				if !crdEstablished(crd) {
					crd.Status.Conditions = append(crd.Status.Conditions, apiextv1.CustomResourceDefinitionCondition{Type: apiextv1.Established, Status: apiextv1.ConditionTrue})
					_ = c.Status().Update(ctx, crd)
				}
			}
		}
		d := &appsv1.Deployment{}
		if c.Get(ctx, client.ObjectKey{Namespace: DefaultNamespace, Name: DeploymentName}, d) == nil && d.Status.AvailableReplicas == 0 {
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}
			_ = c.Status().Update(ctx, d)
		}
		ds := &appsv1.DaemonSet{}
		if c.Get(ctx, client.ObjectKey{Namespace: DefaultNamespace, Name: NodeAgentName}, ds) == nil && ds.Status.NumberReady == 0 {
			ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: 2, NumberReady: 2, UpdatedNumberScheduled: 2, NumberAvailable: 2}
			_ = c.Status().Update(ctx, ds)
		}
		bsl := &velerov1.BackupStorageLocation{}
		if c.Get(ctx, client.ObjectKey{Namespace: DefaultNamespace, Name: LocationName}, bsl) == nil && bsl.Status.Phase != phase {
			bsl.Status = velerov1.BackupStorageLocationStatus{Phase: phase, Message: message, LastValidationTime: &metav1.Time{Time: time.Now()}}
			_ = c.Status().Update(ctx, bsl)
		}
		time.Sleep(2 * time.Millisecond) // a simulated controller's tick, not a wait in the code under test
	}
}

func TestInstallWaitsAndIsIdempotent(t *testing.T) {
	v, c := newFake(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go simulate(ctx, c, velerov1.BackupStorageLocationPhaseAvailable, "")
	for i := range 2 {
		if err := v.Install(t.Context(), InstallConfig{Store: testStore()}); err != nil {
			t.Fatalf("install #%d: %v", i+1, err)
		}
	}
	sec := &corev1.Secret{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "velero", Name: CredentialsSecret}, sec); err != nil {
		t.Fatal(err)
	}
	if len(sec.ManagedFields) > 0 && sec.ManagedFields[0].Manager != FieldManager {
		t.Errorf("secret managed by %s, want %s", sec.ManagedFields[0].Manager, FieldManager)
	}
	// A changed secret is applied over the old one.
	s := testStore()
	s.SecretKey = "rotated"
	if err := v.Install(t.Context(), InstallConfig{Store: s}); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "velero", Name: CredentialsSecret}, sec); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sec.Data["cloud"]), "rotated") {
		t.Errorf("secret after a second install: %q", sec.Data["cloud"])
	}
}

func TestInstallFailsOnUnavailableLocation(t *testing.T) {
	v, c := newFake(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	msg := `BackupStorageLocation "default" is unavailable: rpc error: code = Unknown desc = InvalidAccessKeyId: The AWS access key Id you provided does not exist in our records.`
	go simulate(ctx, c, velerov1.BackupStorageLocationPhaseUnavailable, msg)
	err := v.Install(t.Context(), InstallConfig{Store: testStore()})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{msg, "velero/" + LocationName, "bucket velero", "http://versitygw.drill-s3.svc:7070", "Unavailable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestInstallTimeoutNamesWhatItWaitedFor(t *testing.T) {
	v, _ := newFake(t, nil)
	// The fake's CRDs never become established; the timeout is long enough
	// for a poll to see that on a loaded machine under -race (50ms was not:
	// nothing was observed before it ran out).
	err := v.Install(t.Context(), InstallConfig{Store: testStore(), Timeout: 3 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "CRDs established") || !strings.Contains(err.Error(), "not yet established") {
		t.Errorf("got %v, want a timeout on the CRDs quoting what it saw", err)
	}
}

func TestLocationVerdict(t *testing.T) {
	applied := time.Date(2026, 1, 1, 12, 0, 30, 500e6, time.UTC)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: applied.Truncate(time.Second).Add(d)} }
	bsl := func(phase velerov1.BackupStorageLocationPhase, validated *metav1.Time) *velerov1.BackupStorageLocation {
		return &velerov1.BackupStorageLocation{
			ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: "default"},
			Spec: velerov1.BackupStorageLocationSpec{
				StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "b1", Prefix: "p"}},
				Config:      map[string]string{"s3Url": "http://s3:7070"},
			},
			Status: velerov1.BackupStorageLocationStatus{Phase: phase, Message: "no such host", LastValidationTime: validated},
		}
	}
	for _, tc := range []struct {
		name        string
		loc         *velerov1.BackupStorageLocation
		staleBefore time.Time
		done        bool
		err         string
	}{
		{"available", bsl(velerov1.BackupStorageLocationPhaseAvailable, at(0)), time.Time{}, true, ""},
		{"unavailable", bsl(velerov1.BackupStorageLocationPhaseUnavailable, at(0)), time.Time{}, false, "backup storage location velero/default (bucket b1 prefix p at http://s3:7070) is Unavailable: no such host"},
		{"not validated", bsl("", nil), time.Time{}, false, ""},
		{"unavailable before the apply", bsl(velerov1.BackupStorageLocationPhaseUnavailable, at(-time.Second)), applied, false, ""},
		{"available before the apply", bsl(velerov1.BackupStorageLocationPhaseAvailable, at(-time.Minute)), applied, false, ""},
		// The API keeps seconds: a validation in the apply's second counts.
		{"unavailable in the apply's second", bsl(velerov1.BackupStorageLocationPhaseUnavailable, at(0)), applied, false, "Unavailable"},
		{"available after the apply", bsl(velerov1.BackupStorageLocationPhaseAvailable, at(time.Second)), applied, true, ""},
	} {
		done, desc, err := locationVerdict(tc.loc, tc.staleBefore)
		if done != tc.done || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: done %v (%s), error %v; want done %v, error %q", tc.name, done, desc, err, tc.done, tc.err)
		}
	}
}

func TestPodProblems(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: "velero-1", Labels: map[string]string{"deploy": "velero"}},
		Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{{
			Name:  "velero-velero-plugin-for-aws",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull", Message: "image not present"}},
		}}},
	}
	v, _ := newFake(t, nil, pod)
	got := v.podProblems(t.Context(), map[string]string{"deploy": "velero"})
	if len(got) != 1 || !strings.Contains(got[0], "velero-velero-plugin-for-aws: ErrImageNeverPull: image not present") {
		t.Errorf("problems %q", got)
	}
	if got := v.podProblems(t.Context(), map[string]string{"name": "node-agent"}); len(got) != 0 {
		t.Errorf("another selector: %q", got)
	}
}

func TestUninstall(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "velero"}}
	crd := &apiextv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "backups.velero.io", Labels: map[string]string{"component": "velero"}}}
	other := &apiextv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"}}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "velero"}}
	// A restore whose finalizer no running Velero releases.
	stuck := &velerov1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: "r1", Finalizers: []string{"restores.velero.io/external-resources-finalizer"}}}
	v, c := newFake(t, nil, ns, crd, other, crb, stuck)
	v.Timeout = 100 * time.Millisecond
	if err := v.Uninstall(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{ns, crd, crb, stuck} {
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s: %v, want it gone", obj, obj.GetName(), err)
		}
	}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(other), other); err != nil {
		t.Errorf("a CRD that is not Velero's: %v", err)
	}
	if err := v.Uninstall(t.Context()); err != nil {
		t.Errorf("a second uninstall: %v", err)
	}
}

func TestServerStarted(t *testing.T) {
	sel := map[string]string{"deploy": "velero"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: DeploymentName},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: sel}}}
	pod := func(name string, started time.Time, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: name, Labels: labels},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: DeploymentName,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Time{Time: started}}}}}}}
	}
	v, _ := newFake(t, nil)
	if got := v.serverStarted(t.Context()); !got.IsZero() {
		t.Errorf("no deployment: %s, want zero", got)
	}
	v, _ = newFake(t, nil, d, pod("old", t0, sel), pod("new", t1, sel), pod("agent", t1.Add(time.Hour), map[string]string{"name": "node-agent"}))
	if got := v.serverStarted(t.Context()); !got.Equal(t1) {
		t.Errorf("started %s, want the newest server's %s", got, t1)
	}
}
