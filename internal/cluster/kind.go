package cluster

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/guard"
	"github.com/drill-sre/drill/internal/timing"
)

// Defaults of the Kind provider, shared with the CLI and the suites.
const (
	DefaultName       = "drill"
	DefaultKindConfig = "kind-config.yaml"
	DefaultKubeconfig = "_output/kubeconfig"
	DefaultWait       = 5 * time.Minute
)

// Kind is a kind cluster: nodes are docker containers on this host, driven
// through kind's Go library and the Docker Engine API.
type Kind struct {
	name       string
	configPath string
	kubeconfig string
	wait       time.Duration
	retain     bool
	logger     log.Logger
	kind       *kindcluster.Provider
	docker     client.APIClient

	// addrs are the addresses nodes had when this process stopped or
	// killed them, by node and network, for StartNode to give back.
	addrsMu sync.Mutex
	addrs   map[string]map[string]*network.EndpointSettings
}

var (
	_ Provider              = (*Kind)(nil)
	_ Deleter               = (*Kind)(nil)
	_ NodeLifecycle         = (*Kind)(nil)
	_ NodeExecer            = (*Kind)(nil)
	_ ImageLoader           = (*Kind)(nil)
	_ HostAddresser         = (*Kind)(nil)
	_ EtcdAccess            = (*Kind)(nil)
	_ APIServerLoadBalancer = (*Kind)(nil)
	_ LogCollector          = (*Kind)(nil)
)

// KindOption configures a Kind provider.
type KindOption interface {
	apply(*Kind)
}

type kindOptionFunc func(*Kind)

func (f kindOptionFunc) apply(k *Kind) { f(k) }

// KindWithConfig creates the cluster from a kind config file (kind.x-k8s.io/
// v1alpha4). Without it, kind's default single-node cluster is created.
func KindWithConfig(path string) KindOption {
	return kindOptionFunc(func(k *Kind) { k.configPath = path })
}

// KindWithKubeconfig sets the kubeconfig file Up writes (default
// DefaultKubeconfig). kind merges its context, kind-<name>, into the file.
func KindWithKubeconfig(path string) KindOption {
	return kindOptionFunc(func(k *Kind) { k.kubeconfig = path })
}

// KindWithWait sets how long Up waits for nodes and for system rollouts
// (default DefaultWait).
func KindWithWait(d time.Duration) KindOption {
	return kindOptionFunc(func(k *Kind) { k.wait = d })
}

// KindWithRetain keeps the node containers when creation fails, for debugging.
func KindWithRetain(retain bool) KindOption {
	return kindOptionFunc(func(k *Kind) { k.retain = retain })
}

// KindWithLogger sets the logger progress is reported to (default: none).
// sigs.k8s.io/kind/pkg/cmd.NewLogger() gives kind's own status output. A
// logger wrapped by redact.Logger is unwrapped for kind's library only,
// whose spinner needs kind's own logger and which prints no text drill
// recorded.
func KindWithLogger(l log.Logger) KindOption {
	return kindOptionFunc(func(k *Kind) { k.logger = l })
}

// NewKind returns the provider of the kind cluster called name (DefaultName
// if empty). It does not touch docker yet.
func NewKind(name string, opts ...KindOption) (*Kind, error) {
	k := &Kind{
		name:       name,
		kubeconfig: DefaultKubeconfig,
		wait:       DefaultWait,
		logger:     log.NoopLogger{},
	}
	if k.name == "" {
		k.name = DefaultName
	}
	for _, o := range opts {
		o.apply(k)
	}
	if k.wait <= 0 {
		return nil, fmt.Errorf("kind provider: wait must be positive, got %s", k.wait)
	}
	if k.kubeconfig == "" {
		return nil, errors.New("kind provider: kubeconfig path is empty")
	}
	dc, err := newDockerClient()
	if err != nil {
		return nil, err
	}
	k.docker = dc
	kindLogger := k.logger
	if u, ok := kindLogger.(interface{ Unwrap() log.Logger }); ok {
		kindLogger = u.Unwrap()
	}
	k.kind = kindcluster.NewProvider(kindcluster.ProviderWithLogger(kindLogger), kindcluster.ProviderWithDocker())
	return k, nil
}

