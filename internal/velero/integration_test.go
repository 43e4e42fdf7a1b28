//go:build velero_integration

// The round trip on a real cluster: the S3 store fixture, Install, a backup
// of a namespace with a ConfigMap and a file in a local-path volume, the
// namespace deleted, the restore, the data compared; then the failures a
// drill must report clearly (wrong credentials, an unknown host, a store
// that does not answer), timed. It needs a kind cluster with the images
// loaded:
//
//	VELERO_KUBECONFIG=/tmp/velero-dev.kubeconfig VELERO_KIND_CLUSTER=velero-dev \
//	  go test -tags velero_integration -run TestIntegration -v -timeout 60m ./internal/velero/
package velero

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/cluster"
)

// timings is what the run measured, written as JSON at the end.
type timings struct {
	mu sync.Mutex
	M  map[string]any
}

func (tm *timings) set(k string, v any) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.M[k] = v
}

func secs(d time.Duration) float64 { return d.Round(100 * time.Millisecond).Seconds() }

const appNS = "velero-drill-app"

func TestIntegration(t *testing.T) {
	kubeconfig := os.Getenv("VELERO_KUBECONFIG")
	kindName := os.Getenv("VELERO_KIND_CLUSTER")
	if kubeconfig == "" {
		t.Skip("VELERO_KUBECONFIG is not set")
	}
	ctx := t.Context()
	logger := cluster.NewWriterLogger(&cluster.StampWriter{Start: time.Now(), W: os.Stderr}, 1)
	tm := &timings{M: map[string]any{}}
	defer func() {
		out, _ := json.MarshalIndent(tm.M, "", "  ")
		_ = os.WriteFile("/tmp/velero-dev-timings.json", out, 0o644)
		t.Logf("timings:\n%s", out)
	}()

	cfg, err := cluster.RESTConfig(cluster.Kubeconfig{Path: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	c, err := NewClient(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)

	if kindName != "" {
		k, err := cluster.NewKind(kindName, cluster.KindWithKubeconfig(kubeconfig), cluster.KindWithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := k.LoadImages(ctx, DefaultImage, DefaultPluginImage, fixtures.S3StoreImage)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Missing) > 0 {
			t.Fatalf("images missing from the local docker: %v", res.Missing)
		}
		tm.set("load_images_s", secs(time.Since(start)))
	}

	// The S3 store.
	start := time.Now()
	if err := applyManifest(ctx, c, fixtures.Velero, fixtures.VeleroS3Store); err != nil {
		t.Fatal(err)
	}
	// The store's keys: random, in its Secret, which its pod waits for.
	access, secret, _, err := StoreKeys(ctx, cs, StoreKeysInput{Namespace: fixtures.S3StoreNamespace, Name: fixtures.S3StoreSecret})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitPodsReady(ctx, cs, fixtures.S3StoreNamespace, "app.kubernetes.io/name=versitygw", 1, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	tm.set("s3_store_ready_s", secs(time.Since(start)))

	store := Store{URL: fixtures.S3StoreURL, Bucket: fixtures.S3StoreBucket, Region: fixtures.S3StoreRegion,
		AccessKey: access, SecretKey: secret}
	v := New(c, "", logger)
	v.Timeout = 10 * time.Minute

	start = time.Now()
	if err := v.Install(ctx, InstallConfig{Store: store}); err != nil {
		t.Fatal(err)
	}
	tm.set("install_s", secs(time.Since(start)))
	start = time.Now()
	if err := v.Install(ctx, InstallConfig{Store: store}); err != nil {
		t.Fatalf("second install: %v", err)
	}
	tm.set("install_again_s", secs(time.Since(start)))

	// Names unique to the run: the bucket keeps the backups of earlier runs,
	// and Velero syncs them back into the cluster.
	run := time.Now().UTC().Format("0102-150405")
	if err := deleteNamespace(ctx, cs, appNS); err != nil {
		t.Fatal(err)
	}

	// The application: a ConfigMap and a pod writing a file into a
	// local-path volume (provisioned as a local PV, which file-system
	// backup takes, not a hostPath one, which it skips).
	start = time.Now()
	sum, err := deployApp(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	tm.set("app_ready_s", secs(time.Since(start)))
	logger.V(0).Infof("the writer's payload: sha256 %s", sum)

	bres, err := v.Backup(ctx, BackupInput{Name: "drill-backup-" + run, IncludedNamespaces: []string{appNS}, TTL: time.Hour, Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tm.set("backup", map[string]any{"wait_s": secs(bres.Observed.Sub(bres.Created)), "velero_s": secs(bres.Completed.Sub(bres.Started)),
		"items": bres.Items, "volumes": bres.Volumes})
	if len(bres.Volumes) != 1 || bres.Volumes[0].TotalBytes < 1<<20 {
		t.Fatalf("backup volumes %+v, want the 1 MiB payload's volume", bres.Volumes)
	}

	sched, err := v.Schedule(ctx, ScheduleInput{Name: "drill-daily-backup", Cron: "0 2 * * *", SkipImmediately: true,
		Template: velerov1.BackupSpec{IncludedNamespaces: []string{appNS}}})
	if err != nil {
		t.Fatal(err)
	}
	logger.V(0).Infof("schedule %s: %s, next %v", sched.Name, sched.Status.Phase, sched.Status.LastBackup)

	start = time.Now()
	if err := deleteNamespace(ctx, cs, appNS); err != nil {
		t.Fatal(err)
	}
	tm.set("namespace_delete_s", secs(time.Since(start)))

	rres, err := v.Restore(ctx, RestoreInput{Name: "drill-restore-" + run, Backup: bres.Name, Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tm.set("restore", map[string]any{"wait_s": secs(rres.Observed.Sub(rres.Created)), "velero_s": secs(rres.Completed.Sub(rres.Started)),
		"items": rres.Items, "volumes": rres.Volumes})
	start = time.Now()
	if err := waitPodsReady(ctx, cs, appNS, "app=writer", 1, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	tm.set("restored_pod_ready_s", secs(time.Since(start)))
	cm, err := cs.CoreV1().ConfigMaps(appNS).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil || cm.Data["color"] != "blue" {
		t.Errorf("restored configmap %v: %v", cm.Data, err)
	}
	got, err := payloadSum(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if got != sum {
		t.Errorf("restored payload sha256 %s, want %s", got, sum)
	} else {
		logger.V(0).Infof("the restored payload is identical: sha256 %s", got)
	}
	tm.set("restore_data_identical", got == sum)

	// Failures, each timed from the Install that meets it.
	fail := func(name string, s Store, timeout time.Duration) {
		start := time.Now()
		err := v.Install(ctx, InstallConfig{Store: s, Timeout: timeout})
		d := time.Since(start)
		msg := "<nil>"
		if err != nil {
			msg = err.Error()
		}
		logger.V(0).Infof("%s: after %s: %s", name, d.Round(100*time.Millisecond), msg)
		tm.set("fail_"+name, map[string]any{"after_s": secs(d), "error": msg})
		if err == nil {
			t.Errorf("%s: Install succeeded", name)
		}
	}
	wrong := store
	wrong.SecretKey = "not-the-secret"
	fail("wrong_secret_reinstall", wrong, 5*time.Minute)
	start = time.Now()
	if err := v.Install(ctx, InstallConfig{Store: store}); err != nil {
		t.Fatalf("install with the right credentials again: %v", err)
	}
	tm.set("install_fixed_credentials_s", secs(time.Since(start)))

	for _, tc := range []struct {
		name string
		url  string
		// down scales the store to no pod: its Service refuses connections.
		down bool
	}{
		{"unknown_host", "http://no-such-store.drill-s3.svc:7070", false},
		{"store_down", fixtures.S3StoreURL, true},
		{"blackhole", "http://192.0.2.1:7070", false}, // TEST-NET-1: packets go nowhere
	} {
		start = time.Now()
		if err := v.Uninstall(ctx); err != nil {
			t.Fatal(err)
		}
		tm.set("uninstall_before_"+tc.name+"_s", secs(time.Since(start)))
		if tc.down {
			scaleStore(ctx, t, cs, 0)
		}
		bad := store
		bad.URL = tc.url
		fail(tc.name, bad, 8*time.Minute)
		if tc.down {
			scaleStore(ctx, t, cs, 1)
			if err := waitPodsReady(ctx, cs, fixtures.S3StoreNamespace, "app.kubernetes.io/name=versitygw", 1, 5*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
	}
	start = time.Now()
	if err := v.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	tm.set("uninstall_s", secs(time.Since(start)))
	wrong2 := store
	wrong2.SecretKey = "not-the-secret"
	fail("wrong_secret_fresh", wrong2, 5*time.Minute)
	if err := v.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
}

// deleteNamespace deletes a namespace and waits until it is gone.
func deleteNamespace(ctx context.Context, cs kubernetes.Interface, ns string) error {
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		return fmt.Errorf("namespace %s not deleted: %w", ns, err)
	}
	return nil
}

// scaleStore sets the S3 store's replicas and, for 0, waits until its pods
// are gone.
func scaleStore(ctx context.Context, t *testing.T, cs kubernetes.Interface, n int32) {
	t.Helper()
	sc, err := cs.AppsV1().Deployments(fixtures.S3StoreNamespace).GetScale(ctx, "versitygw", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = n
	if _, err := cs.AppsV1().Deployments(fixtures.S3StoreNamespace).UpdateScale(ctx, "versitygw", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		return
	}
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(fixtures.S3StoreNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=versitygw"})
		return err == nil && len(pods.Items) == 0, nil
	}); err != nil {
		t.Fatalf("the store's pods did not go: %v", err)
	}
}

// applyManifest server-side applies every document of a manifest.
func applyManifest(ctx context.Context, c client.Client, fsys interface{ ReadFile(string) ([]byte, error) }, name string) error {
	raw, err := fsys.ReadFile(name)
	if err != nil {
		return err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
}

func waitPodsReady(ctx context.Context, cs kubernetes.Interface, ns, selector string, n int, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		ready := 0
		var states []string
		for _, p := range pods.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
					ready++
				}
			}
			states = append(states, p.Name+" "+string(p.Status.Phase))
		}
		last = strings.Join(states, ", ")
		return ready >= n, nil
	})
	if err != nil {
		return fmt.Errorf("pods %s in %s not ready: %w (last: %s)", selector, ns, err, last)
	}
	return nil
}

// The writer writes 1 MiB of random data unless the file is there (restored),
// prints its SHA-256 and stays.
const writerScript = `set -e
if [ ! -f /data/payload ]; then head -c 1048576 /dev/urandom > /data/payload; fi
echo "sha256 $(sha256sum /data/payload | cut -d' ' -f1)"
touch /tmp/ready
exec sleep 86400
`

func deployApp(ctx context.Context, cs kubernetes.Interface) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appNS}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"color": "blue"}}
	if _, err := cs.CoreV1().ConfigMaps(appNS).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Annotations: map[string]string{"volumeType": "local"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("64Mi")}},
		},
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims(appNS).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "writer", Labels: map[string]string{"app": "writer"}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To(int64(1)),
			Containers: []corev1.Container{{
				Name: "writer", Image: DefaultImage, ImagePullPolicy: corev1.PullIfNotPresent,
				Command:      []string{"/bin/sh", "-c", writerScript},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-f", "/tmp/ready"}}},
					PeriodSeconds: 1},
			}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}},
		},
	}
	if _, err := cs.CoreV1().Pods(appNS).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	if err := waitPodsReady(ctx, cs, appNS, "app=writer", 1, 5*time.Minute); err != nil {
		return "", err
	}
	return payloadSum(ctx, cs)
}

// payloadSum reads the SHA-256 the writer printed.
func payloadSum(ctx context.Context, cs kubernetes.Interface) (string, error) {
	raw, err := cs.CoreV1().Pods(appNS).GetLogs("writer", &corev1.PodLogOptions{Container: "writer"}).DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("writer logs: %w", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if s, ok := strings.CutPrefix(line, "sha256 "); ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("no sha256 in the writer's log: %q", raw)
}
