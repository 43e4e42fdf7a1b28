package cluster

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/e2e-framework/klient/wait"
	"sigs.k8s.io/yaml"

	"github.com/drill-sre/drill/fixtures"
)

const (
	coreDNSNamespace  = "kube-system"
	coreDNSDeployment = "coredns"
	fieldManager      = "drill"
)

// SpreadCoreDNS makes kube-system/coredns production-like, idempotently: its
// replicas spread over zones and hostnames (fixtures/cluster/coredns-spread.yaml)
// and a PodDisruptionBudget keeps one available (coredns-pdb.yaml). The
// replica count is left as it is.
//
// It does not wait for the rollout it starts: the old replicas serve until
// the new ones are Ready (maxUnavailable 0), so DNS answers throughout.
// AwaitCoreDNS waits for it where a spread cluster DNS matters: before a
// drill.
func SpreadCoreDNS(ctx context.Context, cs kubernetes.Interface) error {
	patch, err := fixtureJSON("cluster/coredns-spread.yaml")
	if err != nil {
		return err
	}
	deployments := cs.AppsV1().Deployments(coreDNSNamespace)
	if _, err := deployments.Patch(ctx, coreDNSDeployment, types.StrategicMergePatchType, patch,
		metav1.PatchOptions{FieldManager: fieldManager}); err != nil {
		return fmt.Errorf("spread coredns: patch deployment %s/%s: %w", coreDNSNamespace, coreDNSDeployment, err)
	}
	return ensureCoreDNSPDB(ctx, cs)
}

// AwaitCoreDNS waits up to timeout for a rollout of kube-system/coredns
// under way (SpreadCoreDNS's) to end. It says whether there was one to wait
// for; a cluster without that Deployment has none.
func AwaitCoreDNS(ctx context.Context, cs kubernetes.Interface, timeout time.Duration) (bool, error) {
	d, err := cs.AppsV1().Deployments(coreDNSNamespace).Get(ctx, coreDNSDeployment, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get deployment %s/%s: %w", coreDNSNamespace, coreDNSDeployment, err)
	case rolledOut(d):
		return false, nil
	}
	return true, WaitForRollout(ctx, cs, coreDNSNamespace, coreDNSDeployment, timeout)
}

// CoreDNSSpreadable says whether kube-system/coredns's replicas fit on nodes
// nodes once spread (one per hostname, required), and its replica count. A
// one-node cluster from a user's own kind config cannot spread two.
func CoreDNSSpreadable(ctx context.Context, cs kubernetes.Interface, nodes int) (bool, int32, error) {
	d, err := cs.AppsV1().Deployments(coreDNSNamespace).Get(ctx, coreDNSDeployment, metav1.GetOptions{})
	if err != nil {
		return false, 0, fmt.Errorf("spread coredns: get deployment %s/%s: %w", coreDNSNamespace, coreDNSDeployment, err)
	}
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	return int(replicas) <= nodes, replicas, nil
}

func ensureCoreDNSPDB(ctx context.Context, cs kubernetes.Interface) error {
	raw, err := fixtures.Cluster.ReadFile("cluster/coredns-pdb.yaml")
	if err != nil {
		return fmt.Errorf("read embedded coredns-pdb.yaml: %w", err)
	}
	want := &policyv1.PodDisruptionBudget{}
	if err := yaml.UnmarshalStrict(raw, want); err != nil {
		return fmt.Errorf("decode embedded coredns-pdb.yaml: %w", err)
	}
	pdbs := cs.PolicyV1().PodDisruptionBudgets(want.Namespace)
	got, err := pdbs.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := pdbs.Create(ctx, want, metav1.CreateOptions{FieldManager: fieldManager}); err != nil {
			return fmt.Errorf("create pdb %s/%s: %w", want.Namespace, want.Name, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("get pdb %s/%s: %w", want.Namespace, want.Name, err)
	}
	got.Labels = want.Labels
	got.Spec = want.Spec
	if _, err := pdbs.Update(ctx, got, metav1.UpdateOptions{FieldManager: fieldManager}); err != nil {
		return fmt.Errorf("update pdb %s/%s: %w", want.Namespace, want.Name, err)
	}
	return nil
}

// WaitForRollout polls until a Deployment's rollout is complete, as
// `kubectl rollout status` judges it: the controller has seen the latest
// spec, every replica is updated and available, and no old replica is left.
func WaitForRollout(ctx context.Context, cs kubernetes.Interface, namespace, name string, timeout time.Duration) error {
	var last *appsv1.Deployment
	err := wait.For(func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = d
		return rolledOut(d), nil
	}, wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(time.Second), wait.WithImmediate())
	if err != nil {
		return fmt.Errorf("wait %s for deployment %s/%s rollout: %w (%s)", timeout, namespace, name, err, describeRollout(last))
	}
	return nil
}

func rolledOut(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation &&
		s.UpdatedReplicas == want &&
		s.Replicas == want &&
		s.AvailableReplicas == want
}

func describeRollout(d *appsv1.Deployment) string {
	if d == nil {
		return "deployment never read"
	}
	s := d.Status
	return fmt.Sprintf("generation %d observed %d, replicas %d updated %d available %d",
		d.Generation, s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.AvailableReplicas)
}

func fixtureJSON(name string) ([]byte, error) {
	raw, err := fixtures.Cluster.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", name, err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("decode embedded %s: %w", name, err)
	}
	return js, nil
}