// Name implements Provider.
func (k *Kind) Name() string { return k.name }

// Kubeconfig implements Provider: the file Up writes, and kind's context.
func (k *Kind) Kubeconfig() Kubeconfig {
	return Kubeconfig{Path: k.kubeconfig, Context: "kind-" + k.name}
}

// Up implements Provider. It creates the cluster from the config file, or
// reuses the cluster of that name if it exists, writes the kubeconfig, waits
// until every node is Ready and spreads CoreDNS over zones (SpreadCoreDNS),
// leaving the rollout that starts to go on (AwaitCoreDNS).
// Every step is idempotent, so Up also repairs a half set-up cluster.
//
// kind's creation is not cancellable: ctx is checked before it starts and
// honoured by every later step.
func (k *Kind) Up(ctx context.Context) (UpResult, error) {
	defer timing.Start(ctx, "cluster up", timing.Cluster)()
	start := time.Now()
	res := UpResult{}
	nodeImage, err := NodeImage(k.configPath)
	if err != nil {
		return res, err
	}
	if err := checkDocker(ctx, k.docker); err != nil {
		return res, err
	}
	exists, err := k.exists()
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if exists {
		k.logger.V(0).Infof("Reusing cluster %q ...", k.name)
		if err := k.WriteKubeconfig(ctx, k.kubeconfig); err != nil {
			return res, err
		}
	} else {
		createStart := time.Now()
		if nodeImage != "" {
			k.logger.V(0).Infof(" • No node of %s names an image: using %s, the node image make images builds (kind's default is pinned by a digest a local build does not have)",
				cmp.Or(k.configPath, "kind's default cluster"), nodeImage)
		}
		if err := k.create(nodeImage); err != nil {
			return res, err
		}
		res.Created = true
		res.CreateTime = time.Since(createStart)
		k.logger.V(0).Infof(" • kind created cluster %q in %s", k.name, res.CreateTime.Round(100*time.Millisecond))
	}

	internal, err := k.kind.ListInternalNodes(k.name)
	if err != nil {
		return res, fmt.Errorf("list nodes of cluster %s: %w", k.name, err)
	}
	cs, err := k.clientset()
	if err != nil {
		return res, err
	}
	if err := step(k.logger, fmt.Sprintf("Waiting ≤ %s for %d nodes Ready", k.wait, len(internal)), func() error {
		return WaitForNodesReady(ctx, cs, len(internal), k.wait)
	}); err != nil {
		return res, fmt.Errorf("cluster %s: %w", k.name, err)
	}
	spreadable, replicas, err := CoreDNSSpreadable(ctx, cs, len(internal))
	if err != nil {
		return res, fmt.Errorf("cluster %s: %w", k.name, err)
	}
	if !spreadable {
		k.logger.V(0).Infof(" • Not spreading CoreDNS: its %d replicas need %d nodes, one each, and the cluster has %d", replicas, replicas, len(internal))
	} else if err := step(k.logger, "Spreading CoreDNS over zones (its rollout goes on: the old replicas serve until the new ones are Ready, and each drill waits for it first)", func() error {
		return SpreadCoreDNS(ctx, cs)
	}); err != nil {
		return res, fmt.Errorf("cluster %s: %w", k.name, err)
	}
	if res.Created {
		// A cluster drill created for itself carries the opt-in from the
		// start; a reused one keeps whatever it has.
		m := guard.Marker{By: "drill cluster up, which created kind cluster " + k.name, At: time.Now()}
		if err := guard.OptIn(ctx, cs, m); err != nil {
			return res, fmt.Errorf("cluster %s: %w", k.name, err)
		}
	}
	res.Total = time.Since(start)
	k.logger.V(0).Infof("Cluster %q is up (%s); kubeconfig %s, context %s",
		k.name, res.Total.Round(100*time.Millisecond), k.kubeconfig, k.Kubeconfig().Context)
	return res, nil
}

