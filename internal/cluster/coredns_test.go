package cluster

import (
	"context"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
)

// kubeadmCoreDNS is kube-system/coredns roughly as kubeadm v1.34 creates it,
// with a finished rollout.
func kubeadmCoreDNS() *appsv1.Deployment {
	replicas := int32(2)
	labels := map[string]string{"k8s-app": "kube-dns"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
							Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{
								TopologyKey:   "kubernetes.io/hostname",
								LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k8s-app", Operator: metav1.LabelSelectorOpIn, Values: []string{"kube-dns"}}}},
							},
						}},
					}},
					Containers: []corev1.Container{{Name: "coredns", Image: "registry.k8s.io/coredns/coredns:v1.12.1"}},
				},
			},
		},
		Status: appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2},
	}
}

func TestSpreadCoreDNSIdempotent(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(kubeadmCoreDNS())

	if err := SpreadCoreDNS(ctx, cs); err != nil {
		t.Fatalf("first SpreadCoreDNS: %v", err)
	}
	first, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSpread(t, first)

	cs.ClearActions()
	if err := SpreadCoreDNS(ctx, cs); err != nil {
		t.Fatalf("second SpreadCoreDNS: %v", err)
	}
	second, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first.Spec, second.Spec) {
		t.Errorf("second SpreadCoreDNS changed the deployment:\n first %+v\nsecond %+v", first.Spec, second.Spec)
	}
	for _, a := range cs.Actions() {
		if a.GetVerb() == "create" {
			t.Errorf("second SpreadCoreDNS created %s", a.GetResource().Resource)
		}
	}

	pdbs, err := cs.PolicyV1().PodDisruptionBudgets("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pdbs.Items) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(pdbs.Items))
	}
	pdb := pdbs.Items[0]
	if pdb.Name != "coredns" || pdb.Spec.MinAvailable == nil || *pdb.Spec.MinAvailable != intstr.FromInt32(1) ||
		pdb.Spec.Selector.MatchLabels["k8s-app"] != "kube-dns" {
		t.Errorf("PodDisruptionBudget %+v, want coredns with minAvailable 1 over k8s-app=kube-dns", pdb)
	}
}

func checkSpread(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want kubeadm's 2", *d.Spec.Replicas)
	}
	spec := d.Spec.Template.Spec
	if len(spec.TopologySpreadConstraints) != 1 {
		t.Fatalf("topologySpreadConstraints %+v, want one", spec.TopologySpreadConstraints)
	}
	c := spec.TopologySpreadConstraints[0]
	if c.TopologyKey != ZoneLabel || c.WhenUnsatisfiable != corev1.DoNotSchedule || c.MaxSkew != 1 ||
		c.LabelSelector.MatchLabels["k8s-app"] != "kube-dns" {
		t.Errorf("topology spread constraint %+v, want zone, DoNotSchedule, maxSkew 1 over k8s-app=kube-dns", c)
	}
	anti := spec.Affinity.PodAntiAffinity
	if len(anti.RequiredDuringSchedulingIgnoredDuringExecution) != 1 ||
		anti.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("required anti-affinity %+v, want one term on kubernetes.io/hostname", anti.RequiredDuringSchedulingIgnoredDuringExecution)
	}
	if len(anti.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("kubeadm's preferred anti-affinity was lost: %+v", anti.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if len(spec.Containers) != 1 || spec.Containers[0].Image == "" {
		t.Errorf("containers damaged by the patch: %+v", spec.Containers)
	}
}

func TestSpreadCoreDNSWithoutCoreDNS(t *testing.T) {
	err := SpreadCoreDNS(context.Background(), fake.NewClientset())
	if err == nil {
		t.Fatal("want an error when kube-system/coredns does not exist")
	}
}

// The spread's rollout replaces both replicas at once and keeps both old
// ones serving until then.
func TestSpreadCoreDNSRollsOutInOneWave(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(kubeadmCoreDNS())
	if err := SpreadCoreDNS(ctx, cs); err != nil {
		t.Fatal(err)
	}
	d, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil || ru.MaxSurge == nil || ru.MaxSurge.String() != "100%" || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rolling update %+v, want maxSurge 100%% and maxUnavailable 0", ru)
	}
}

func TestAwaitCoreDNS(t *testing.T) {
	ctx := context.Background()
	waited, err := AwaitCoreDNS(ctx, fake.NewClientset(), time.Second)
	if waited || err != nil {
		t.Errorf("no coredns: waited %v, %v; want no wait and no error", waited, err)
	}
	waited, err = AwaitCoreDNS(ctx, fake.NewClientset(kubeadmCoreDNS()), time.Second)
	if waited || err != nil {
		t.Errorf("rolled out: waited %v, %v; want no wait and no error", waited, err)
	}
	rolling := kubeadmCoreDNS()
	rolling.Status.Replicas, rolling.Status.UpdatedReplicas = 4, 2 // the old two still there
	start := time.Now()
	waited, err = AwaitCoreDNS(ctx, fake.NewClientset(rolling), 1500*time.Millisecond)
	if !waited || err == nil {
		t.Errorf("rollout under way that does not end: waited %v, %v; want a wait and a timeout", waited, err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("gave up after %s, before its timeout", d)
	}
}

func TestRolledOut(t *testing.T) {
	d := kubeadmCoreDNS()
	if !rolledOut(d) {
		t.Error("finished rollout not recognised")
	}
	d.Generation = 2
	d.Status.ObservedGeneration = 1
	if rolledOut(d) {
		t.Error("unobserved generation counted as rolled out")
	}
	d.Status.ObservedGeneration = 2
	d.Status.Replicas = 3 // an old pod still running beside the new ones
	if rolledOut(d) {
		t.Error("rollout with an old replica left counted as done")
	}
}

// A cluster with fewer nodes than CoreDNS replicas (a user's one-node kind
// config) cannot spread them one per node: Up leaves CoreDNS as it is.
func TestCoreDNSSpreadable(t *testing.T) {
	cs := fake.NewClientset(kubeadmCoreDNS()) // 2 replicas
	for _, c := range []struct {
		nodes int
		want  bool
	}{{1, false}, {2, true}, {6, true}} {
		got, replicas, err := CoreDNSSpreadable(context.Background(), cs, c.nodes)
		if err != nil || got != c.want || replicas != 2 {
			t.Errorf("%d nodes: spreadable %v (%d replicas, %v), want %v", c.nodes, got, replicas, err, c.want)
		}
	}
	if _, _, err := CoreDNSSpreadable(context.Background(), fake.NewClientset(), 3); err == nil {
		t.Error("no error without a coredns deployment")
	}
}
