package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/agent"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var killControlPlaneSpec = Register(Spec{
	Type:           scenarios.FaultKillControlPlane,
	Params:         func() scenarios.FaultParams { return &scenarios.KillControlPlaneParams{} },
	Measurable:     []scenarios.Objective{scenarios.ObjectiveRTOAPI, scenarios.ObjectiveRPO, scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts},
	DefaultRole:    scenarios.RoleControlPlane,
	Samplers:       SampleControlPlane,
	Access:         nodeAccess,
	Target:         string(scenarios.RoleControlPlane),
	Suite:          "controlplane",
	ClusterJournal: true,
	New:            newWith(newKillControlPlane),
})

// killControlPlane takes a control-plane node down as its mode says and,
// to revert, brings it back and waits until it rejoined: node Ready (with a
// fresh heartbeat when its kubelet was stopped), its etcd member healthy and
// its API server ready.
//   - container: kills the node's machine (its container) and starts it;
//   - services, isolate: through drill's node agent (package agent), a
//     privileged pod on the node that stops its control plane's services or
//     cuts its network, and puts them back when asked, when the declared
//     hold ends (isolate), or when the harness stopped renewing its lease.
type killControlPlane struct {
	env Env
	sc  *scenarios.Scenario
	p   *scenarios.KillControlPlaneParams
	lc  cluster.NodeLifecycle // nil in the agent's modes

	why string

	mu sync.Mutex
	js killControlPlaneJournal
	// injected is when this process injected; zero in a recovering one.
	injected time.Time
	// agents holds the agent this process started, in the agent's modes.
	agents agents
}

var _ interface {
	Fault
	EffectChecker
	Holder
	Measurer
	Journaled
	Planner
} = (*killControlPlane)(nil)

// killControlPlaneJournal is what reverting a kill needs.
type killControlPlaneJournal struct {
	// Node is the node killed: its name, IP and container.
	Node cluster.Node `json:"node"`
	// Killed: the kill was sent, or is about to be.
	Killed bool `json:"killed,omitempty"`
	// Started is when the revert started the node again, which it must
	// report a heartbeat after; zero before.
	Started time.Time `json:"started,omitzero"`
	// Agent is the lease (and pod) in namespace drill-agents of the agent
	// that holds the fault, in the agent's modes; set before the agent is
	// created.
	Agent string `json:"agent,omitempty"`
}

// JournalState implements Journaled.
func (f *killControlPlane) JournalState() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.js
}

// RestoreJournal implements Journaled.
func (f *killControlPlane) RestoreJournal(state json.RawMessage) error {
	var js killControlPlaneJournal
	if err := restoreJournal(state, &js); err != nil {
		return err
	}
	f.mu.Lock()
	f.js = js
	f.mu.Unlock()
	return nil
}

// node is the node Target chose.
func (f *killControlPlane) node() cluster.Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.js.Node
}

func newKillControlPlane(env Env, sc *scenarios.Scenario, p *scenarios.KillControlPlaneParams) (Fault, error) {
	if p.Mode.ByAgent() {
		// Through the agent, etcd's members are checked where drill
		// reaches them, and reported as not checked where it does not.
		if env.Etcd == nil && p.Target == scenarios.TargetEtcdLeader {
			return nil, fmt.Errorf("kill-control-plane: target etcd-leader needs access to etcd's members, which cluster %s does not give drill: choose target random or controller-manager-leader", env.Provider.Name())
		}
		return &killControlPlane{env: env, sc: sc, p: p}, nil
	}
	lc, ok := env.Provider.(cluster.NodeLifecycle)
	if !ok {
		return nil, fmt.Errorf("kill-control-plane: cluster %s cannot kill and start its nodes' machines (provider without node lifecycle): choose mode services or isolate, which go through drill's node agent", env.Provider.Name())
	}
	if env.Etcd == nil {
		return nil, fmt.Errorf("kill-control-plane: no access to the etcd members of cluster %s", env.Provider.Name())
	}
	return &killControlPlane{env: env, sc: sc, p: p, lc: lc}, nil
}

// controlPlaneNodes returns the control-plane nodes a drill's target allows,
// sorted by name.
func controlPlaneNodes(ctx context.Context, env Env, t scenarios.Target) ([]cluster.Node, error) {
	return targetNodes(ctx, env, t, cluster.RoleControlPlane)
}

