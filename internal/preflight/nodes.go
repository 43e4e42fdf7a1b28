package preflight

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// nodeLeaseNamespace holds each kubelet's heartbeat Lease, named after its
// node.
const nodeLeaseNamespace = "kube-node-lease"

// Labels that mark a control-plane node (the second one before Kubernetes
// 1.24).
var controlPlaneLabels = []string{"node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"}

// nodeSnapshot is what readNodes saw.
type nodeSnapshot struct {
	// nodes are sorted control-plane first, then by name.
	nodes []corev1.Node
	// leases are the kubelets' heartbeat Leases by node name; empty when
	// they cannot be read.
	leases map[string]coordinationv1.Lease
	// err is why the nodes could not be read.
	err error
}

// readNodes lists the nodes and their kubelets' leases. Leases that cannot
// be read (RBAC, a cluster without node leases) are left out: heartbeats are
// then read from the nodes' Ready conditions.
func readNodes(ctx context.Context, cs kubernetes.Interface) nodeSnapshot {
	list, err := retryTransient(ctx, func(ctx context.Context) (*corev1.NodeList, error) {
		return cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	})
	if err != nil {
		return nodeSnapshot{err: fmt.Errorf("list nodes: %w", err)}
	}
	s := nodeSnapshot{nodes: list.Items, leases: map[string]coordinationv1.Lease{}}
	slices.SortFunc(s.nodes, func(a, b corev1.Node) int {
		if ca, cb := isControlPlane(&a), isControlPlane(&b); ca != cb {
			if ca {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	leases, err := retryTransient(ctx, func(ctx context.Context) (*coordinationv1.LeaseList, error) {
		return cs.CoordinationV1().Leases(nodeLeaseNamespace).List(ctx, metav1.ListOptions{})
	})
	if err == nil {
		for _, l := range leases.Items {
			s.leases[l.Name] = l
		}
	}
	return s
}

func isControlPlane(n *corev1.Node) bool {
	for _, l := range controlPlaneLabels {
		if _, ok := n.Labels[l]; ok {
			return true
		}
	}
	return false
}

// controlPlane returns the control-plane nodes.
func (s nodeSnapshot) controlPlane() []corev1.Node {
	var out []corev1.Node
	for _, n := range s.nodes {
		if isControlPlane(&n) {
			out = append(out, n)
		}
	}
	return out
}

// checkNodes checks that every node is Ready, its kubelet's lease is
// current, and it is not cordoned.
func checkNodes(s nodeSnapshot, now time.Time) Check {
	if s.err != nil {
		return failed(CheckNodes, []string{s.err.Error()}, "")
	}
	if len(s.nodes) == 0 {
		return failed(CheckNodes, []string{"no nodes"}, "")
	}
	var problems []string
	for i := range s.nodes {
		n := &s.nodes[i]
		var lease *coordinationv1.Lease
		if l, ok := s.leases[n.Name]; ok {
			lease = &l
		}
		if p := nodeProblem(n, lease, now); p != "" {
			problems = append(problems, p)
		}
	}
	cps := len(s.controlPlane())
	if len(problems) > 0 {
		return failed(CheckNodes, problems, fmt.Sprintf("%d of %d nodes Ready and schedulable", len(s.nodes)-len(problems), len(s.nodes)))
	}
	return Check{Name: CheckNodes, Status: StatusOK,
		Detail: fmt.Sprintf("%s (%d control-plane), all Ready and schedulable", plural(len(s.nodes), "node"), cps)}
}

// nodeProblem says what is wrong with a node, "" if nothing: not Ready
// (with the condition's reason and message and the last heartbeat), Ready
// but with an expired kubelet lease (a node stopped less than the node
// controller's grace period ago), cordoned.
func nodeProblem(n *corev1.Node, lease *coordinationv1.Lease, now time.Time) string {
	var ready *corev1.NodeCondition
	for i, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = &n.Status.Conditions[i]
		}
	}
	var why []string
	switch {
	case ready == nil:
		why = append(why, "has no Ready condition ("+heartbeat(nil, lease, now)+")")
	case ready.Status != corev1.ConditionTrue:
		s := "is NotReady (Ready=" + string(ready.Status)
		if ready.Reason != "" {
			s += ", " + ready.Reason
		}
		if m := strings.TrimSpace(ready.Message); m != "" {
			s += ": " + m
		}
		why = append(why, s+"; "+heartbeat(ready, lease, now)+")")
	case leaseExpired(lease, now):
		why = append(why, fmt.Sprintf("is Ready but its kubelet lease expired: %s, lease duration %ds",
			heartbeat(ready, lease, now), *lease.Spec.LeaseDurationSeconds))
	}
	if n.Spec.Unschedulable {
		why = append(why, "is cordoned")
	}
	if len(why) == 0 {
		return ""
	}
	return n.Name + " " + strings.Join(why, " and ")
}

// leaseExpired tells whether a kubelet lease was last renewed longer ago
// than its duration.
func leaseExpired(l *coordinationv1.Lease, now time.Time) bool {
	if l == nil || l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return false
	}
	return now.Sub(l.Spec.RenewTime.Time) > time.Duration(*l.Spec.LeaseDurationSeconds)*time.Second
}

// heartbeat describes a node's last heartbeat: its kubelet's lease renewal
// when known (kubelets renew it every 10 s, but post their status only
// every few minutes when nothing changes), else the Ready condition's.
func heartbeat(ready *corev1.NodeCondition, lease *coordinationv1.Lease, now time.Time) string {
	if lease != nil && lease.Spec.RenewTime != nil {
		return "kubelet lease last renewed " + ago(lease.Spec.RenewTime.Time, now)
	}
	if ready != nil && !ready.LastHeartbeatTime.IsZero() {
		return "last heartbeat " + ago(ready.LastHeartbeatTime.Time, now)
	}
	return "no heartbeat recorded"
}

// ago says how long before now t was, to the second, or when it was if it
// is in the future (clocks disagree).
func ago(t, now time.Time) string {
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return "at " + t.UTC().Format(time.RFC3339)
	}
	return d.String() + " ago"
}
