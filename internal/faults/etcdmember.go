package faults

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var removeEtcdMemberSpec = Register(Spec{
	Type:           scenarios.FaultRemoveEtcdMember,
	Params:         func() scenarios.FaultParams { return &scenarios.RemoveEtcdMemberParams{} },
	Measurable:     []scenarios.Objective{scenarios.ObjectiveRTOAPI, scenarios.ObjectiveRPO, scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts},
	DefaultRole:    scenarios.RoleControlPlane,
	Samplers:       SampleControlPlane,
	Access:         nodeAccess,
	Target:         string(scenarios.RoleControlPlane),
	Suite:          "controlplane",
	ClusterJournal: true,
	New:            newWith(newRemoveEtcdMember),
})

// Where kubeadm keeps etcd on a control-plane node.
const (
	etcdManifest      = "/etc/kubernetes/manifests/etcd.yaml"
	etcdManifestAside = "/etc/kubernetes/drill-etcd.yaml"
	etcdDataDir       = "/var/lib/etcd"
)

// removeEtcdMember removes a member with MemberRemove and, to revert, adds
// it back as a new member the documented way: stop it, empty its data
// directory, MemberAdd, start it as a member of the existing cluster.
type removeEtcdMember struct {
	env  Env
	sc   *scenarios.Scenario
	p    *scenarios.RemoveEtcdMemberParams
	exec cluster.NodeExecer

	node   cluster.Node // the member's node; members are named after them
	member *etcdserverpb.Member
	leader string // leader at Target

	mu         sync.Mutex
	removed    bool
	readdState readdProgress
	// unknownTarget: restored from a journal that names no member.
	unknownTarget bool
}

var _ interface {
	Fault
	EffectChecker
	Holder
	Measurer
	Journaled
	Planner
} = (*removeEtcdMember)(nil)

// removeEtcdMemberJournal is what re-adding a removed member needs: once it
// is removed, etcd no longer lists it.
type removeEtcdMemberJournal struct {
	// Node is the member's node.
	Node cluster.Node `json:"node"`
	// Member is the member removed, as etcd listed it.
	Member journalMember `json:"member"`
	// Leader led etcd when the member was chosen.
	Leader string `json:"leader"`
	// Removed: the member was removed, or is about to be.
	Removed bool `json:"removed,omitempty"`
	// Readd is how far the re-add got.
	Readd readdProgress `json:"readd"`
}

// journalMember is an etcd member, as journalled.
type journalMember struct {
	Name       string   `json:"name"`
	ID         uint64   `json:"id,string"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs,omitempty"`
}

// readdProgress is how far a re-add got. Each step is idempotent; the
// journal says which were done, or were about to be.
type readdProgress struct {
	// ManifestAside: etcd's manifest is out of the manifests directory (or
	// about to be), so that the kubelet stops it.
	ManifestAside bool `json:"manifestAside,omitempty"`
	// DataDeleted: the member's data directory was emptied (or was about to
	// be).
	DataDeleted bool `json:"dataDeleted,omitempty"`
	// AddedID is the ID etcd gave the member added back; 0 before.
	AddedID uint64 `json:"addedID,omitempty,string"`
	// Started: etcd's manifest is back, joining the existing cluster, and
	// the kubelet restarted to run it.
	Started bool `json:"started,omitempty"`
	// Healthy: every member healthy again.
	Healthy bool `json:"healthy,omitempty"`
}

// JournalState implements Journaled.
func (f *removeEtcdMember) JournalState() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	js := removeEtcdMemberJournal{Node: f.node, Leader: f.leader, Removed: f.removed, Readd: f.readdState}
	if m := f.member; m != nil {
		js.Member = journalMember{Name: m.Name, ID: m.ID, PeerURLs: slices.Clone(m.PeerURLs), ClientURLs: slices.Clone(m.ClientURLs)}
	}
	return js
}