// targetNodes returns the nodes of role that a drill's target allows,
// sorted by name.
func targetNodes(ctx context.Context, env Env, t scenarios.Target, role cluster.Role) ([]cluster.Node, error) {
	all, err := env.Provider.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	if t.Selector != "" {
		list, err := env.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: t.Selector})
		if err != nil {
			return nil, fmt.Errorf("list nodes matching %q: %w", t.Selector, err)
		}
		for _, n := range list.Items {
			allowed[n.Name] = true
		}
	}
	var out []cluster.Node
	for _, n := range all {
		if n.Role != role || (t.Zone != "" && n.Zone != t.Zone) || (t.Selector != "" && !allowed[n.Name]) {
			continue
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s node matches the drill's target %+v", role, t)
	}
	slices.SortFunc(out, func(a, b cluster.Node) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// seeded picks one of n with the drill's seed.
func seeded(seed int64, n int) int {
	return rand.New(rand.NewPCG(uint64(seed), 0x647269_6c6c)).IntN(n)
}

// resolve chooses the node to kill, and says why it (Target and Plan).
func (f *killControlPlane) resolve(ctx context.Context) (cluster.Node, string, error) {
	nodes, err := controlPlaneNodes(ctx, f.env, f.sc.Target)
	if err != nil {
		return cluster.Node{}, "", err
	}
	var name, why string
	switch f.p.Target {
	case scenarios.TargetEtcdLeader:
		why = "etcd leader"
		var v etcdView
		v, err = f.env.readEtcd(ctx)
		name = v.leader
	case scenarios.TargetControllerManagerLeader:
		name, err = monitor.LeaseHolder(f.env.Clientset, "kube-system", "kube-controller-manager")(ctx)
		why = "kube-controller-manager leader"
	case scenarios.TargetRandom:
		name = nodes[seeded(f.sc.Seed, len(nodes))].Name
		why = fmt.Sprintf("picked with seed %d", f.sc.Seed)
	default:
		return cluster.Node{}, "", fmt.Errorf("kill-control-plane: unknown target %q", f.p.Target)
	}
	if err != nil {
		return cluster.Node{}, "", fmt.Errorf("find the %s: %w", why, err)
	}
	i := slices.IndexFunc(nodes, func(n cluster.Node) bool { return n.Name == name })
	if i < 0 {
		return cluster.Node{}, "", fmt.Errorf("the %s is %q, which is not one of the targeted control-plane nodes", why, name)
	}
	node := nodes[i]
	if node.InternalIP == "" {
		return cluster.Node{}, "", fmt.Errorf("node %s has no InternalIP", name)
	}
	return node, why, nil
}

func describeKill(node cluster.Node, why string) string {
	return fmt.Sprintf("node %s (%s), %s", node.Name, why, node.InternalIP)
}

func (f *killControlPlane) Target(ctx context.Context) (string, error) {
	node, why, err := f.resolve(ctx)
	if err != nil {
		return "", err
	}
	if f.p.Mode.ByAgent() {
		if err := loadAgentImage(ctx, f.env); err != nil {
			return "", err
		}
	}
	f.why = why
	f.mu.Lock()
	f.js.Node = node
	f.mu.Unlock()
	return describeKill(node, why), nil
}

// Plan implements Planner.
func (f *killControlPlane) Plan(ctx context.Context) (Plan, error) {
	node, why, err := f.resolve(ctx)
	if err != nil {
		return Plan{}, err
	}
	hold := "hold until etcd, the API and the controller-manager and scheduler leases have moved to the other nodes, and the API answers every new connection for " + StableWindow.String()
	if f.p.HoldFor > 0 {
		hold += fmt.Sprintf(", and at least %s from the injection", f.p.HoldFor)
	}
	rejoin := fmt.Sprintf("wait up to %s for it to rejoin: Ready with a fresh heartbeat, its etcd member healthy, its API server ready", f.p.RejoinTimeout)
	switch f.p.Mode {
	case scenarios.KillServices, scenarios.KillIsolate:
		what := map[scenarios.KillMode]string{
			scenarios.KillServices: "move its static pods' manifests aside until their containers stopped, then stop its kubelet",
			scenarios.KillIsolate:  "drop every packet to and from it but its loopback's (iptables chain " + agent.IsolateChain + ")",
		}[f.p.Mode]
		back := map[scenarios.KillMode]string{
			scenarios.KillServices: "start its kubelet and give its static pods' manifests back, when asked",
			scenarios.KillIsolate:  fmt.Sprintf("remove chain %s when the hold of %s ends, on the agent's own clock", agent.IsolateChain, f.p.HoldFor),
		}[f.p.Mode]
		return Plan{
			Target: describeKill(node, why),
			Changes: []string{
				fmt.Sprintf("create namespace %s (Pod Security level privileged), its service account and lease role, if missing", agent.Namespace),
				fmt.Sprintf("create lease and pod %s/%s on node %s: drill's agent (%s), privileged, hostPID and hostNetwork", agent.Namespace, agent.LeaseName(string(f.p.Mode), node.Name), node.Name, agent.Image),
				"the agent: " + what,
				hold,
			},
			Revert: []string{
				"the agent: " + back + fmt.Sprintf("; on its own if the harness stops renewing the lease for %s", f.p.HoldFor+agentMargin),
				"delete the agent's pod and lease",
				rejoin,
			},
		}, nil
	}
	return Plan{
		Target: describeKill(node, why),
		Changes: []string{
			fmt.Sprintf("kill node %s's machine with %s (provider %s)", node.Name, f.p.Signal, f.env.Provider.Name()),
			hold,
		},
		Revert: []string{
			fmt.Sprintf("start node %s's machine again if it is not running, keeping its address %s", node.Name, node.InternalIP),
			rejoin,
		},
	}, nil
}

// Inject kills the node's machine, journalled before (the revert must start
// it whether or not the kill is known to have happened) and after.
func (f *killControlPlane) Inject(ctx context.Context) error {
	f.mu.Lock()
	f.injected = time.Now()
	f.mu.Unlock()
	if f.p.Mode.ByAgent() {
		return f.injectByAgent(ctx)
	}
	f.mu.Lock()
	f.js.Killed = true
	node := f.js.Node
	f.mu.Unlock()
	if err := f.env.step(ctx, fmt.Sprintf("killing node %s with %s", node.Name, f.p.Signal)); err != nil {
		return err
	}
	if err := f.lc.KillNode(ctx, node.Name, string(f.p.Signal)); err != nil {
		return err
	}
	return f.env.step(ctx, "node "+node.Name+" killed")
}

// injectByAgent starts the agent that holds the fault on the node,
// journalled before (the revert must ask it, or delete it, whether or not
// it is known to have started) and after, and keeps renewing its lease
// until the revert.
func (f *killControlPlane) injectByAgent(ctx context.Context) error {
	mode := string(f.p.Mode)
	f.mu.Lock()
	node := f.js.Node
	f.js.Killed, f.js.Agent = true, agent.LeaseName(mode, node.Name)
	lease := f.js.Agent
	f.mu.Unlock()
	if err := f.env.step(ctx, fmt.Sprintf("starting drill's agent %s/%s on node %s (%s)", agent.Namespace, lease, node.Name, mode)); err != nil {
		return err
	}
	if err := f.agents.start(ctx, f.env, node.Name, mode, lease, f.p.HoldFor); err != nil {
		return err
	}
	return f.env.step(ctx, fmt.Sprintf("node %s: %s by the agent", node.Name, mode))
}

// etcdEndpoint is the node's etcd client URL.
func etcdEndpoint(ip string) string { return "https://" + net.JoinHostPort(ip, "2379") }

func (f *killControlPlane) Effect(ctx context.Context) ([]string, error) {
	if f.p.Mode.ByAgent() {
		return f.effectByAgent(ctx)
	}
	node := f.node()
	var facts []string
	err := waitFor(ctx, time.Minute, "node "+node.Name+"'s machine to stop", func(ctx context.Context) (bool, string, error) {
		running, state, err := f.lc.NodeRunning(ctx, node.Name)
		if err != nil {
			return false, "", err
		}
		if !running {
			facts = append(facts, fmt.Sprintf("node %s's container is %s", node.Name, state))
		}
		return !running, state, nil
	})
	if err != nil {
		return facts, err
	}
	ep := etcdEndpoint(node.InternalIP)
	err = waitFor(ctx, time.Minute, "etcd member "+node.Name+" to stop answering", func(ctx context.Context) (bool, string, error) {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := monitor.EtcdEndpointHealthy(f.env.Etcd, ep)(cctx); err != nil {
			facts = append(facts, fmt.Sprintf("etcd member %s no longer answers", node.Name))
			return true, "", nil
		}
		return false, "still answers", nil
	})
	return facts, err
}

// effectByAgent waits until the node's etcd member and API server no
// longer answer the harness: stopped (services) or out of reach (isolate).
func (f *killControlPlane) effectByAgent(ctx context.Context) ([]string, error) {
	node := f.node()
	ep := etcdEndpoint(node.InternalIP)
	var facts []string
	err := waitFor(ctx, time.Minute, "node "+node.Name+"'s etcd member and API server to stop answering", func(ctx context.Context) (bool, string, error) {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		etcdErr := errors.New("not checked: no access to etcd's members")
		if f.env.Etcd != nil {
			etcdErr = monitor.EtcdEndpointHealthy(f.env.Etcd, ep)(cctx)
		}
		apiErr := apiServerReady(ctx, f.env, node.InternalIP)
		if etcdErr == nil || apiErr == nil {
			return false, fmt.Sprintf("etcd member answers: %v, API server answers: %v", etcdErr == nil, apiErr == nil), nil
		}
		facts = append(facts,
			fmt.Sprintf("etcd member %s no longer answers (%v)", node.Name, etcdErr),
			fmt.Sprintf("API server %s no longer answers (%v)", net.JoinHostPort(node.InternalIP, "6443"), apiErr))
		return true, "", nil
	})
	return facts, err
}

// Hold waits until the survivors took over: the API serves through the load
// balancer, etcd has a leader, and the controller-manager and scheduler
// leases are held by live nodes; then until the load balancer has stopped
// sending new connections to the dead server (see waitAPIStable).
func (f *killControlPlane) Hold(ctx context.Context) error {
	f.mu.Lock()
	injected := f.injected
	f.mu.Unlock()
	tctx := ctx
	if f.p.Mode == scenarios.KillIsolate && !injected.IsZero() {
		// The node comes back on its agent's clock: a takeover seen after
		// that would be a healed cluster's, not the survivors'.
		var cancel context.CancelFunc
		tctx, cancel = context.WithDeadline(ctx, injected.Add(f.p.HoldFor))
		defer cancel()
	}
	if err := waitTakeover(tctx, f.env, f.node().Name); err != nil {
		return withinHold(ctx, err, f.p.HoldFor)
	}
	if err := waitAPIStable(tctx, f.env); err != nil {
		return withinHold(ctx, err, f.p.HoldFor)
	}
	if f.p.HoldFor <= 0 {
		return nil
	}
	// The rest of the declared hold, from the injection.
	if injected.IsZero() {
		return nil
	}
	return declaredHold(ctx, "holdFor", time.Until(injected.Add(f.p.HoldFor)))
}

// StableWindow is how long the API must answer every new connection
// through the load balancer before a control-plane fault is reverted.
// Behind a round-robin balancer, a server that is down but not yet taken out
// fails one new connection in three; a window of successes longer than the
// balancer's checks (kind's haproxy: 3 failures 2 s apart) means it is out.
// Outages that begin once the revert started are the revert's, not the
// fault's, so the fault's must be over by then.
const StableWindow = 10 * time.Second

// withinHold says that a wait bounded by the declared hold ran out: the
// fault ended on its own clock before the cluster did what it waited for.
func withinHold(ctx context.Context, err error, hold time.Duration) error {
	if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("not within the declared hold of %s, after which the fault ended on its own: %w", hold, err)
	}
	return err
}

// waitAPIStable waits until every new connection to the API through the
// load balancer succeeds for StableWindow.
func waitAPIStable(ctx context.Context, env Env) error {
	check := monitor.APIServerCheck(env.RESTConfig, strings.TrimSuffix(env.RESTConfig.Host, "/")+"/readyz")
	var since time.Time
	return waitFor(ctx, env.Timeout, fmt.Sprintf("the API to answer every new connection for %s", StableWindow), func(ctx context.Context) (bool, string, error) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := check(cctx); err != nil {
			since = time.Time{}
			return false, "", err
		}
		if since.IsZero() {
			since = time.Now()
		}
		ok := time.Since(since) >= StableWindow
		return ok, fmt.Sprintf("answering for %s", time.Since(since).Round(time.Second)), nil
	})
}