// create creates the cluster, with every node on nodeImage unless it is "".
func (k *Kind) create(nodeImage string) error {
	opts := []kindcluster.CreateOption{
		kindcluster.CreateWithKubeconfigPath(k.kubeconfig),
		kindcluster.CreateWithRetain(k.retain),
		// kind's own wait watches control-plane nodes only, in a busy loop;
		// Up waits for every node itself.
		kindcluster.CreateWithWaitForReady(0),
		kindcluster.CreateWithDisplayUsage(false),
		kindcluster.CreateWithDisplaySalutation(false),
	}
	if k.configPath != "" {
		opts = append(opts, kindcluster.CreateWithConfigFile(k.configPath))
	}
	if nodeImage != "" {
		opts = append(opts, kindcluster.CreateWithNodeImage(nodeImage))
	}
	if err := k.kind.Create(k.name, opts...); err != nil {
		if k.configPath != "" {
			return fmt.Errorf("create kind cluster %s from %s: %w", k.name, k.configPath, err)
		}
		return fmt.Errorf("create kind cluster %s: %w", k.name, err)
	}
	return nil
}

// exists says whether kind knows a cluster of this name.
func (k *Kind) exists() (bool, error) {
	names, err := k.kind.List()
	if err != nil {
		return false, fmt.Errorf("list kind clusters: %w", err)
	}
	return slices.Contains(names, k.name), nil
}

// mustExist returns an error telling how to create the cluster if it does
// not exist.
func (k *Kind) mustExist(ctx context.Context) error {
	if err := checkDocker(ctx, k.docker); err != nil {
		return err
	}
	ok, err := k.exists()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("kind cluster %q does not exist (drill cluster up --name %s creates it)", k.name, k.name)
	}
	return nil
}

// WriteKubeconfig writes, or merges, the cluster's kubeconfig (context
// kind-<name>, server on the host's published load-balancer port) into path.
func (k *Kind) WriteKubeconfig(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write kubeconfig of cluster %s: %w", k.name, err)
	}
	if err := k.kind.ExportKubeConfig(k.name, path, false); err != nil {
		return fmt.Errorf("write kubeconfig of cluster %s to %s: %w", k.name, path, err)
	}
	return nil
}

// clientset returns a Kubernetes client from kind's kubeconfig, read from the
// cluster rather than from the file, which may be stale or absent.
func (k *Kind) clientset() (kubernetes.Interface, error) {
	raw, err := k.kind.KubeConfig(k.name, false)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig of cluster %s: %w", k.name, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig of cluster %s: %w", k.name, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for cluster %s: %w", k.name, err)
	}
	return cs, nil
}

// Nodes implements Provider: the Kubernetes nodes with their containers, plus
// node containers that have no Node object (not Ready by definition).
func (k *Kind) Nodes(ctx context.Context) ([]Node, error) {
	if err := k.mustExist(ctx); err != nil {
		return nil, err
	}
	containers, err := k.nodeContainers()
	if err != nil {
		return nil, err
	}
	cs, err := k.clientset()
	if err != nil {
		return nil, err
	}
	objs, err := ListNodes(ctx, cs)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", k.name, err)
	}
	return withContainers(objs, containers), nil
}

// nodeContainers maps the names of the cluster's node containers (load
// balancer excluded) to their role.
func (k *Kind) nodeContainers() (map[string]Role, error) {
	all, err := k.kind.ListInternalNodes(k.name)
	if err != nil {
		return nil, fmt.Errorf("list nodes of cluster %s: %w", k.name, err)
	}
	containers := make(map[string]Role, len(all))
	for _, n := range all {
		role, err := n.Role()
		if err != nil {
			return nil, fmt.Errorf("role of node %s: %w", n, err)
		}
		containers[n.String()] = Role(role)
	}
	return containers, nil
}