// RestoreJournal implements Journaled.
func (f *removeEtcdMember) RestoreJournal(state json.RawMessage) error {
	var js removeEtcdMemberJournal
	if err := restoreJournal(state, &js); err != nil {
		return err
	}
	if js.Member.ID == 0 && !js.Removed {
		// The journal stopped before the target was resolved (or its
		// cluster copy lags the lost disk journal): Revert checks that etcd
		// is whole instead.
		f.mu.Lock()
		f.unknownTarget = true
		f.mu.Unlock()
		return nil
	}
	if js.Member.ID == 0 || len(js.Member.PeerURLs) == 0 {
		return fmt.Errorf("restore journal: no etcd member with a peer URL")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.node, f.leader, f.removed, f.readdState = js.Node, js.Leader, js.Removed, js.Readd
	f.member = &etcdserverpb.Member{Name: js.Member.Name, ID: js.Member.ID, PeerURLs: js.Member.PeerURLs, ClientURLs: js.Member.ClientURLs}
	return nil
}

// progress notes, under the lock, how far the re-add got.
func (f *removeEtcdMember) progress(note func(*readdProgress)) {
	f.mu.Lock()
	note(&f.readdState)
	f.mu.Unlock()
}

func newRemoveEtcdMember(env Env, sc *scenarios.Scenario, p *scenarios.RemoveEtcdMemberParams) (Fault, error) {
	ex, ok := env.Provider.(cluster.NodeExecer)
	if !ok {
		return nil, fmt.Errorf("remove-etcd-member: cluster %s cannot run commands on its nodes, which re-adding a member needs", env.Provider.Name())
	}
	if env.Etcd == nil {
		return nil, fmt.Errorf("remove-etcd-member: no access to the etcd members of cluster %s", env.Provider.Name())
	}
	return &removeEtcdMember{env: env, sc: sc, p: p, exec: ex}, nil
}

// etcdMemberTarget is the member remove-etcd-member chose.
type etcdMemberTarget struct {
	node   cluster.Node
	member *etcdserverpb.Member
	leader string
}

func (t etcdMemberTarget) String() string {
	role := "follower"
	if t.member.Name == t.leader {
		role = "leader"
	}
	return fmt.Sprintf("etcd member %s (%x, %s), peer %s", t.member.Name, t.member.ID, role, t.member.PeerURLs[0])
}

// resolve chooses the member to remove (Target and Plan).
func (f *removeEtcdMember) resolve(ctx context.Context) (etcdMemberTarget, error) {
	nodes, err := controlPlaneNodes(ctx, f.env, f.sc.Target)
	if err != nil {
		return etcdMemberTarget{}, err
	}
	v, err := f.env.readEtcd(ctx)
	if err != nil {
		return etcdMemberTarget{}, err
	}
	if len(v.members) < 3 {
		return etcdMemberTarget{}, fmt.Errorf("etcd has %d members: removing one would lose quorum", len(v.members))
	}
	var candidates []string
	for _, n := range nodes {
		if f.p.Member == scenarios.MemberFollower && n.Name == v.leader {
			continue
		}
		candidates = append(candidates, n.Name)
	}
	var name string
	switch f.p.Member {
	case scenarios.MemberLeader:
		name = v.leader
	case scenarios.MemberFollower, scenarios.MemberRandom:
		if len(candidates) == 0 {
			return etcdMemberTarget{}, fmt.Errorf("no targeted control-plane node hosts a %s member", f.p.Member)
		}
		name = candidates[seeded(f.sc.Seed, len(candidates))]
	default:
		return etcdMemberTarget{}, fmt.Errorf("remove-etcd-member: unknown member %q", f.p.Member)
	}
	i := slices.IndexFunc(nodes, func(n cluster.Node) bool { return n.Name == name })
	if i < 0 {
		return etcdMemberTarget{}, fmt.Errorf("etcd member %s is not on a targeted control-plane node", name)
	}
	t := etcdMemberTarget{node: nodes[i], leader: v.leader}
	for _, m := range v.members {
		if m.Name == name {
			t.member = m
		}
	}
	if t.member == nil || len(t.member.PeerURLs) == 0 {
		return etcdMemberTarget{}, fmt.Errorf("etcd has no started member named %s", name)
	}
	return t, nil
}

func (f *removeEtcdMember) Target(ctx context.Context) (string, error) {
	t, err := f.resolve(ctx)
	if err != nil {
		return "", err
	}
	f.node, f.member, f.leader = t.node, t.member, t.leader
	return t.String(), nil
}

// Plan implements Planner.
func (f *removeEtcdMember) Plan(ctx context.Context) (Plan, error) {
	t, err := f.resolve(ctx)
	if err != nil {
		return Plan{}, err
	}
	node, peer := t.node.Name, t.member.PeerURLs[0]
	return Plan{
		Target: t.String(),
		Changes: []string{
			fmt.Sprintf("etcd member remove %x (%s)", t.member.ID, t.member.Name),
			"hold until the remaining members have a leader and the API answers every new connection for " + StableWindow.String(),
		},
		Revert: []string{
			fmt.Sprintf("on node %s: move %s to %s (the kubelet stops etcd) and stop its etcd container", node, etcdManifest, etcdManifestAside),
			fmt.Sprintf("on node %s: delete %s/member", node, etcdDataDir),
			"etcd member add " + peer,
			fmt.Sprintf("on node %s: put etcd's manifest back with --initial-cluster-state=existing and every member in --initial-cluster", node),
			fmt.Sprintf("wait up to %s for every member healthy and %s's API server ready (restarting its kubelet once if its API server stays in crash back-off)", f.p.ReaddTimeout, node),
		},
	}, nil
}

// Inject removes the member, journalled before (the revert must re-add it
// whether or not the removal is known to have happened) and after.
func (f *removeEtcdMember) Inject(ctx context.Context) error {
	f.mu.Lock()
	f.removed = true
	f.mu.Unlock()
	if err := f.env.step(ctx, fmt.Sprintf("removing etcd member %s (%x)", f.member.Name, f.member.ID)); err != nil {
		return err
	}
	_, err := f.env.Etcd.MemberRemove(ctx, f.member.ID)
	if err == nil {
		return f.env.step(ctx, "etcd member "+f.member.Name+" removed")
	}
	// A leader that removes itself may drop the connection that asked
	// before it answers: whether the member is gone is what counts.
	f.env.Logger.V(0).Infof("etcd member remove %s answered %v; checking the member list", f.member.Name, err)
	if werr := waitFor(ctx, 30*time.Second, "the member list to answer", func(ctx context.Context) (bool, string, error) {
		ms, lerr := f.members(ctx)
		if lerr != nil {
			return false, "", lerr
		}
		if slices.ContainsFunc(ms, func(m *etcdserverpb.Member) bool { return m.ID == f.member.ID }) {
			return false, "", fmt.Errorf("member %s still listed", f.member.Name)
		}
		return true, "", nil
	}); werr != nil {
		return fmt.Errorf("etcd member remove %s (%x): %w (%v)", f.member.Name, f.member.ID, err, werr)
	}
	return f.env.step(ctx, "etcd member "+f.member.Name+" removed")
}

// members lists the members by name ("" for unstarted ones) and ID.
func (f *removeEtcdMember) members(ctx context.Context) ([]*etcdserverpb.Member, error) {
	resp, err := f.env.Etcd.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("etcd member list: %w", err)
	}
	return resp.Members, nil
}

