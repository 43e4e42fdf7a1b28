package cluster

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/e2e-framework/klient/wait"
)

// Well-known node labels.
const (
	ZoneLabel         = "topology.kubernetes.io/zone"
	controlPlaneLabel = "node-role.kubernetes.io/control-plane"
)

// ListNodes lists the cluster's Node objects as Nodes, sorted by role
// (control-plane first) then name. Container is left empty.
func ListNodes(ctx context.Context, cs kubernetes.Interface) ([]Node, error) {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	nodes := make([]Node, 0, len(list.Items))
	for i := range list.Items {
		nodes = append(nodes, nodeFromObject(&list.Items[i]))
	}
	sortNodes(nodes)
	return nodes, nil
}

func nodeFromObject(n *corev1.Node) Node {
	node := Node{Name: n.Name, Role: RoleWorker, Zone: n.Labels[ZoneLabel]}
	if _, ok := n.Labels[controlPlaneLabel]; ok {
		node.Role = RoleControlPlane
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			node.Ready = c.Status == corev1.ConditionTrue
		}
	}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && node.InternalIP == "" {
			node.InternalIP = a.Address
		}
	}
	return node
}

func sortNodes(nodes []Node) {
	sort.SliceStable(nodes, func(i, j int) bool {
		if nodes[i].Role != nodes[j].Role {
			return nodes[i].Role == RoleControlPlane
		}
		return nodes[i].Name < nodes[j].Name
	})
}

// WaitForNodesReady polls until the cluster has at least want nodes (all of
// them if want is 0) and every node is Ready, or timeout passes. The error
// then says which nodes are not Ready.
func WaitForNodesReady(ctx context.Context, cs kubernetes.Interface, want int, timeout time.Duration) error {
	var last []Node
	var lastErr error
	err := wait.For(func(ctx context.Context) (bool, error) {
		last, lastErr = ListNodes(ctx, cs)
		if lastErr != nil {
			return false, nil // the API server may still be coming up
		}
		return nodesReady(last, want), nil
	}, wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(2*time.Second), wait.WithImmediate())
	if err != nil {
		if lastErr != nil {
			return fmt.Errorf("wait %s for nodes Ready: %w (last error: %v)", timeout, err, lastErr)
		}
		return fmt.Errorf("wait %s for nodes Ready: %w (%s)", timeout, err, describeNotReady(last, want))
	}
	return nil
}

func nodesReady(nodes []Node, want int) bool {
	if len(nodes) == 0 || len(nodes) < want {
		return false
	}
	for _, n := range nodes {
		if !n.Ready {
			return false
		}
	}
	return true
}

func describeNotReady(nodes []Node, want int) string {
	var notReady []string
	for _, n := range nodes {
		if !n.Ready {
			notReady = append(notReady, n.Name)
		}
	}
	return fmt.Sprintf("%d of %d wanted nodes registered, not Ready: %v", len(nodes), want, notReady)
}