// waitTakeover waits until the control plane serves without node: API
// ready, an etcd leader elsewhere, both leases held elsewhere.
func waitTakeover(ctx context.Context, env Env, node string) error {
	kcm := monitor.LeaseHolder(env.Clientset, "kube-system", "kube-controller-manager")
	sched := monitor.LeaseHolder(env.Clientset, "kube-system", "kube-scheduler")
	// Without access to etcd's members, its leader is not checked.
	var leader monitor.Probe = func(context.Context) (string, error) { return "(not checked)", nil }
	if env.Etcd != nil {
		leader = monitor.EtcdLeader(env.Etcd)
	}
	return waitFor(ctx, env.Timeout, "the control plane to take over from "+node, func(ctx context.Context) (bool, string, error) {
		if err := apiReady(ctx, env); err != nil {
			return false, "", err
		}
		// Each probe on a clock of its own: a request sent to a member cut
		// off (isolate) hangs rather than fails, and the next one goes to
		// another member.
		probe := func(p monitor.Probe) (string, error) {
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			return p(pctx)
		}
		l, err := probe(leader)
		if err != nil {
			return false, "", err
		}
		k, err := probe(kcm)
		if err != nil {
			return false, "", err
		}
		s, err := probe(sched)
		if err != nil {
			return false, "", err
		}
		desc := fmt.Sprintf("etcd leader %s, controller-manager lease %q, scheduler lease %q", l, k, s)
		return l != node && k != "" && k != node && s != "" && s != node, desc, nil
	})
}