// withContainers fills in the container of each node (kind names a node's
// container as the node, its hostname) and appends containers that have no
// Node object.
func withContainers(objs []Node, containers map[string]Role) []Node {
	out := make([]Node, 0, len(containers))
	seen := make(map[string]bool, len(objs))
	for _, n := range objs {
		if _, ok := containers[n.Name]; ok {
			n.Container = n.Name
			seen[n.Name] = true
		}
		out = append(out, n)
	}
	for name, role := range containers {
		if !seen[name] {
			out = append(out, Node{Name: name, Role: role, Container: name})
		}
	}
	sortNodes(out)
	return out
}

// Delete implements Deleter: kind deletes the node containers and the load
// balancer, and removes the context from the kubeconfig file. Delete then
// checks that no container of the cluster is left.
func (k *Kind) Delete(ctx context.Context) error {
	if err := checkDocker(ctx, k.docker); err != nil {
		return err
	}
	return step(k.logger, fmt.Sprintf("Deleting cluster %q", k.name), func() error {
		if err := k.kind.Delete(k.name, k.kubeconfig); err != nil {
			return fmt.Errorf("delete kind cluster %s: %w", k.name, err)
		}
		left, err := k.docker.ContainerList(ctx, container.ListOptions{
			All:     true,
			Filters: filters.NewArgs(filters.Arg("label", kindClusterLabel+"="+k.name)),
		})
		if err != nil {
			return fmt.Errorf("delete kind cluster %s: list containers left: %w", k.name, err)
		}
		if len(left) > 0 {
			var names []string
			for _, c := range left {
				names = append(names, c.Names...)
			}
			return fmt.Errorf("delete kind cluster %s: containers left behind: %v", k.name, names)
		}
		return nil
	})
}

// StopNode implements NodeLifecycle with `docker stop` semantics: the node's
// stop signal (SIGRTMIN+3 for systemd), then SIGKILL after docker's grace
// period.
func (k *Kind) StopNode(ctx context.Context, node string) error {
	info, err := clusterContainer(ctx, k.docker, k.name, node)
	if err != nil {
		return fmt.Errorf("stop node %s: %w", node, err)
	}
	k.rememberAddrs(node, info)
	if err := k.docker.ContainerStop(ctx, node, container.StopOptions{}); err != nil {
		return fmt.Errorf("stop node %s: %w", node, err)
	}
	return nil
}

// KillNode implements NodeLifecycle: signal goes to the node container's init.
func (k *Kind) KillNode(ctx context.Context, node, signal string) error {
	info, err := clusterContainer(ctx, k.docker, k.name, node)
	if err != nil {
		return fmt.Errorf("kill node %s: %w", node, err)
	}
	k.rememberAddrs(node, info)
	if err := k.docker.ContainerKill(ctx, node, signal); err != nil {
		return fmt.Errorf("kill node %s with %s: %w", node, signal, err)
	}
	return nil
}

// rememberAddrs keeps a running node's addresses for StartNode.
func (k *Kind) rememberAddrs(node string, info container.InspectResponse) {
	if info.State == nil || !info.State.Running || info.NetworkSettings == nil {
		return
	}
	nets := map[string]*network.EndpointSettings{}
	for name, ep := range info.NetworkSettings.Networks {
		if ep != nil && ep.IPAddress != "" {
			nets[name] = &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: ep.IPAddress, IPv6Address: ep.GlobalIPv6Address}}
		}
	}
	k.addrsMu.Lock()
	defer k.addrsMu.Unlock()
	if k.addrs == nil {
		k.addrs = map[string]map[string]*network.EndpointSettings{}
	}
	k.addrs[node] = nets
}

var _ AddressKeeper = (*Kind)(nil)

