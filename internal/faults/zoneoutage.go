package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/agent"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var zoneOutageSpec = Register(Spec{
	Type:   scenarios.FaultZoneOutage,
	Params: func() scenarios.FaultParams { return &scenarios.ZoneOutageParams{} },
	Measurable: []scenarios.Objective{scenarios.ObjectiveRTOAPI, scenarios.ObjectiveRTOApp, scenarios.ObjectiveRPO,
		scenarios.ObjectiveAvailability, scenarios.ObjectivePDB, scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts},
	Samplers:       SampleControlPlane,
	Target:         "zone",
	Suite:          "zones",
	Access:         nodeAccess,
	ClusterJournal: true,
	New:            newWith(newZoneOutage),
})

// zoneOutage cuts every node of a zone off the network at once, through one
// node agent per node (agent.Isolate): a lost availability zone. Each agent
// ends the isolation on its own clock when the declared hold ends, since
// nobody reaches it meanwhile; the revert waits for that, deletes the
// agents and waits until every node of the zone rejoined.
type zoneOutage struct {
	env Env
	sc  *scenarios.Scenario
	p   *scenarios.ZoneOutageParams

	mu       sync.Mutex
	js       zoneOutageJournal
	injected time.Time
	agents   agents
}

var _ interface {
	Fault
	EffectChecker
	Holder
	Measurer
	Journaled
	Planner
} = (*zoneOutage)(nil)

// zoneOutageJournal is what bringing the zone back needs.
type zoneOutageJournal struct {
	// Nodes are the zone's nodes, with their roles and addresses.
	Nodes []cluster.Node `json:"nodes"`
	// Agents are the leases (and pods) of the agents, by node, set before
	// the agents are created.
	Agents map[string]string `json:"agents,omitempty"`
}

// JournalState implements Journaled.
func (f *zoneOutage) JournalState() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	js := zoneOutageJournal{Nodes: slices.Clone(f.js.Nodes)}
	if f.js.Agents != nil {
		js.Agents = map[string]string{}
		for n, l := range f.js.Agents {
			js.Agents[n] = l
		}
	}
	return js
}

// RestoreJournal implements Journaled.
func (f *zoneOutage) RestoreJournal(state json.RawMessage) error {
	var js zoneOutageJournal
	if err := restoreJournal(state, &js); err != nil {
		return err
	}
	f.mu.Lock()
	f.js = js
	f.mu.Unlock()
	return nil
}

func newZoneOutage(env Env, sc *scenarios.Scenario, p *scenarios.ZoneOutageParams) (Fault, error) {
	return &zoneOutage{env: env, sc: sc, p: p}, nil
}

// resolve finds the zone's nodes, every role, sorted by name.
func (f *zoneOutage) resolve(ctx context.Context) ([]cluster.Node, error) {
	all, err := f.env.Provider.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	var nodes []cluster.Node
	for _, n := range all {
		if n.Zone == f.p.Zone {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("zone-outage: no node in zone %q", f.p.Zone)
	}
	if len(nodes) == len(all) {
		return nil, fmt.Errorf("zone-outage: every node of the cluster is in zone %q: nothing would be left to take over", f.p.Zone)
	}
	for _, n := range nodes {
		if n.Role == cluster.RoleControlPlane && n.InternalIP == "" {
			return nil, fmt.Errorf("zone-outage: control-plane node %s has no InternalIP", n.Name)
		}
	}
	slices.SortFunc(nodes, func(a, b cluster.Node) int { return strings.Compare(a.Name, b.Name) })
	return nodes, nil
}

func describeZone(zone string, nodes []cluster.Node) string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return fmt.Sprintf("zone %s: %s", zone, strings.Join(names, ", "))
}

// Target implements Fault: the zone's nodes, and the agent's image on them.
func (f *zoneOutage) Target(ctx context.Context) (string, error) {
	nodes, err := f.resolve(ctx)
	if err != nil {
		return "", err
	}
	if err := loadAgentImage(ctx, f.env); err != nil {
		return "", err
	}
	f.mu.Lock()
	f.js.Nodes = nodes
	f.mu.Unlock()
	return describeZone(f.p.Zone, nodes), nil
}

// Plan implements Planner.
func (f *zoneOutage) Plan(ctx context.Context) (Plan, error) {
	nodes, err := f.resolve(ctx)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Target: describeZone(f.p.Zone, nodes)}
	p.Changes = append(p.Changes, fmt.Sprintf("create namespace %s (Pod Security level privileged), its service account and lease role, if missing", agent.Namespace))
	for _, n := range nodes {
		p.Changes = append(p.Changes, fmt.Sprintf("create lease and pod %s/%s on node %s: drill's agent (%s), privileged, hostNetwork, which drops every packet to and from the node but its loopback's (iptables chain %s)",
			agent.Namespace, agent.LeaseName("isolate", n.Name), n.Name, agent.Image, agent.IsolateChain))
	}
	p.Changes = append(p.Changes, fmt.Sprintf("hold %s from the injection, and until the control plane serves without the zone", f.p.HoldFor))
	p.Revert = []string{
		fmt.Sprintf("each agent removes chain %s when the hold of %s ends, on its own clock; on its own too if the harness stops renewing its lease for %s", agent.IsolateChain, f.p.HoldFor, f.p.HoldFor+agentMargin),
		"delete the agents' pods and leases",
		fmt.Sprintf("wait up to %s for every node of the zone to rejoin: Ready, and a control-plane node's etcd member and API server healthy", f.p.RejoinTimeout),
	}
	return p, nil
}