func (f *removeEtcdMember) Effect(ctx context.Context) ([]string, error) {
	var facts []string
	err := waitFor(ctx, time.Minute, "member "+f.member.Name+" to leave etcd", func(ctx context.Context) (bool, string, error) {
		ms, err := f.members(ctx)
		if err != nil {
			return false, "", err
		}
		names := memberNames(ms)
		if slices.ContainsFunc(ms, func(m *etcdserverpb.Member) bool { return m.ID == f.member.ID }) {
			return false, "members " + names, nil
		}
		facts = append(facts, fmt.Sprintf("etcd has %d members: %s", len(ms), names))
		return true, "", nil
	})
	if err != nil || f.member.Name != f.leader {
		return facts, err
	}
	err = waitFor(ctx, time.Minute, "etcd to elect a leader other than "+f.leader, func(ctx context.Context) (bool, string, error) {
		l, err := monitor.EtcdLeader(f.env.Etcd)(ctx)
		if err != nil {
			return false, "", err
		}
		if l == f.leader {
			return false, "leader " + l, nil
		}
		facts = append(facts, fmt.Sprintf("etcd leader moved from %s to %s", f.leader, l))
		return true, "", nil
	})
	return facts, err
}

func memberNames(ms []*etcdserverpb.Member) string {
	names := make([]string, 0, len(ms))
	for _, m := range ms {
		n := m.Name
		if n == "" {
			n = "(unstarted)"
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// Hold waits until the two remaining members have a leader and the API
// answers every new connection through the load balancer, whose checks
// take out the API server beside the removed member (see waitAPIStable).
func (f *removeEtcdMember) Hold(ctx context.Context) error {
	leader := monitor.EtcdLeader(f.env.Etcd)
	err := waitFor(ctx, f.env.Timeout, "etcd to have a leader among two members", func(ctx context.Context) (bool, string, error) {
		_, err := leader(ctx)
		return err == nil, "", err
	})
	if err != nil {
		return err
	}
	return waitAPIStable(ctx, f.env)
}

func (f *removeEtcdMember) Revert(ctx context.Context) error {
	f.mu.Lock()
	removed, unknown := f.removed, f.unknownTarget
	f.mu.Unlock()
	if unknown {
		return f.checkWhole(ctx)
	}
	if !removed {
		return nil
	}
	if err := f.readd(ctx); err != nil {
		return fmt.Errorf("re-add etcd member %s: %w", f.node.Name, err)
	}
	return nil
}

// checkWhole is the revert of a journal that names no member: nothing is
// known to have been removed, which etcd must confirm, a member for every
// control-plane node, each healthy, before the journal is closed. Otherwise
// it says what it found, for a person to decide.
func (f *removeEtcdMember) checkWhole(ctx context.Context) error {
	cps, err := targetNodes(ctx, f.env, scenarios.Target{}, cluster.RoleControlPlane)
	if err != nil {
		return err
	}
	err = waitFor(ctx, f.p.ReaddTimeout, fmt.Sprintf("%d healthy etcd members and API servers", len(cps)), func(ctx context.Context) (bool, string, error) {
		ms, err := f.members(ctx)
		if err != nil {
			return false, "", err
		}
		desc := "members " + memberNames(ms)
		if len(ms) != len(cps) || slices.ContainsFunc(ms, func(m *etcdserverpb.Member) bool { return m.Name == "" || m.IsLearner }) {
			return false, desc, nil
		}
		for _, m := range ms {
			for _, u := range m.ClientURLs {
				if err := monitor.EtcdEndpointHealthy(f.env.Etcd, u)(ctx); err != nil {
					return false, desc + ": " + err.Error(), nil
				}
			}
		}
		for _, n := range cps {
			if err := apiServerReady(ctx, f.env, n.InternalIP); err != nil {
				return false, desc + ": " + err.Error(), nil
			}
		}
		return true, desc, nil
	})
	if err != nil {
		return fmt.Errorf("the journal names no etcd member (it stopped at resolving the target, or its cluster copy lags the disk journal that was lost), so etcd must be whole, a healthy member and API server for each of the %d control-plane nodes, and it is not: %w", len(cps), err)
	}
	return nil
}

// readd adds the member back, each step journalled: etcd stopped on its
// node (its manifest moved aside), its data directory emptied, MemberAdd,
// etcd started again as a member of the existing cluster, every member
// healthy. Each step is idempotent and decided from what etcd lists, so a
// later process repeats what is safe to repeat; a member that a journalled
// re-add started already is only waited for.
func (f *removeEtcdMember) readd(ctx context.Context) error {
	ms, err := f.members(ctx)
	if err != nil {
		return err
	}
	peer := f.member.PeerURLs[0]
	var current *etcdserverpb.Member
	for _, m := range ms {
		if slices.Contains(m.PeerURLs, peer) {
			current = m
		}
	}
	if current != nil && current.ID == f.member.ID {
		f.env.Logger.V(0).Infof("etcd member %s was never removed", f.node.Name)
		return f.waitHealthy(ctx, len(ms))
	}
	f.mu.Lock()
	started := f.readdState.Started
	f.mu.Unlock()
	if started && current != nil && current.Name != "" {
		f.env.Logger.V(0).Infof("etcd member %s was added back and started already (%x)", f.node.Name, current.ID)
		return f.waitReadded(ctx, len(ms))
	}
	node := f.node.Name
	sh := func(script string) (string, error) { return f.exec.ExecOnNode(ctx, node, "sh", "-c", script) }

	// Stop the removed member for good before touching its data: kubelet
	// stops a static pod whose manifest leaves the manifests directory.
	if current == nil || current.Name == "" {
		f.progress(func(p *readdProgress) { p.ManifestAside = true })
		if err := f.env.step(ctx, "stopping etcd on "+node+": moving "+etcdManifest+" to "+etcdManifestAside); err != nil {
			return err
		}
		f.env.Logger.V(0).Infof("stopping etcd on %s and emptying %s", node, etcdDataDir)
		if _, err := sh(fmt.Sprintf("test -f %[2]s || mv %[1]s %[2]s", etcdManifest, etcdManifestAside)); err != nil {
			return err
		}
		// The kubelet stops it too, but it may be slow to: its own API
		// connection can be pinned to this node's API server, which
		// fails while its etcd is gone.
		if _, err := sh("crictl ps -q --name '^etcd$' | xargs -r crictl stop >/dev/null"); err != nil {
			f.env.Logger.V(0).Infof("stopping etcd on %s: %v (waiting for the kubelet)", node, err)
		}
		if err := waitFor(ctx, 2*time.Minute, "etcd to stop on "+node, func(ctx context.Context) (bool, string, error) {
			out, err := sh("crictl ps -q --name '^etcd$'")
			if err != nil {
				return false, "", err
			}
			return strings.TrimSpace(out) == "", "etcd container still running", nil
		}); err != nil {
			return err
		}
		f.progress(func(p *readdProgress) { p.DataDeleted = true })
		if err := f.env.step(ctx, "deleting etcd data on "+node+" ("+etcdDataDir+"/member)"); err != nil {
			return err
		}
		if _, err := sh("rm -rf " + etcdDataDir + "/member"); err != nil {
			return err
		}
		if err := f.env.step(ctx, "etcd stopped and its data deleted on "+node); err != nil {
			return err
		}
	}
	if current == nil {
		f.env.Logger.V(0).Infof("etcd member add %s (%s)", node, peer)
		resp, err := f.env.Etcd.MemberAdd(ctx, []string{peer})
		if err != nil {
			return fmt.Errorf("etcd member add %s: %w", peer, err)
		}
		ms = resp.Members
		f.progress(func(p *readdProgress) { p.AddedID = resp.Member.ID })
		if err := f.env.step(ctx, fmt.Sprintf("etcd member %s added back as %x", node, resp.Member.ID)); err != nil {
			return err
		}
	}
	// The initial cluster of a member joining an existing cluster: every
	// member's name with its peer URL, the new one under its node's name.
	var initial []string
	for _, m := range ms {
		name := m.Name
		if slices.Contains(m.PeerURLs, peer) {
			name = node
		}
		for _, u := range m.PeerURLs {
			initial = append(initial, name+"="+u)
		}
	}
	slices.Sort(initial)
	manifest, err := sh("cat " + etcdManifestAside + " 2>/dev/null || cat " + etcdManifest)
	if err != nil {
		return err
	}
	joined, err := joinExistingManifest(manifest, strings.Join(initial, ","))
	if err != nil {
		return fmt.Errorf("etcd manifest of %s: %w", node, err)
	}
	f.env.Logger.V(0).Infof("starting etcd on %s as a member of the existing cluster %s", node, strings.Join(initial, ","))
	enc := base64.StdEncoding.EncodeToString([]byte(joined))
	// Written beside the manifests directory, then moved in: the kubelet
	// reads every file in it, half-written ones too.
	if _, err := sh(fmt.Sprintf("echo %s | base64 -d > %s.new && mv %[2]s.new %s && rm -f %[2]s", enc, etcdManifestAside, etcdManifest)); err != nil {
		return err
	}
	// A restarted kubelet reads the manifest at once and dials the API
	// anew, through the load balancer, which has taken this node's failing
	// API server out by now.
	if _, err := sh("systemctl restart kubelet"); err != nil {
		return err
	}
	f.progress(func(p *readdProgress) { p.ManifestAside, p.Started = false, true })
	if err := f.env.step(ctx, "etcd started on "+node+", joining the existing cluster"); err != nil {
		return err
	}
	return f.waitReadded(ctx, len(ms))
}

// waitReadded waits until the re-added member and every other is healthy,
// and journals it.
func (f *removeEtcdMember) waitReadded(ctx context.Context, want int) error {
	if err := f.waitHealthy(ctx, want); err != nil {
		return err
	}
	f.progress(func(p *readdProgress) { p.Healthy = true })
	return f.env.step(ctx, fmt.Sprintf("%d healthy etcd members", want))
}

// waitHealthy waits until etcd has want started members, all healthy, and
// the API server beside the re-added member is ready.
func (f *removeEtcdMember) waitHealthy(ctx context.Context, want int) error {
	var (
		etcdBack time.Time // when etcd was first seen whole
		kicked   bool
	)
	return waitFor(ctx, f.p.ReaddTimeout, fmt.Sprintf("%d healthy etcd members", want), func(ctx context.Context) (bool, string, error) {
		ms, err := f.members(ctx)
		if err != nil {
			return false, "", err
		}
		desc := "members " + memberNames(ms)
		if len(ms) != want || slices.ContainsFunc(ms, func(m *etcdserverpb.Member) bool { return m.Name == "" || m.IsLearner }) {
			return false, desc, nil
		}
		for _, m := range ms {
			for _, u := range m.ClientURLs {
				if err := monitor.EtcdEndpointHealthy(f.env.Etcd, u)(ctx); err != nil {
					return false, desc + ": " + err.Error(), nil
				}
			}
		}
		// The member's node's API server talks to it alone: it is whole
		// once that server is ready again. Having failed its liveness
		// probe while its etcd was gone, it may sit in the kubelet's
		// crash back-off for minutes; a kubelet restart forgets the
		// back-off, once.
		if err := apiServerReady(ctx, f.env, f.node.InternalIP); err != nil {
			if etcdBack.IsZero() {
				etcdBack = time.Now()
			}
			if !kicked && time.Since(etcdBack) > apiServerGrace {
				kicked = true
				f.env.Logger.V(0).Infof("etcd is whole but the API server on %s is not ready after %s: restarting its kubelet to end its crash back-off", f.node.Name, apiServerGrace)
				if _, err := f.exec.ExecOnNode(ctx, f.node.Name, "systemctl", "restart", "kubelet"); err != nil {
					return false, "", err
				}
			}
			return false, desc + "; " + err.Error(), nil
		}
		return true, desc, nil
	})
}

// apiServerGrace is how long an API server gets to be ready once its etcd
// is back before its kubelet is restarted.
const apiServerGrace = 30 * time.Second

// joinExistingManifest rewrites kubeadm's etcd static pod manifest so that
// etcd starts as a new member of an existing cluster: --initial-cluster
// lists every member and --initial-cluster-state is existing.
func joinExistingManifest(manifest, initialCluster string) (string, error) {
	lines := strings.Split(manifest, "\n")
	var out []string
	indent := ""
	found := false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "- --initial-cluster-state="):
			continue
		case strings.HasPrefix(t, "- --initial-cluster="):
			found = true
			indent = l[:len(l)-len(strings.TrimLeft(l, " "))]
			out = append(out, indent+"- --initial-cluster="+initialCluster, indent+"- --initial-cluster-state=existing")
			continue
		}
		out = append(out, l)
	}
	if !found {
		return "", fmt.Errorf("no --initial-cluster flag to rewrite")
	}
	return strings.Join(out, "\n"), nil
}