// apiReady asks the API's /readyz, through the kubeconfig's endpoint.
func apiReady(ctx context.Context, env Env) error {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := env.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(cctx); err != nil {
		return fmt.Errorf("API /readyz: %w", err)
	}
	return nil
}

// Revert starts the node if it is not running, journalled, and waits until
// it rejoined with a heartbeat after it was started: in a later process,
// after the start that process journalled.
func (f *killControlPlane) Revert(ctx context.Context) error {
	f.mu.Lock()
	js := f.js
	f.mu.Unlock()
	if !js.Killed {
		return nil
	}
	if f.p.Mode.ByAgent() {
		return f.revertByAgent(ctx, js)
	}
	node := js.Node
	running, _, err := f.lc.NodeRunning(ctx, node.Name)
	if err != nil {
		return fmt.Errorf("revert kill of %s: %w", node.Name, err)
	}
	started := js.Started
	if !running {
		started = time.Now()
		// Another process (drill recover) knows the node's address only
		// from the journal: the node must come back with it.
		if k, ok := f.lc.(cluster.AddressKeeper); ok && node.InternalIP != "" {
			if err := k.KeepAddress(ctx, node.Name, node.InternalIP); err != nil {
				f.env.Logger.Warnf("revert kill of %s: %v", node.Name, err)
			}
		}
		f.env.Logger.V(0).Infof("starting node %s", node.Name)
		if err := f.lc.StartNode(ctx, node.Name); err != nil {
			return fmt.Errorf("revert kill of %s: %w", node.Name, err)
		}
		f.mu.Lock()
		f.js.Started = started
		f.mu.Unlock()
		if err := f.env.step(ctx, "node "+node.Name+" started"); err != nil {
			return fmt.Errorf("revert kill of %s: %w", node.Name, err)
		}
	}
	// A node found running that this fault did not start (the kill never
	// happened, or a machine restart started it) needs no heartbeat newer
	// than now, which the kubelet may post only every 5 minutes: Ready with
	// its etcd member and API server healthy is whole.
	return waitRejoined(ctx, f.env, node, started, f.p.RejoinTimeout)
}

