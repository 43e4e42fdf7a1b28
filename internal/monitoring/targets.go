package monitoring

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Defaults of what DiscoverTargets reads, where the cluster does not say.
const (
	defaultAPIServerPort = 6443
	defaultKubeletPort   = 10250
)

// DiscoverTargets reads the static scrape targets from the cluster: the
// kube-apiserver mirror pods of kube-system (their IP, the port of
// --secure-port, their node) and every node's InternalIP and kubelet port.
// The result is sorted, so that an unchanged cluster gives an unchanged
// configuration.
func DiscoverTargets(ctx context.Context, cs kubernetes.Interface) (Targets, error) {
	var t Targets
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return t, fmt.Errorf("list nodes: %w", err)
	}
	nodeIPs := map[string]string{}
	for _, n := range nodes.Items {
		ip := internalIP(&n)
		if ip == "" {
			return t, fmt.Errorf("node %s has no InternalIP to scrape", n.Name)
		}
		nodeIPs[n.Name] = ip
		port := int(n.Status.DaemonEndpoints.KubeletEndpoint.Port)
		if port == 0 {
			port = defaultKubeletPort
		}
		t.Nodes = append(t.Nodes, Target{Address: net.JoinHostPort(ip, strconv.Itoa(port)), Node: n.Name})
	}

	pods, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "component=kube-apiserver"})
	if err != nil {
		return t, fmt.Errorf("list the kube-apiserver pods: %w", err)
	}
	for _, p := range pods.Items {
		// A mirror pod's IP is its node's (host network); a pod whose
		// status is not yet known has the node's address all the same.
		ip := cmp.Or(p.Status.PodIP, p.Status.HostIP, nodeIPs[p.Spec.NodeName])
		if ip == "" || p.Spec.NodeName == "" {
			return t, fmt.Errorf("kube-apiserver pod %s (node %q) has no address to scrape", p.Name, p.Spec.NodeName)
		}
		t.APIServers = append(t.APIServers, Target{Address: net.JoinHostPort(ip, strconv.Itoa(securePort(&p))), Node: p.Spec.NodeName})
	}
	if len(t.APIServers) == 0 {
		return t, fmt.Errorf("no kube-apiserver pods in kube-system (label component=kube-apiserver): job %s scrapes the API servers' static pods, as kubeadm makes them", JobAPIServers)
	}

	byNode := func(a, b Target) int { return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.Address, b.Address)) }
	slices.SortFunc(t.Nodes, byNode)
	slices.SortFunc(t.APIServers, byNode)
	return t, nil
}

func internalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && a.Address != "" {
			return a.Address
		}
	}
	return ""
}

// securePort is the port of kube-apiserver's --secure-port flag in its pod,
// 6443 (kubeadm's default) when it is not there.
func securePort(p *corev1.Pod) int {
	for _, c := range p.Spec.Containers {
		for _, a := range slices.Concat(c.Command, c.Args) {
			if v, ok := strings.CutPrefix(a, "--secure-port="); ok {
				if port, err := strconv.Atoi(v); err == nil && port > 0 {
					return port
				}
			}
		}
	}
	return defaultAPIServerPort
}
