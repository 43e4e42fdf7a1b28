package velero

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The keys of a store's root credentials in its Secret (StoreKeys).
const (
	AccessKeyKey = "access-key"
	SecretKeyKey = "secret-key"
)

// StoreKeysInput names the Secret that holds an S3 store's root keys.
type StoreKeysInput struct {
	Namespace, Name string
	// Labels are set on a Secret StoreKeys creates.
	Labels map[string]string
	// Retired are key pairs (access key, secret key) that must not be kept:
	// a Secret holding one of them gets new random keys, as if it did
	// not exist. drill's store once shipped fixed keys.
	Retired [][2]string
}

// StoreKeys returns the access and secret keys of an S3 store, read from
// its Secret in the cluster, or made at random (crypto/rand) and written
// to a new Secret when there is none yet: every install of the store has
// keys of its own, which no code or manifest holds, and a second install
// reuses the first's, so that Velero keeps reaching the backups already
// made. The store reads the same Secret (env valueFrom.secretKeyRef); the
// caller gives the keys to Velero (Store.AccessKey, Store.SecretKey). A
// Secret that lacks a key, or holds a Retired pair, gets new keys. changed
// says the keys are not those the store may already run with: its pods
// must restart to read them (StoreKeysHash changes with them).
func StoreKeys(ctx context.Context, cs kubernetes.Interface, in StoreKeysInput) (access, secret string, changed bool, err error) {
	if in.Namespace == "" || in.Name == "" {
		return "", "", false, errors.New("store keys: the Secret's namespace and name are required")
	}
	secrets := cs.CoreV1().Secrets(in.Namespace)
	for range 3 { // a concurrent install may create or update it in between
		s, err := secrets.Get(ctx, in.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			access, secret = newStoreKeys()
			s = &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: in.Name, Namespace: in.Namespace, Labels: in.Labels},
				Type:       corev1.SecretTypeOpaque,
				Data:       map[string][]byte{AccessKeyKey: []byte(access), SecretKeyKey: []byte(secret)},
			}
			_, err = secrets.Create(ctx, s, metav1.CreateOptions{FieldManager: FieldManager})
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			if err != nil {
				return "", "", false, fmt.Errorf("store keys: create secret %s/%s: %w", in.Namespace, in.Name, err)
			}
			return access, secret, true, nil
		case err != nil:
			return "", "", false, fmt.Errorf("store keys: read secret %s/%s: %w", in.Namespace, in.Name, err)
		}
		access, secret = string(s.Data[AccessKeyKey]), string(s.Data[SecretKeyKey])
		if access != "" && secret != "" && !retired(in.Retired, access, secret) {
			return access, secret, false, nil
		}
		access, secret = newStoreKeys()
		s = s.DeepCopy()
		s.StringData = nil
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[AccessKeyKey], s.Data[SecretKeyKey] = []byte(access), []byte(secret)
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return "", "", false, fmt.Errorf("store keys: update secret %s/%s: %w", in.Namespace, in.Name, err)
		}
		return access, secret, true, nil
	}
	return "", "", false, fmt.Errorf("store keys: secret %s/%s kept changing while it was read", in.Namespace, in.Name)
}

func retired(pairs [][2]string, access, secret string) bool {
	for _, p := range pairs {
		if p[0] == access && p[1] == secret {
			return true
		}
	}
	return false
}

// newStoreKeys makes an access key of 20 characters (upper-case letters
// and digits, as AWS's) and a secret key of 52 (256 bits), from
// crypto/rand, which does not fail.
func newStoreKeys() (access, secret string) {
	return "DRILL" + rand.Text()[:15], strings.ToLower(rand.Text() + rand.Text())
}

// StoreKeysHash is a short hash of a store's keys, for a pod template
// annotation that rolls the store's pods when the keys change (their
// environment is read from the Secret only when a container starts).
func StoreKeysHash(access, secret string) string {
	sum := sha256.Sum256([]byte(access + "\x00" + secret))
	return hex.EncodeToString(sum[:8])
}