// KeepAddress implements AddressKeeper: ip on the node's one network.
func (k *Kind) KeepAddress(ctx context.Context, node, ip string) error {
	info, err := clusterContainer(ctx, k.docker, k.name, node)
	if err != nil {
		return fmt.Errorf("keep the address of node %s: %w", node, err)
	}
	if info.NetworkSettings == nil || len(info.NetworkSettings.Networks) != 1 {
		return fmt.Errorf("keep the address of node %s: it is not on exactly one network", node)
	}
	k.addrsMu.Lock()
	defer k.addrsMu.Unlock()
	if k.addrs == nil {
		k.addrs = map[string]map[string]*network.EndpointSettings{}
	}
	if k.addrs[node] != nil {
		return nil
	}
	for name := range info.NetworkSettings.Networks {
		k.addrs[node] = map[string]*network.EndpointSettings{name: {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: ip}}}
	}
	return nil
}

// addrsFromAPI returns the address a stopped node had on its one network,
// as its Node object says (InternalIP), or nil.
func (k *Kind) addrsFromAPI(ctx context.Context, node string, info container.InspectResponse) map[string]*network.EndpointSettings {
	if info.NetworkSettings == nil || len(info.NetworkSettings.Networks) != 1 {
		return nil
	}
	cs, err := Clientset(k)
	if err != nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nodes, err := ListNodes(cctx, cs)
	if err != nil {
		k.logger.Warnf("start node %s: its address is unknown here and the API does not answer (%v): Docker chooses one", node, err)
		return nil
	}
	for _, n := range nodes {
		if n.Name == node && n.InternalIP != "" {
			for name := range info.NetworkSettings.Networks {
				return map[string]*network.EndpointSettings{name: {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: n.InternalIP}}}
			}
		}
	}
	return nil
}

// StartNode implements NodeLifecycle. Docker does not keep a stopped
// container's IP for it: on a network whose allocator has moved on, the
// node would come back with another one, and its etcd member, bound to the
// old one, could not rejoin (kind#1689). A node this process stopped or
// killed is reconnected with the addresses it had first, as a machine keeps
// its address across a reboot; if one was taken meanwhile, it starts with
// what Docker gives it.
//
// A node that another process stopped (drill recover after the harness was
// killed) is reconnected with the InternalIP its Node object still has,
// when the API answers.
func (k *Kind) StartNode(ctx context.Context, node string) error {
	info, err := clusterContainer(ctx, k.docker, k.name, node)
	if err != nil {
		return fmt.Errorf("start node %s: %w", node, err)
	}
	k.addrsMu.Lock()
	nets := k.addrs[node]
	k.addrsMu.Unlock()
	if nets == nil && (info.State == nil || !info.State.Running) {
		nets = k.addrsFromAPI(ctx, node, info)
	}
	for name, ep := range nets {
		if err := k.docker.NetworkDisconnect(ctx, name, node, true); err != nil {
			k.logger.Warnf("start node %s: keep its address %s on network %s: disconnect: %v", node, ep.IPAMConfig.IPv4Address, name, err)
			continue
		}
		if err := k.docker.NetworkConnect(ctx, name, node, ep); err != nil {
			k.logger.Warnf("start node %s: address %s on network %s is taken (%v): Docker chooses one", node, ep.IPAMConfig.IPv4Address, name, err)
			if err := k.docker.NetworkConnect(ctx, name, node, nil); err != nil {
				return fmt.Errorf("start node %s: reconnect to network %s: %w", node, name, err)
			}
		}
	}
	if err := k.docker.ContainerStart(ctx, node, container.StartOptions{}); err != nil {
		return fmt.Errorf("start node %s: %w", node, err)
	}
	return nil
}

// NodeRunning implements NodeLifecycle from the node container's state.
func (k *Kind) NodeRunning(ctx context.Context, node string) (bool, string, error) {
	info, err := clusterContainer(ctx, k.docker, k.name, node)
	if err != nil {
		return false, "", fmt.Errorf("state of node %s: %w", node, err)
	}
	if info.State == nil {
		return false, "", fmt.Errorf("state of node %s: docker reports none", node)
	}
	state := info.State.Status
	if !info.State.Running {
		state = fmt.Sprintf("%s (exit code %d)", state, info.State.ExitCode)
	}
	return info.State.Running, state, nil
}

// ExecOnNode implements NodeExecer with `docker exec` into the node.
func (k *Kind) ExecOnNode(ctx context.Context, node string, cmd ...string) (string, error) {
	return k.ExecOnNodeInput(ctx, node, nil, cmd...)
}

