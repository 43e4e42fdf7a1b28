package framework

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// NetexecPort is the HTTP port of `agnhost netexec`.
const NetexecPort = 8080

// CreateNetexecDeploymentInput is the input of CreateNetexecDeployment.
type CreateNetexecDeploymentInput struct {
	Clientset kubernetes.Interface
	Namespace string
	Name      string
	Replicas  int32
	// SpreadOverZones adds a zone topology spread constraint (maxSkew 1,
	// DoNotSchedule).
	SpreadOverZones bool
	// OnePerNode adds a required pod anti-affinity on hostnames.
	OnePerNode bool
}

// CreateNetexecDeployment creates a Deployment of `agnhost netexec` pods,
// Ready when their HTTP port answers.
func CreateNetexecDeployment(ctx context.Context, input CreateNetexecDeploymentInput) *appsv1.Deployment {
	Expect(input.Clientset).NotTo(BeNil(), "CreateNetexecDeployment: Clientset is required")
	Expect(input.Namespace).NotTo(BeEmpty(), "CreateNetexecDeployment: Namespace is required")
	Expect(input.Name).NotTo(BeEmpty(), "CreateNetexecDeployment: Name is required")
	Expect(input.Replicas).To(BeNumerically(">", 0), "CreateNetexecDeployment: Replicas must be positive")

	podLabels := map[string]string{"app": input.Name}
	selector := &metav1.LabelSelector{MatchLabels: podLabels}
	spec := corev1.PodSpec{
		TerminationGracePeriodSeconds: ptr.To[int64](1),
		Containers: []corev1.Container{{
			Name:            "netexec",
			Image:           AgnhostImage,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Args:            []string{"netexec", fmt.Sprintf("--http-port=%d", NetexecPort)},
			Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: NetexecPort}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(NetexecPort)}},
				PeriodSeconds: 1,
			},
		}},
	}
	if input.SpreadOverZones {
		spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew:           1,
			TopologyKey:       corev1.LabelTopologyZone,
			WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector:     selector,
		}}
	}
	if input.OnePerNode {
		spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey:   corev1.LabelHostname,
				LabelSelector: selector,
			}},
		}}
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: input.Name, Namespace: input.Namespace, Labels: podLabels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(input.Replicas),
			Selector: selector,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: spec},
		},
	}
	d, err := input.Clientset.AppsV1().Deployments(input.Namespace).Create(ctx, d, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred(), "create deployment %s/%s", input.Namespace, input.Name)
	return d
}

// WaitForDeploymentAvailableInput is the input of WaitForDeploymentAvailable.
type WaitForDeploymentAvailableInput struct {
	Clientset  kubernetes.Interface
	Deployment *appsv1.Deployment
}

// WaitForDeploymentAvailable waits until every replica of the Deployment is
// updated and available, and returns its pods. On failure it describes the
// pods and the namespace's events.
func WaitForDeploymentAvailable(ctx context.Context, input WaitForDeploymentAvailableInput, intervals ...interface{}) []corev1.Pod {
	Expect(input.Clientset).NotTo(BeNil(), "WaitForDeploymentAvailable: Clientset is required")
	Expect(input.Deployment).NotTo(BeNil(), "WaitForDeploymentAvailable: Deployment is required")
	d := input.Deployment
	Eventually(func(g Gomega) {
		got, err := input.Clientset.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		want := ptr.Deref(got.Spec.Replicas, 1)
		g.Expect(got.Status.ObservedGeneration).To(BeNumerically(">=", got.Generation))
		g.Expect(got.Status.UpdatedReplicas).To(Equal(want))
		g.Expect(got.Status.AvailableReplicas).To(Equal(want))
		g.Expect(got.Status.Replicas).To(Equal(want))
	}, intervals...).WithContext(ctx).Should(Succeed(), func() string {
		return DescribeDeployment(ctx, input.Clientset, d)
	})
	return PodsOf(ctx, input.Clientset, d)
}

// PodsOf lists the running pods of a Deployment.
func PodsOf(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) []corev1.Pod {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	Expect(err).NotTo(HaveOccurred(), "selector of deployment %s/%s", d.Namespace, d.Name)
	pods, err := cs.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: sel.String(),
		FieldSelector: "status.phase=Running",
	})
	Expect(err).NotTo(HaveOccurred(), "list pods of deployment %s/%s", d.Namespace, d.Name)
	var live []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	return live
}

// DescribeDeployment tells where a Deployment's pods are and why they are not
// ready, with the namespace's events.
func DescribeDeployment(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "deployment %s/%s is not available\n", d.Namespace, d.Name)
	pods, err := cs.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String(),
	})
	if err != nil {
		fmt.Fprintf(&b, "  (list pods: %v)\n", err)
	} else {
		for _, p := range pods.Items {
			fmt.Fprintf(&b, "  pod %s on %q: %s", p.Name, p.Spec.NodeName, p.Status.Phase)
			for _, c := range p.Status.Conditions {
				if c.Status != corev1.ConditionTrue {
					fmt.Fprintf(&b, ", %s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message)
				}
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("events:\n")
	b.WriteString(DescribeEvents(ctx, cs, d.Namespace))
	return b.String()
}