// Inject starts one agent per node of the zone, all at once, journalled
// before (the revert must find every agent that may exist) and after.
func (f *zoneOutage) Inject(ctx context.Context) error {
	f.mu.Lock()
	f.injected = time.Now()
	nodes := slices.Clone(f.js.Nodes)
	f.js.Agents = map[string]string{}
	for _, n := range nodes {
		f.js.Agents[n.Name] = agent.LeaseName("isolate", n.Name)
	}
	f.mu.Unlock()
	if err := f.env.step(ctx, fmt.Sprintf("starting drill's agents on the %d nodes of zone %s", len(nodes), f.p.Zone)); err != nil {
		return err
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			errs[i] = f.agents.start(ctx, f.env, n.Name, "isolate", agent.LeaseName("isolate", n.Name), f.p.HoldFor)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return f.env.step(ctx, "zone "+f.p.Zone+" cut off by the agents")
}

// Effect implements EffectChecker: the control plane sees every node of the
// zone stop reporting (Ready Unknown, or False), which it does once the
// node monitor's grace period (50 s by default since Kubernetes 1.32)
// passed without a word.
func (f *zoneOutage) Effect(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	nodes := slices.Clone(f.js.Nodes)
	f.mu.Unlock()
	var facts []string
	err := waitFor(ctx, 3*time.Minute, "every node of zone "+f.p.Zone+" to stop reporting", func(ctx context.Context) (bool, string, error) {
		facts = facts[:0]
		var up []string
		for _, n := range nodes {
			node, err := f.env.Clientset.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			ready := readyCondition(node)
			if ready == nil || ready.Status == corev1.ConditionTrue {
				up = append(up, n.Name)
				continue
			}
			facts = append(facts, fmt.Sprintf("node %s Ready %s: %s", n.Name, ready.Status, ready.Message))
		}
		return len(up) == 0, "still Ready: " + strings.Join(up, ", "), nil
	})
	return facts, err
}

// readyCondition is a node's Ready condition; nil without one.
func readyCondition(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// Hold implements Holder: once the control plane serves without the zone
// (when the zone held a control-plane node), the rest of the declared hold.
func (f *zoneOutage) Hold(ctx context.Context) error {
	f.mu.Lock()
	nodes, injected := slices.Clone(f.js.Nodes), f.injected
	f.mu.Unlock()
	// The zone comes back on its agents' clocks: a takeover seen after
	// that would be a healed cluster's, not the survivors'.
	tctx := ctx
	if !injected.IsZero() {
		var cancel context.CancelFunc
		tctx, cancel = context.WithDeadline(ctx, injected.Add(f.p.HoldFor))
		defer cancel()
	}
	for _, n := range nodes {
		if n.Role != cluster.RoleControlPlane {
			continue
		}
		if err := waitTakeover(tctx, f.env, n.Name); err != nil {
			return withinHold(ctx, err, f.p.HoldFor)
		}
	}
	if err := waitAPIStable(tctx, f.env); err != nil {
		return withinHold(ctx, err, f.p.HoldFor)
	}
	if injected.IsZero() {
		return nil
	}
	return declaredHold(ctx, "holdFor", time.Until(injected.Add(f.p.HoldFor)))
}

// Revert implements Fault: every agent asked (or found done), deleted, and
// every node of the zone rejoined.
func (f *zoneOutage) Revert(ctx context.Context) error {
	js := f.JournalState().(zoneOutageJournal)
	if len(js.Agents) == 0 {
		return nil
	}
	defer f.agents.stop()
	var errs []error
	for _, n := range js.Nodes {
		lease, ok := js.Agents[n.Name]
		if !ok {
			continue
		}
		state, err := f.agents.revert(ctx, f.env, n.Name, "isolate", lease, f.p.HoldFor, f.p.HoldFor+f.p.RejoinTimeout)
		if err != nil {
			errs = append(errs, fmt.Errorf("revert the isolation of %s: %w", n.Name, err))
			continue
		}
		if err := f.env.step(ctx, fmt.Sprintf("node %s: the agent %s", n.Name, state)); err != nil {
			return err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, n := range js.Nodes {
		var err error
		if n.Role == cluster.RoleControlPlane {
			// An isolated kubelet may look Ready in the API again before it
			// posted anything new: its etcd member and API server answering
			// is what says it is back.
			err = waitRejoined(ctx, f.env, n, time.Time{}, f.p.RejoinTimeout)
		} else {
			err = waitNodeReady(ctx, f.env, n.Name, f.p.RejoinTimeout)
		}
		if err != nil {
			return fmt.Errorf("revert the outage of zone %s: %w", f.p.Zone, err)
		}
	}
	return nil
}

// waitNodeReady waits until node reports Ready.
func waitNodeReady(ctx context.Context, env Env, node string, timeout time.Duration) error {
	return waitFor(ctx, timeout, "node "+node+" to be Ready", func(ctx context.Context) (bool, string, error) {
		n, err := env.Clientset.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		if c := readyCondition(n); c != nil && c.Status == corev1.ConditionTrue {
			return true, "", nil
		}
		return false, "not Ready", nil
	})
}

// Measure implements Measurer: how the control plane took over
// (takeovers) and each of the zone's control-plane nodes rejoined.
func (f *zoneOutage) Measure(r Record) []reports.Measurement {
	ms := takeovers(r)
	f.mu.Lock()
	nodes := slices.Clone(f.js.Nodes)
	f.mu.Unlock()
	for _, n := range nodes {
		if n.Role != cluster.RoleControlPlane {
			continue
		}
		if rj, ok := rejoin(r, n); ok {
			rj.Name = "rejoin of " + n.Name
			ms = append(ms, rj)
		}
	}
	return ms
}
