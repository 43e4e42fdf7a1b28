// Package cluster provides the Kubernetes clusters drills run against.
//
// A Provider brings a cluster up (or checks that it is up), says where its
// kubeconfig is and lists its nodes. What a drill can do beyond that depends on
// the provider and is found by type assertion on optional capabilities:
// NodeLifecycle (stop, kill and start node machines), ImageLoader, EtcdAccess,
// APIServerLoadBalancer, LogCollector and Deleter. Kind, a local kind cluster in
// docker, has all of them; Existing, a cluster reached through a kubeconfig, has
// none.
package cluster

import (
	"context"
	"fmt"
	"io"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Provider is a cluster drills can run against.
type Provider interface {
	// Name is the cluster's name.
	Name() string
	// Up makes the cluster usable: it creates or reuses it where the provider
	// can, and returns once every node is Ready.
	Up(ctx context.Context) (UpResult, error)
	// Kubeconfig says which kubeconfig file and context reach the cluster.
	Kubeconfig() Kubeconfig
	// Nodes lists the cluster's nodes with their role, zone and readiness.
	Nodes(ctx context.Context) ([]Node, error)
}

// Deleter is a provider that can delete its cluster.
type Deleter interface {
	// Delete deletes the cluster and everything it ran on. Deleting a cluster
	// that does not exist succeeds.
	Delete(ctx context.Context) error
}

// AddressKeeper is a NodeLifecycle whose StartNode can be told the address
// a node had, when another process stopped it (drill recover).
type AddressKeeper interface {
	// KeepAddress makes the next StartNode of node reconnect it with ip,
	// unless this process saw its addresses itself.
	KeepAddress(ctx context.Context, node, ip string) error
}

// NodeLifecycle is a provider whose nodes are machines it can stop, kill and
// start. Nodes are named as in Node.Name.
type NodeLifecycle interface {
	// StopNode shuts the node down cleanly (its stop signal, then a kill after
	// the grace period).
	StopNode(ctx context.Context, node string) error
	// KillNode sends signal (for example "SIGKILL") to the node's machine.
	KillNode(ctx context.Context, node, signal string) error
	// StartNode starts a stopped or killed node.
	StartNode(ctx context.Context, node string) error
	// NodeRunning says whether the node's machine runs, and describes its
	// state ("running", "exited (137)").
	NodeRunning(ctx context.Context, node string) (running bool, state string, err error)
}

// NodeExecer is a provider that can run commands on its nodes as root, as an
// operator with a shell on the machine would.
type NodeExecer interface {
	// ExecOnNode runs cmd on node and returns its standard output. A failure
	// carries the command's output.
	ExecOnNode(ctx context.Context, node string, cmd ...string) (string, error)
	// ExecOnNodeInput is ExecOnNode with stdin as the command's input.
	ExecOnNodeInput(ctx context.Context, node string, stdin io.Reader, cmd ...string) (string, error)
}

// ImageLoader is a provider that can put container images on its nodes
// without a registry.
type ImageLoader interface {
	// LoadImages puts each image onto every node that lacks it. Images that
	// are not available locally are skipped and reported, so that the kubelet
	// pulls them.
	LoadImages(ctx context.Context, images ...string) (LoadResult, error)
}

// HostAddresser is a provider whose nodes reach the machine drill runs on
// at an address it knows: where drill serves what the cluster calls back,
// such as Alertmanager's webhook.
type HostAddresser interface {
	// HostAddress is this machine's IP address as the nodes reach it.
	HostAddress(ctx context.Context) (string, error)
}

// EtcdAccess is a provider that can reach the cluster's etcd members directly.
type EtcdAccess interface {
	// EtcdConfig returns a client configuration for every etcd member, with
	// client certificates the members trust.
	EtcdConfig(ctx context.Context) (clientv3.Config, error)
}

// APIServerLoadBalancer is a provider that fronts its API servers with a load
// balancer it can describe.
type APIServerLoadBalancer interface {
	// LoadBalancer describes the load balancer in front of the API servers.
	LoadBalancer(ctx context.Context) (LoadBalancer, error)
}

// LogCollector is a provider that can dump its nodes' logs for evidence.
type LogCollector interface {
	// CollectLogs writes the nodes' logs under dir.
	CollectLogs(ctx context.Context, dir string) error
}

// Role is a node's role in the cluster.
type Role string

// Node roles.
const (
	RoleControlPlane Role = "control-plane"
	RoleWorker       Role = "worker"
)

// Node is one node of a cluster.
type Node struct {
	// Name is the Kubernetes node name.
	Name string
	Role Role
	// Zone is the node's topology.kubernetes.io/zone label, "" if unset.
	Zone string
	// Ready is the node's Ready condition.
	Ready bool
	// InternalIP is the node's InternalIP address, "" if unknown.
	InternalIP string
	// Container is the container the node runs in, "" when the provider does
	// not run nodes in containers.
	Container string
}

// Kubeconfig locates a cluster's credentials.
type Kubeconfig struct {
	// Path is the kubeconfig file.
	Path string
	// Context is the context to use, "" for the file's current context.
	Context string
}

// UpResult says what Up did.
type UpResult struct {
	// Created is true if Up created the cluster, false if it reused one.
	Created bool
	// CreateTime is how long creating the cluster took (zero when reused),
	// up to the point where the provider handed over.
	CreateTime time.Duration
	// Total is how long Up took, waits for readiness included.
	Total time.Duration
}

// LoadResult says what LoadImages did.
type LoadResult struct {
	// Loaded maps each loaded image to the nodes it was loaded onto.
	Loaded map[string][]string
	// Present lists the images every node already had.
	Present []string
	// Missing lists the images that are not available locally and were left
	// for the kubelet to pull.
	Missing []string
}

// LoadBalancer describes an API server load balancer.
type LoadBalancer struct {
	// Container is the load balancer's container, "" if it has none.
	Container string
	// Endpoint is the host:port clients reach the API servers through.
	Endpoint string
}

// RESTConfig builds a client configuration from a kubeconfig file and context.
func RESTConfig(kc Kubeconfig) (*rest.Config, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: kc.Path}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kc.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s (context %q): %w", kc.Path, kc.Context, err)
	}
	return cfg, nil
}

// Clientset returns a Kubernetes client for a provider's cluster.
func Clientset(p Provider) (kubernetes.Interface, error) {
	cfg, err := RESTConfig(p.Kubeconfig())
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for cluster %s: %w", p.Name(), err)
	}
	return cs, nil
}