// revertByAgent has the agent put the node back, or finds it did (on its
// own: the hold ended, or the harness was gone), deletes the agent and
// waits until the node rejoined. In a later process the agent is found by
// the journalled lease. An agent whose lease is gone is deleted, which
// makes it revert before it exits (SIGTERM).
func (f *killControlPlane) revertByAgent(ctx context.Context, js killControlPlaneJournal) error {
	node := js.Node
	// Renewed until now: the agent must not take this revert for a harness
	// that died.
	defer f.agents.stop()
	asked := time.Now()
	// An isolated node's agent answers once its hold is over.
	state, err := f.agents.revert(ctx, f.env, node.Name, string(f.p.Mode), js.Agent, f.p.HoldFor, f.p.HoldFor+f.p.RejoinTimeout)
	if err != nil {
		return fmt.Errorf("revert %s of %s: %w", f.p.Mode, node.Name, err)
	}
	if err := f.env.step(ctx, fmt.Sprintf("node %s: the agent %s", node.Name, state)); err != nil {
		return fmt.Errorf("revert %s of %s: %w", f.p.Mode, node.Name, err)
	}
	// A kubelet that was stopped reports Ready afresh once started; an
	// isolated one may have stayed Ready in the API all along (a short
	// hold), and then its node needs its etcd member and API server
	// answering again, not a new heartbeat.
	since := asked
	if f.p.Mode == scenarios.KillIsolate {
		since = time.Time{}
	}
	return waitRejoined(ctx, f.env, node, since, f.p.RejoinTimeout)
}