// ExecOnNodeInput implements NodeExecer with `docker exec -i` into the node.
func (k *Kind) ExecOnNodeInput(ctx context.Context, node string, stdin io.Reader, cmd ...string) (string, error) {
	if len(cmd) == 0 {
		return "", fmt.Errorf("exec on node %s: no command", node)
	}
	all, err := k.kind.ListInternalNodes(k.name)
	if err != nil {
		return "", fmt.Errorf("list nodes of cluster %s: %w", k.name, err)
	}
	for _, n := range all {
		if n.String() != node {
			continue
		}
		var out bytes.Buffer
		c := n.CommandContext(ctx, cmd[0], cmd[1:]...).SetStdout(&out).SetStderr(&out)
		if stdin != nil {
			c.SetStdin(stdin)
		}
		if err := c.Run(); err != nil {
			return out.String(), fmt.Errorf("on node %s: %s: %w: %s", node, strings.Join(cmd, " "), err, strings.TrimSpace(out.String()))
		}
		return out.String(), nil
	}
	return "", fmt.Errorf("exec on node %s: no such node in cluster %s", node, k.name)
}

// LoadBalancer implements APIServerLoadBalancer: kind's external load
// balancer container and the host address its API server port is published
// on.
func (k *Kind) LoadBalancer(ctx context.Context) (LoadBalancer, error) {
	name := k.name + "-" + "external-load-balancer"
	info, err := clusterContainer(ctx, k.docker, k.name, name)
	if err != nil {
		return LoadBalancer{}, fmt.Errorf("load balancer of cluster %s (clusters with one control-plane node have none): %w", k.name, err)
	}
	if info.NetworkSettings == nil {
		return LoadBalancer{}, fmt.Errorf("load balancer %s: no network settings", name)
	}
	bindings := info.NetworkSettings.Ports[kindAPIServerPort]
	if len(bindings) == 0 {
		return LoadBalancer{}, fmt.Errorf("load balancer %s: port %s is not published", name, kindAPIServerPort)
	}
	return LoadBalancer{Container: name, Endpoint: net.JoinHostPort(bindings[0].HostIP, bindings[0].HostPort)}, nil
}

// CollectLogs implements LogCollector with kind's log export (journal,
// kubelet and containerd logs, pod logs of every node).
func (k *Kind) CollectLogs(ctx context.Context, dir string) error {
	if err := k.mustExist(ctx); err != nil {
		return err
	}
	if err := k.kind.CollectLogs(k.name, dir); err != nil {
		return fmt.Errorf("collect logs of cluster %s into %s: %w", k.name, dir, err)
	}
	return nil
}

// controlPlaneNodes returns the cluster's control-plane node containers.
func (k *Kind) controlPlaneNodes() ([]nodes.Node, error) {
	all, err := k.kind.ListInternalNodes(k.name)
	if err != nil {
		return nil, fmt.Errorf("list nodes of cluster %s: %w", k.name, err)
	}
	cps, err := nodeutils.ControlPlaneNodes(all)
	if err != nil {
		return nil, fmt.Errorf("control-plane nodes of cluster %s: %w", k.name, err)
	}
	return cps, nil
}

// HostAddress implements HostAddresser: the gateway of the Docker network
// the nodes are on, which is this host's own address on that bridge.
func (k *Kind) HostAddress(ctx context.Context) (string, error) {
	containers, err := k.nodeContainers()
	if err != nil {
		return "", err
	}
	for name := range containers {
		info, err := clusterContainer(ctx, k.docker, k.name, name)
		if err != nil {
			return "", err
		}
		if info.NetworkSettings == nil {
			continue
		}
		for _, ep := range info.NetworkSettings.Networks {
			if ep != nil && ep.Gateway != "" {
				return ep.Gateway, nil
			}
		}
	}
	return "", fmt.Errorf("cluster %s: no node container is on a Docker network with a gateway", k.name)
}
