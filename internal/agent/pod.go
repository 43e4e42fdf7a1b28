package agent

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/kube"
)

// Image is the agent's image, built offline as every drill image is.
const Image = "drill.local/drill-agent:v1"

// Namespace is the drill-owned namespace the agents run in, labelled for
// the privileged Pod Security level their pods need.
const Namespace = "drill-agents"

// ServiceAccount is the agents' service account: it may read and annotate
// their leases, nothing else.
const ServiceAccount = "drill-agent"

// NamespaceObject returns the agents' namespace: drill's, and privileged
// under Pod Security admission (enforced, audited and warned alike).
func NamespaceObject() *corev1.Namespace {
	labels := map[string]string{}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = "privileged"
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace, Labels: kube.ManagedLabels(labels)}}
}

// PodInput says which fault an agent pod runs, where, and for how long.
type PodInput struct {
	// Node is the node the pod runs on.
	Node string
	// Fault is "isolate" or "services".
	Fault string
	// Hold and Margin go to the agent (Plan).
	Hold, Margin time.Duration
	// Lease is the name of the lease in Namespace the pod and the harness
	// share; it names the pod too.
	Lease string
	// Image overrides Image.
	Image string
	// RevertOnly starts an agent that only reverts Fault (RevertOnly):
	// the one that injected it is gone.
	RevertOnly bool
	// Backstop goes to the agent (Plan).
	Backstop time.Duration
}

// Pod returns the agent's pod for in: on in.Node, with the node's PID and
// network namespaces, privileged, tolerating every taint (a cordoned or
// NotReady node, a control-plane node), never restarted, with small
// resource limits, and a grace period long enough for its revert.
func Pod(in PodInput) (*corev1.Pod, error) {
	if in.Node == "" || in.Lease == "" || in.Hold <= 0 {
		return nil, fmt.Errorf("agent pod: a node, a lease and a hold are needed (node %q, lease %q, hold %s)", in.Node, in.Lease, in.Hold)
	}
	if in.Fault != "isolate" && in.Fault != "services" {
		return nil, fmt.Errorf("agent pod: fault %q: want isolate or services", in.Fault)
	}
	image := in.Image
	if image == "" {
		image = Image
	}
	privileged := true
	grace := int64(revertTimeout / time.Second)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      in.Lease,
			Namespace: Namespace,
			Labels:    kube.ManagedLabels(map[string]string{"app.kubernetes.io/name": "drill-agent", "drill.sre/fault": in.Fault}),
		},
		Spec: corev1.PodSpec{
			NodeName:                      in.Node,
			HostPID:                       true,
			HostNetwork:                   true,
			DNSPolicy:                     corev1.DNSClusterFirstWithHostNet,
			RestartPolicy:                 corev1.RestartPolicyNever,
			ServiceAccountName:            ServiceAccount,
			TerminationGracePeriodSeconds: &grace,
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			PriorityClassName:             "system-node-critical",
			Containers: []corev1.Container{{
				Name:            "agent",
				Image:           image,
				Args:            args(in),
				SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				},
			}},
		},
	}, nil
}

// args are the agent's command line for in.
func args(in PodInput) []string {
	a := []string{
		"--fault", in.Fault,
		"--hold", in.Hold.String(),
		"--margin", in.Margin.String(),
		"--lease-namespace", Namespace,
		"--lease", in.Lease,
	}
	if in.Backstop > 0 {
		a = append(a, "--backstop", in.Backstop.String())
	}
	if in.RevertOnly {
		a = append(a, "--revert-only")
	}
	return a
}

// LeaseName names the lease (and the pod) of fault on node: a DNS label.
func LeaseName(fault, node string) string {
	name := strings.ToLower(fault + "-" + node)
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name)
	if len(name) > 63 {
		name = name[:63]
	}
	return strings.Trim(name, "-")
}