// waitRejoined waits until node is back as a member of the control plane:
// same IP, Ready with a heartbeat after since, its etcd member healthy and
// its API server ready.
func waitRejoined(ctx context.Context, env Env, node cluster.Node, since time.Time, timeout time.Duration) error {
	ep := etcdEndpoint(node.InternalIP)
	return waitFor(ctx, timeout, "node "+node.Name+" to rejoin", func(ctx context.Context) (bool, string, error) {
		n, err := env.Clientset.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && a.Address != node.InternalIP {
				// kind#1689: a node that comes back with another IP breaks
				// etcd's peer URLs; no amount of waiting fixes it.
				return false, fmt.Sprintf("node %s came back with IP %s instead of %s (kind#1689): its etcd peer URL no longer matches", node.Name, a.Address, node.InternalIP), nil
			}
		}
		ready, fresh := false, false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready, fresh = c.Status == corev1.ConditionTrue, c.LastHeartbeatTime.After(since)
			}
		}
		if ready && !fresh {
			// The kubelet posts its status every 5 minutes when nothing
			// changed (one that was running all along: an agent reverted
			// on its own, a node restarted earlier), but renews its node
			// lease every 10 s.
			if le, err := env.Clientset.CoordinationV1().Leases("kube-node-lease").Get(ctx, node.Name, metav1.GetOptions{}); err == nil &&
				le.Spec.RenewTime != nil && le.Spec.RenewTime.After(since) {
				fresh = true
			}
		}
		if !ready || !fresh {
			return false, "node not Ready since the start", nil
		}
		if env.Etcd != nil {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err := monitor.EtcdEndpointHealthy(env.Etcd, ep)(cctx)
			cancel()
			if err != nil {
				return false, "", err
			}
		}
		if err := apiServerReady(ctx, env, node.InternalIP); err != nil {
			return false, "", err
		}
		return true, "", nil
	})
}

// apiServerReady asks one API server's own /readyz.
func apiServerReady(ctx context.Context, env Env, ip string) error {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	u := url.URL{Scheme: "https", Host: net.JoinHostPort(ip, "6443"), Path: "/readyz"}
	if err := monitor.APIServerCheck(env.RESTConfig, u.String())(cctx); err != nil {
		return err
	}
	return nil
}

func (f *killControlPlane) Measure(r Record) []reports.Measurement {
	ms := takeovers(r)
	if rj, ok := rejoin(r, f.node()); ok {
		ms = append(ms, rj)
	}
	return ms
}

// takeovers measures, from the samplers, how the control plane took over
// from a lost node: etcd's leader change and the controller-manager and
// scheduler leases' takeovers, and how long etcd had no leader.
func takeovers(r Record) []reports.Measurement {
	var ms []reports.Measurement
	for _, m := range []struct{ name, locator string }{
		{"etcd leader change", monitor.LocatorEtcdLeader},
		{"controller-manager lease takeover", monitor.LocatorControllerManagerLease},
		{"scheduler lease takeover", monitor.LocatorSchedulerLease},
	} {
		if t, ok := takeover(r, m.name, m.locator); ok {
			ms = append(ms, t)
		}
	}
	return append(ms, seconds("etcd without a leader", errorTime(r.Intervals, monitor.LocatorEtcdLeader, r.Injected), "time no member answered with a leader"))
}

// rejoin measures, from the samplers, how long a node took after the revert
// started until its etcd member and API server were healthy again.
func rejoin(r Record, node cluster.Node) (reports.Measurement, bool) {
	if r.RevertStarted.IsZero() {
		return reports.Measurement{}, false
	}
	var end time.Time
	open := false
	for _, loc := range []string{monitor.LocatorEtcdMember(node.Name), monitor.LocatorAPIServer(net.JoinHostPort(node.InternalIP, "6443"))} {
		e, o := lastErrorEnd(r.Intervals, loc, r.RevertStarted)
		if e.After(end) {
			end = e
		}
		open = open || o
	}
	if end.IsZero() {
		return seconds("rejoin", 0, "etcd member and API server healthy when the revert started"), true
	}
	detail := "until its etcd member and API server were healthy"
	if open {
		detail = "not rejoined when sampling stopped (lower bound)"
	}
	return seconds("rejoin", end.Sub(r.RevertStarted), detail), true
}
