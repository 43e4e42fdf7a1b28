package faults

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/velero"
)

// The store's keys are made at install and kept in the Secret the gateway
// reads, Velero gets the same, a second install reuses them, and the
// gateway's pod template carries their hash.
func TestStoreKeysFromTheCluster(t *testing.T) {
	ctx := context.Background()
	objs, err := storeObjects()
	if err != nil {
		t.Fatal(err)
	}
	var dep *appsv1.Deployment
	for _, u := range objs {
		if u.GetKind() == "Secret" {
			t.Fatalf("the fixture ships Secret %s: the keys must be made at install", u.GetName())
		}
	}
	cs := fake.NewClientset()
	store, err := storeKeys(ctx, cs, objs)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Validate(); err != nil {
		t.Fatal(err)
	}
	if store.AccessKey == "drill" || store.SecretKey == "drill-s3-secret" {
		t.Errorf("the retired fixed keys are used")
	}
	sec, err := cs.CoreV1().Secrets(fixtures.S3StoreNamespace).Get(ctx, fixtures.S3StoreSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Data[velero.AccessKeyKey]) != store.AccessKey || string(sec.Data[velero.SecretKeyKey]) != store.SecretKey {
		t.Errorf("Velero's keys are not the Secret's")
	}
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			dep = &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, dep); err != nil {
				t.Fatal(err)
			}
		}
	}
	if dep == nil {
		t.Fatal("no Deployment in the store fixture")
	}
	if h := dep.Spec.Template.Annotations[velero.CredentialsAnnotation]; h != velero.StoreKeysHash(store.AccessKey, store.SecretKey) {
		t.Errorf("pod template annotation %q, want the keys' hash", h)
	}
	// The gateway reads the keys from that Secret, under those keys.
	refs := map[string]corev1.SecretKeySelector{}
	for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			refs[e.Name] = *e.ValueFrom.SecretKeyRef
		}
	}
	for env, key := range map[string]string{"ROOT_ACCESS_KEY": velero.AccessKeyKey, "ROOT_SECRET_KEY": velero.SecretKeyKey} {
		if r := refs[env]; r.Name != fixtures.S3StoreSecret || r.Key != key {
			t.Errorf("env %s from %+v, want %s of %s", env, r, key, fixtures.S3StoreSecret)
		}
	}
	// No key is in the code or the manifest.
	raw, _ := fixtures.Velero.ReadFile(fixtures.VeleroS3Store)
	if strings.Contains(string(raw), store.SecretKey) || strings.Contains(string(raw), "drill-s3-secret") {
		t.Errorf("the manifest holds a key")
	}

	objs2, _ := storeObjects()
	again, err := storeKeys(ctx, cs, objs2)
	if err != nil || again != store {
		t.Errorf("second install: %+v, %v; want the first's keys", again, err)
	}
}
