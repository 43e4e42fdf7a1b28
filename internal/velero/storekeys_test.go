package velero

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

var storeIn = StoreKeysInput{Namespace: "drill-s3", Name: "versitygw-root", Labels: map[string]string{"app.kubernetes.io/managed-by": "drill"},
	Retired: [][2]string{{"drill", "drill-s3-secret"}}}

func readKeys(t *testing.T, cs *fake.Clientset) (string, string) {
	t.Helper()
	s, err := cs.CoreV1().Secrets(storeIn.Namespace).Get(context.Background(), storeIn.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(s.Data[AccessKeyKey]), string(s.Data[SecretKeyKey])
}

// A first install makes random keys and keeps them in the Secret; a
// second reads them back; another cluster gets keys of its own.
func TestStoreKeysRandomPerInstallReused(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	access, secret, changed, err := StoreKeys(ctx, cs, storeIn)
	if err != nil {
		t.Fatal(err)
	}
	if !changed || len(access) != 20 || len(secret) != 52 || !strings.HasPrefix(access, "DRILL") {
		t.Errorf("keys %q %q (changed %v): want new, 20 and 52 characters", access, secret, changed)
	}
	if a, s := readKeys(t, cs); a != access || s != secret {
		t.Errorf("the Secret holds %q %q, want the keys returned", a, s)
	}
	got, _ := cs.CoreV1().Secrets(storeIn.Namespace).Get(ctx, storeIn.Name, metav1.GetOptions{})
	if got.Labels["app.kubernetes.io/managed-by"] != "drill" || got.Type != corev1.SecretTypeOpaque {
		t.Errorf("secret labels %v, type %s", got.Labels, got.Type)
	}

	again, secretAgain, changed, err := StoreKeys(ctx, cs, storeIn)
	if err != nil || changed || again != access || secretAgain != secret {
		t.Errorf("second install: %q %q changed %v err %v, want the first's keys", again, secretAgain, changed, err)
	}
	other, otherSecret, _, err := StoreKeys(ctx, fake.NewClientset(), storeIn)
	if err != nil || other == access || otherSecret == secret {
		t.Errorf("another cluster's keys %q %q equal this one's (%v)", other, otherSecret, err)
	}
	if StoreKeysHash(access, secret) == StoreKeysHash(other, otherSecret) || len(StoreKeysHash(access, secret)) != 16 {
		t.Errorf("hash does not tell the keys apart")
	}
}

// A Secret with the retired fixed keys, or without a key, gets new keys.
func TestStoreKeysReplacesRetiredOrIncomplete(t *testing.T) {
	ctx := context.Background()
	for name, data := range map[string]map[string][]byte{
		"retired":        {AccessKeyKey: []byte("drill"), SecretKeyKey: []byte("drill-s3-secret")},
		"no secret key":  {AccessKeyKey: []byte("drill")},
		"no data at all": nil,
	} {
		t.Run(name, func(t *testing.T) {
			cs := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: storeIn.Namespace, Name: storeIn.Name}, Data: data})
			access, secret, changed, err := StoreKeys(ctx, cs, storeIn)
			if err != nil {
				t.Fatal(err)
			}
			if !changed || access == "drill" || secret == "drill-s3-secret" || secret == "" {
				t.Errorf("keys %q %q changed %v, want new ones", access, secret, changed)
			}
			if a, s := readKeys(t, cs); a != access || s != secret {
				t.Errorf("the Secret holds %q %q", a, s)
			}
		})
	}
}

// An install that loses the race to create the Secret reads the winner's
// keys; an API error says what was read.
func TestStoreKeysRaceAndErrors(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	winner := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: storeIn.Namespace, Name: storeIn.Name},
		Data: map[string][]byte{AccessKeyKey: []byte("WINNERACCESSKEY00001"), SecretKeyKey: []byte("winner-secret")}}
	raced := false
	cs.PrependReactor("create", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		if raced {
			return false, nil, nil
		}
		raced = true
		if err := cs.Tracker().Add(winner); err != nil {
			t.Fatal(err)
		}
		return true, nil, apierrors.NewAlreadyExists(schema.GroupResource{Resource: "secrets"}, storeIn.Name)
	})
	access, secret, changed, err := StoreKeys(ctx, cs, storeIn)
	if err != nil || changed || access != "WINNERACCESSKEY00001" || secret != "winner-secret" {
		t.Errorf("after a lost race: %q %q changed %v err %v, want the winner's keys", access, secret, changed, err)
	}

	broken := fake.NewClientset()
	broken.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	if _, _, _, err := StoreKeys(ctx, broken, storeIn); err == nil || !strings.Contains(err.Error(), "read secret drill-s3/versitygw-root: connection refused") {
		t.Errorf("error %v", err)
	}
	if _, _, _, err := StoreKeys(ctx, cs, StoreKeysInput{}); err == nil {
		t.Error("no Secret named: no error")
	}
}
