package monitor

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// LeaseHolder probes who holds a leader-election Lease (kube-system/
// kube-controller-manager, kube-system/kube-scheduler): the holder's node
// name, as the identity's part before "_" (component identities are
// "<hostname>_<uuid>"). An expired or released lease reads as "".
func LeaseHolder(cs kubernetes.Interface, namespace, name string) Probe {
	return func(ctx context.Context) (string, error) {
		l, err := cs.CoordinationV1().Leases(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("get lease %s/%s: %w", namespace, name, err)
		}
		if l.Spec.HolderIdentity == nil {
			return "", nil
		}
		holder, _, _ := strings.Cut(*l.Spec.HolderIdentity, "_")
		return holder, nil
	}
}

// ReadyPods probes how many pods matching selector in namespace are Ready,
// as a decimal number. Pods being deleted count as long as they are Ready:
// they still serve.
func ReadyPods(cs kubernetes.Interface, namespace, selector string) Probe {
	return func(ctx context.Context) (string, error) {
		pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: "0"})
		if err != nil {
			return "", fmt.Errorf("list pods %s in %s: %w", selector, namespace, err)
		}
		n := 0
		for _, p := range pods.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == "Ready" && c.Status == "True" {
					n++
				}
			}
		}
		return strconv.Itoa(n), nil
	}
}

// DisruptionsAllowed probes a PodDisruptionBudget's status.disruptionsAllowed
// as a decimal number.
func DisruptionsAllowed(cs kubernetes.Interface, namespace, name string) Probe {
	return func(ctx context.Context) (string, error) {
		pdb, err := cs.PolicyV1().PodDisruptionBudgets(namespace).Get(ctx, name, metav1.GetOptions{ResourceVersion: "0"})
		if err != nil {
			return "", fmt.Errorf("get pdb %s/%s: %w", namespace, name, err)
		}
		return strconv.Itoa(int(pdb.Status.DisruptionsAllowed)), nil
	}
}

// APIServerEndpoints returns host:port of every API server, read from the
// EndpointSlices of the default/kubernetes Service, sorted.
func APIServerEndpoints(ctx context.Context, cs kubernetes.Interface) ([]string, error) {
	slices_, err := cs.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=kubernetes",
	})
	if err != nil {
		return nil, fmt.Errorf("list the API servers' endpoints: %w", err)
	}
	var out []string
	for _, s := range slices_.Items {
		for _, p := range s.Ports {
			if p.Port == nil || (p.Name != nil && *p.Name != "https") {
				continue
			}
			for _, e := range s.Endpoints {
				for _, a := range e.Addresses {
					out = append(out, net.JoinHostPort(a, strconv.Itoa(int(*p.Port))))
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the kubernetes Service has no endpoints")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Rolled-out states of DeploymentRollout.
const RolloutComplete = "complete"

// DeploymentRollout probes a Deployment's rollout: RolloutComplete when every
// replica is updated, Ready and available and no old one is left, otherwise
// what is missing.
func DeploymentRollout(cs kubernetes.Interface, namespace, name string) Probe {
	return func(ctx context.Context) (string, error) {
		d, err := cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{ResourceVersion: "0"})
		if err != nil {
			return "", fmt.Errorf("get deployment %s/%s: %w", namespace, name, err)
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		st := d.Status
		if st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.ReadyReplicas == want &&
			st.AvailableReplicas == want && st.Replicas == want {
			return RolloutComplete, nil
		}
		return fmt.Sprintf("rolling: %d updated, %d ready, %d total of %d", st.UpdatedReplicas, st.ReadyReplicas, st.Replicas, want), nil
	}
}

// NewAPICheck returns an HTTPCheck of an API server URL (the load balancer's
// or one server's /readyz) with the credentials and CA of a client
// configuration.
func NewAPICheck(cfg *rest.Config, rawURL string, conn Connection) (*HTTPCheck, error) {
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("TLS configuration for %s: %w", rawURL, err)
	}
	opts := []HTTPOption{HTTPWithTLSConfig(tlsCfg)}
	if cfg.BearerToken != "" {
		opts = append(opts, HTTPWithBearerToken(cfg.BearerToken))
	}
	return NewHTTPCheck(rawURL, conn, opts...)
}

// APIServerCheck is a Check of rawURL over a new connection each time, as
// NewAPICheck builds it; a configuration error fails every check.
func APIServerCheck(cfg *rest.Config, rawURL string) Check {
	h, err := NewAPICheck(cfg, rawURL, NewConnections)
	if err != nil {
		return func(context.Context) error { return err }
	}
	return h.Check
}