func (f *removeEtcdMember) Measure(r Record) []reports.Measurement {
	var ms []reports.Measurement
	if t, ok := takeover(r, "etcd leader change", monitor.LocatorEtcdLeader); ok {
		ms = append(ms, t)
	}
	ms = append(ms, seconds("etcd without a leader", errorTime(r.Intervals, monitor.LocatorEtcdLeader, r.Injected), "time no member answered with a leader"))
	if r.RevertStarted.IsZero() {
		return ms
	}
	// Three healthy members again: the membership sampler reads three
	// started members and the member's own endpoint answers.
	changes := monitor.Changes(r.Intervals, monitor.LocatorEtcdMembers)
	var full time.Time
	for _, c := range changes {
		if c.At.After(r.RevertStarted) && !strings.Contains(c.Value, "unstarted") && len(strings.Split(c.Value, ",")) >= 3 {
			full = c.At
			break
		}
	}
	end, open := lastErrorEnd(r.Intervals, monitor.LocatorEtcdMember(f.node.Name), r.RevertStarted)
	if end.Before(full) {
		end = full
	}
	if end.IsZero() || open {
		ms = append(ms, reports.Measurement{Name: "3 healthy members", Unit: "s", Detail: "not seen before sampling stopped"})
		return ms
	}
	return append(ms, seconds("3 healthy members", end.Sub(r.RevertStarted), "from the start of the re-add"))
}
