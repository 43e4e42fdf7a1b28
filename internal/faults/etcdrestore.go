package faults

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/etcdsnap"
	"github.com/drill-sre/drill/internal/kube"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/safe"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var etcdRestoreSpec = Register(Spec{
	Type:       scenarios.FaultEtcdRestore,
	Params:     func() scenarios.FaultParams { return &scenarios.EtcdRestoreParams{} },
	Measurable: []scenarios.Objective{scenarios.ObjectiveRTOAPI, scenarios.ObjectiveRTOApp, scenarios.ObjectiveRPO, scenarios.ObjectiveAvailability, scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts},
	Samplers:   SampleControlPlane,
	Access:     drAccess,
	Target:     "etcd",
	Suite:      "restore",
	// A restore rolls an in-cluster copy of the journal back with etcd.
	ClusterJournal: false,
	New:            newWith(newEtcdRestore),
})

// Where kubeadm keeps the API server's static pod, and where the restore
// moves it while etcd is restored.
const (
	apiServerManifest      = "/etc/kubernetes/manifests/kube-apiserver.yaml"
	apiServerManifestAside = "/etc/kubernetes/drill-kube-apiserver.yaml"
)

// RevisionBump is how far a restore moves etcd's revision forward, marking
// the old ones compacted (etcdutl snapshot restore --bump-revision
// --mark-compacted): clients that watched from a revision newer than the
// snapshot relist instead of seeing time run backwards. A billion exceeds
// any number of writes a drill makes after its snapshot.
const RevisionBump = 1_000_000_000

// Locators of the restore's timeline, as Info intervals in the drill's
// record.
const (
	LocatorSnapshot    = "etcd/snapshot"
	LocatorRestoreStep = "etcd/restore"
)

// etcdRestore destroys etcd's data and restores every member from the
// newest verified snapshot, as the documented procedure does: stop every
// etcd and API server, restore each member's data directory with etcdutl
// under a new cluster token, start etcd, then the API servers.
type etcdRestore struct {
	env  Env
	sc   *scenarios.Scenario
	p    *scenarios.EtcdRestoreParams
	exec cluster.NodeExecer
	acc  cluster.EtcdAccess

	nodes   []cluster.Node    // control-plane nodes, each with a member
	peers   map[string]string // member (node) name → peer URL
	victims []string          // nodes whose member the disaster destroys
	dir     string            // where snapshots are kept

	sched     *etcdsnap.Scheduler
	stopSched func()

	mu       sync.Mutex
	injected bool
	used     *etcdsnap.Snapshot
	restored []string // the restore's stages done, in order (restoreStage)
	steps    stepLog
}

var _ interface {
	Fault
	EffectChecker
	Measurer
	Timeline
	DataLossBound
	Journaled
	Planner
} = (*etcdRestore)(nil)

// etcdRestoreJournal is what restoring etcd needs.
type etcdRestoreJournal struct {
	// Nodes are the control-plane nodes, each with a member.
	Nodes []cluster.Node `json:"nodes"`
	// Peers are the members' peer URLs by name.
	Peers map[string]string `json:"peers"`
	// Victims are the nodes whose members the disaster destroys.
	Victims []string `json:"victims"`
	// Dir is where the snapshots are.
	Dir string `json:"dir"`
	// Injected: the victims' data was deleted, or was about to be.
	Injected bool `json:"injected,omitempty"`
	// Snapshot is the snapshot the restore uses.
	Snapshot *etcdsnap.Snapshot `json:"snapshot,omitempty"`
	// Restored are the restore's stages done, in order.
	Restored []string `json:"restored,omitempty"`
}

// JournalState implements Journaled.
func (f *etcdRestore) JournalState() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	js := etcdRestoreJournal{Nodes: slices.Clone(f.nodes), Peers: maps.Clone(f.peers), Victims: slices.Clone(f.victims),
		Dir: f.dir, Injected: f.injected, Restored: slices.Clone(f.restored)}
	if f.used != nil {
		used := *f.used
		js.Snapshot = &used
	}
	return js
}

// RestoreJournal implements Journaled.
func (f *etcdRestore) RestoreJournal(state json.RawMessage) error {
	var js etcdRestoreJournal
	if err := restoreJournal(state, &js); err != nil {
		return err
	}
	if js.Injected && js.Snapshot == nil {
		return fmt.Errorf("restore journal: etcd's data was deleted, but no snapshot is journalled to restore it from")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes, f.peers, f.victims, f.dir = js.Nodes, js.Peers, js.Victims, js.Dir
	f.injected, f.used, f.restored = js.Injected, js.Snapshot, js.Restored
	return nil
}

func newEtcdRestore(env Env, sc *scenarios.Scenario, p *scenarios.EtcdRestoreParams) (Fault, error) {
	ex, ok := env.Provider.(cluster.NodeExecer)
	if !ok {
		return nil, fmt.Errorf("etcd-restore: cluster %s cannot run commands on its nodes, which restoring etcd's data directories needs", env.Provider.Name())
	}
	acc, ok := env.Provider.(cluster.EtcdAccess)
	if !ok || env.Etcd == nil {
		return nil, fmt.Errorf("etcd-restore: no access to the etcd members of cluster %s", env.Provider.Name())
	}
	return &etcdRestore{env: env, sc: sc, p: p, exec: ex, acc: acc, steps: stepLog{locator: LocatorRestoreStep, logger: env.Logger}}, nil
}

// quorumVictims picks, from the members' nodes, the ones whose members a
// quorum loss destroys: a seeded survivor is spared, and of the others the
// first ceil(n/2) are taken, which leaves floor(n/2) members, one short of
// a quorum.
func quorumVictims(names []string, seed int64) []string {
	survivor := names[seeded(seed, len(names))]
	victims := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == survivor })
	return victims[:len(names)/2+len(names)%2]
}

// etcdRestoreTarget is what an etcd restore acts on.
type etcdRestoreTarget struct {
	nodes    []cluster.Node    // control-plane nodes, each with a member
	peers    map[string]string // member (node) name → peer URL
	victims  []string          // nodes whose member the disaster destroys
	endpoint string            // a member's client URL, for snapshots
}

// resolve finds the members, one on each control-plane node, and the
// disaster's victims (Target and Plan).
func (f *etcdRestore) resolve(ctx context.Context) (etcdRestoreTarget, error) {
	nodes, err := controlPlaneNodes(ctx, f.env, scenarios.Target{})
	if err != nil {
		return etcdRestoreTarget{}, err
	}
	v, err := f.env.readEtcd(ctx)
	if err != nil {
		return etcdRestoreTarget{}, err
	}
	t := etcdRestoreTarget{nodes: nodes, peers: map[string]string{}}
	for _, m := range v.members {
		if m.Name == "" || m.IsLearner || len(m.PeerURLs) == 0 || len(m.ClientURLs) == 0 {
			return etcdRestoreTarget{}, fmt.Errorf("etcd member %x is not a started voting member: restore from a whole cluster", m.ID)
		}
		t.peers[m.Name] = m.PeerURLs[0]
		if t.endpoint == "" {
			t.endpoint = m.ClientURLs[0]
		}
	}
	for _, n := range nodes {
		if _, ok := t.peers[n.Name]; !ok {
			return etcdRestoreTarget{}, fmt.Errorf("control-plane node %s has no etcd member: not a kubeadm stacked etcd", n.Name)
		}
	}
	if len(nodes) != len(t.peers) || len(nodes) < 3 {
		return etcdRestoreTarget{}, fmt.Errorf("etcd has %d members on %d control-plane nodes: the drill needs 3 or more, one on each", len(t.peers), len(nodes))
	}
	t.victims = nodeNames(nodes)
	if f.p.Disaster == scenarios.DisasterQuorumLoss {
		t.victims = quorumVictims(t.victims, f.sc.Seed)
	}
	return t, nil
}

func (f *etcdRestore) describe(t etcdRestoreTarget) string {
	return fmt.Sprintf("etcd members %s: %s destroys %s", strings.Join(nodeNames(t.nodes), ","), f.p.Disaster, strings.Join(t.victims, ","))
}

func (f *etcdRestore) Target(ctx context.Context) (string, error) {
	t, err := f.resolve(ctx)
	if err != nil {
		return "", err
	}
	f.nodes, f.peers, f.victims = t.nodes, t.peers, t.victims
	if err := f.startSnapshots(ctx, t.endpoint); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s; snapshots every %s into %s", f.describe(t), f.p.SnapshotInterval, f.dir), nil
}

// Plan implements Planner.
func (f *etcdRestore) Plan(ctx context.Context) (Plan, error) {
	t, err := f.resolve(ctx)
	if err != nil {
		return Plan{}, err
	}
	victims := strings.Join(t.victims, ",")
	dir := filepath.Join(f.env.ArtifactDir, "etcd-snapshots", f.sc.Name+"-<start time>")
	if f.env.ArtifactDir == "" {
		dir = filepath.Join(os.TempDir(), "etcd-snapshots", f.sc.Name+"-<start time>")
	}
	plan := Plan{
		Target: f.describe(t),
		Changes: []string{
			fmt.Sprintf("take an etcd snapshot from %s every %s into %s on this machine; wait for the first verified one, then %s", t.endpoint, f.p.SnapshotInterval, dir, f.p.DisasterAfter),
			fmt.Sprintf("on nodes %s: move %s to %s, kill etcd and delete %s/member", victims, etcdManifest, etcdManifestAside, etcdDataDir),
		},
	}
	g := &etcdRestore{env: f.env, p: f.p, nodes: t.nodes}
	for _, st := range g.stages(&etcdsnap.Snapshot{Path: "the newest verified snapshot"}) {
		plan.Revert = append(plan.Revert, st.what)
	}
	if f.env.Deployment == "" && f.sc.Workload != nil {
		plan.Revert = append(plan.Revert, "the workload available: "+plannedWorkload(f.sc))
	}
	plan.Revert = append(plan.Revert, fmt.Sprintf("all of it within %s", f.p.RestoreTimeout))
	return plan, nil
}

func nodeNames(nodes []cluster.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

// startSnapshots starts the backup schedule, waits for its first verified
// snapshot, then until the disaster is due.
func (f *etcdRestore) startSnapshots(ctx context.Context, endpoint string) error {
	cfg, err := f.acc.EtcdConfig(ctx)
	if err != nil {
		return err
	}
	base := f.env.ArtifactDir
	if base == "" {
		base = os.TempDir()
	}
	f.dir = filepath.Join(base, "etcd-snapshots", f.sc.Name+"-"+time.Now().UTC().Format("20060102T150405Z"))
	f.sched = &etcdsnap.Scheduler{Config: cfg, Endpoint: endpoint, Dir: f.dir, Interval: f.p.SnapshotInterval, Logger: f.env.Logger}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	safe.Go(sctx, "the etcd snapshot scheduler", func() { defer close(done); f.sched.Run(sctx) })
	f.stopSched = func() { cancel(); <-done }

	var first time.Time
	err = waitFor(ctx, 2*time.Minute+f.p.SnapshotInterval, "the first verified etcd snapshot", func(context.Context) (bool, string, error) {
		taken, failed := f.sched.Taken()
		if len(taken) > 0 {
			first = taken[0].Requested
			return true, "", nil
		}
		if len(failed) > 0 {
			return false, "", failed[len(failed)-1]
		}
		return false, "no snapshot yet", nil
	})
	if err != nil {
		f.stopSched()
		return err
	}
	f.env.Logger.V(0).Infof("first etcd snapshot taken; the disaster strikes %s after it", f.p.DisasterAfter)
	if err := declaredHold(ctx, "disasterAfter", time.Until(first.Add(f.p.DisasterAfter))); err != nil {
		f.stopSched()
		return err
	}
	return nil
}

// sh runs a shell script on node.
func (f *etcdRestore) sh(ctx context.Context, node, script string) (string, error) {
	return f.exec.ExecOnNode(ctx, node, "sh", "-c", script)
}

// stopStaticPod moves a static pod's manifest out of the kubelet's
// manifests directory (idempotent) and stops its container, until none
// runs. On a loaded node crictl's stop can time out: the process is then
// killed (its name is the container's).
func (f *etcdRestore) stopStaticPod(ctx context.Context, node, manifest, aside, container string, grace int) error {
	if _, err := f.sh(ctx, node, fmt.Sprintf("test -f %[2]s || mv %[1]s %[2]s", manifest, aside)); err != nil {
		return err
	}
	return waitFor(ctx, 3*time.Minute, container+" to stop on "+node, func(ctx context.Context) (bool, string, error) {
		out, err := f.sh(ctx, node, fmt.Sprintf("crictl ps -q --name '^%s$'", container))
		if err != nil {
			return false, "", err
		}
		ids := strings.Fields(out)
		if len(ids) == 0 {
			return true, "", nil
		}
		stop := fmt.Sprintf("crictl stop -t %d %s >/dev/null 2>&1 || pkill -KILL -x %s", grace, strings.Join(ids, " "), container)
		if _, err := f.sh(ctx, node, stop); err != nil {
			return false, "", err
		}
		return false, container + " still running", nil
	})
}

// startStaticPod moves a manifest back (idempotent).
func (f *etcdRestore) startStaticPod(ctx context.Context, node, manifest, aside string) error {
	_, err := f.sh(ctx, node, fmt.Sprintf("test -f %[1]s || mv %[2]s %[1]s", manifest, aside))
	return err
}

func (f *etcdRestore) Inject(ctx context.Context) error {
	f.stopSched()
	taken, failed := f.sched.Taken()
	used, ok := etcdsnap.Latest(taken, time.Now())
	if !ok {
		return fmt.Errorf("no verified etcd snapshot to restore from (%d failed)", len(failed))
	}
	f.mu.Lock()
	f.injected, f.used = true, &used
	f.mu.Unlock()
	victims := strings.Join(f.victims, ",")
	if err := f.env.step(ctx, fmt.Sprintf("deleting etcd data on nodes %s (the restore will use %s)", victims, filepath.Base(used.Path))); err != nil {
		return err
	}
	// Every victim at once, each killed outright (its manifest out of the
	// kubelet's way first, so that it stays dead): the disaster is one
	// moment, not a sequence.
	err := f.eachNode(f.victims, func(n string) error {
		if _, err := f.sh(ctx, n, fmt.Sprintf("test -f %[2]s || mv %[1]s %[2]s; pkill -KILL -x etcd || true", etcdManifest, etcdManifestAside)); err != nil {
			return fmt.Errorf("kill etcd: %w", err)
		}
		if err := f.stopStaticPod(ctx, n, etcdManifest, etcdManifestAside, "etcd", 0); err != nil {
			return fmt.Errorf("stop etcd: %w", err)
		}
		if _, err := f.sh(ctx, n, "rm -rf "+etcdDataDir+"/member"); err != nil {
			return fmt.Errorf("delete etcd's data: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return f.env.step(ctx, "etcd data on nodes "+victims+" deleted")
}

func (f *etcdRestore) Effect(ctx context.Context) ([]string, error) {
	facts := []string{fmt.Sprintf("etcd on %s killed and %s/member deleted", strings.Join(f.victims, ","), etcdDataDir)}
	err := waitFor(ctx, 2*time.Minute, "etcd to have no leader and the API to refuse writes", func(ctx context.Context) (bool, string, error) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if l, err := monitor.EtcdLeader(f.env.Etcd)(cctx); err == nil {
			return false, "etcd still has a leader: " + l, nil
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "drill-disaster-check-", Labels: kube.ManagedLabels(nil)}}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		created, err := f.env.Clientset.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(wctx, cm, metav1.CreateOptions{})
		if err == nil {
			_ = f.env.Clientset.CoreV1().ConfigMaps(metav1.NamespaceDefault).Delete(ctx, created.Name, metav1.DeleteOptions{})
			return false, "the API still accepts writes", nil
		}
		facts = append(facts, "etcd has no leader", "a write through the API's load balancer failed: "+err.Error())
		return true, "", nil
	})
	return facts, err
}

// Revert restores every member from the snapshot chosen at the injection.
// It runs the whole procedure whatever state the disaster left, so that it
// also repairs a drill stopped half-way; each stage is idempotent and
// journalled, and a procedure that failed part-way (a node that did not
// answer in time) is run once more from the start. A later process resumes
// at the first stage the journal does not say was done (see restore).
func (f *etcdRestore) Revert(ctx context.Context) error {
	f.mu.Lock()
	injected, used := f.injected, f.used
	f.mu.Unlock()
	if f.stopSched != nil {
		f.stopSched()
	}
	if !injected {
		return nil
	}
	err := f.restore(ctx, used)
	if err != nil && ctx.Err() == nil {
		f.env.Logger.Warnf("the restore failed (%v): running it again from the start", err)
		f.mu.Lock()
		f.restored = nil
		f.mu.Unlock()
		if jerr := f.env.step(ctx, "running the restore again from the start"); jerr != nil {
			return errors.Join(err, jerr)
		}
		err = f.restore(ctx, used)
	}
	return err
}

// restoreStage is one stage of the restore: what it does, as the timeline
// says it, and, journalled, what it is about to do when that cannot be
// undone and what it did.
type restoreStage struct {
	name   string // as journalled in Restored
	what   string // its timeline step
	before string // its journal step before it starts, "" for none
	done   string // its journal step once done
	run    func(ctx context.Context) error
}

// The restore's stages, by their journalled names.
const (
	stageStopped    = "stopped"    // every API server and etcd member stopped, their manifests aside
	stageRestored   = "restored"   // every member's data directory restored from the snapshot
	stageEtcd       = "etcd"       // etcd started, every member healthy
	stageAPIServers = "apiservers" // the API servers started, every one ready
	stageWorkload   = "workload"   // the workload available
)

func (f *etcdRestore) stages(used *etcdsnap.Snapshot) []restoreStage {
	names := nodeNames(f.nodes)
	restartKubelet := func(ctx context.Context, manifest, aside string) error {
		return f.eachNode(names, func(n string) error {
			if err := f.startStaticPod(ctx, n, manifest, aside); err != nil {
				return err
			}
			_, err := f.sh(ctx, n, "systemctl restart kubelet")
			return err
		})
	}
	stages := []restoreStage{{
		name:   stageStopped,
		what:   "stop every API server and etcd member",
		before: "moving the API server and etcd manifests aside on nodes " + strings.Join(names, ","),
		done:   "every API server and etcd member stopped",
		run: func(ctx context.Context) error {
			return f.eachNode(names, func(n string) error {
				if err := f.stopStaticPod(ctx, n, apiServerManifest, apiServerManifestAside, "kube-apiserver", 5); err != nil {
					return err
				}
				return f.stopStaticPod(ctx, n, etcdManifest, etcdManifestAside, "etcd", 5)
			})
		},
	}, {
		name:   stageRestored,
		what:   "etcdutl snapshot restore on every member, new cluster token",
		before: fmt.Sprintf("deleting etcd data on nodes %s to restore %s", strings.Join(names, ","), used.Path),
		done:   "every member's data restored from " + filepath.Base(used.Path),
		run:    func(ctx context.Context) error { return f.restoreDataDirs(ctx, *used, names) },
	}, {
		name: stageEtcd,
		what: "start etcd: every member healthy",
		done: "etcd started, every member healthy",
		run: func(ctx context.Context) error {
			if err := restartKubelet(ctx, etcdManifest, etcdManifestAside); err != nil {
				return err
			}
			return f.waitEtcdHealthy(ctx, names)
		},
	}, {
		name: stageAPIServers,
		what: "start the API servers: every one ready",
		done: "the API servers started, every one ready",
		run: func(ctx context.Context) error {
			if err := restartKubelet(ctx, apiServerManifest, apiServerManifestAside); err != nil {
				return err
			}
			err := waitFor(ctx, f.p.RestoreTimeout, "every API server to be ready", func(ctx context.Context) (bool, string, error) {
				for _, n := range f.nodes {
					if err := apiServerReady(ctx, f.env, n.InternalIP); err != nil {
						return false, n.Name + ": " + err.Error(), nil
					}
				}
				return true, "", nil
			})
			if err != nil {
				return err
			}
			return waitAPIStable(ctx, f.env)
		},
	}}
	if f.env.Namespace != "" && f.env.Deployment != "" {
		stages = append(stages, restoreStage{
			name: stageWorkload,
			what: "the workload available",
			done: "the workload available",
			run:  func(ctx context.Context) error { return waitDeploymentAvailable(ctx, f.env, f.p.RestoreTimeout) },
		})
	}
	return stages
}

// resumeAt returns the index of the stage a restore resumes at, given the
// stages done: the first one not done, except that data directories are
// restored only with everything stopped, so a restore that did not finish
// that stage starts over from stopping everything. len(stages) means all
// are done.
func resumeAt(stages []restoreStage, done []string) int {
	start := slices.IndexFunc(stages, func(s restoreStage) bool { return !slices.Contains(done, s.name) })
	switch {
	case start < 0:
		return len(stages)
	case stages[start].name == stageRestored:
		return 0
	}
	return start
}

// restore runs the restore's stages from where the journal says to resume
// (resumeAt), each recorded on the timeline and journalled.
func (f *etcdRestore) restore(ctx context.Context, used *etcdsnap.Snapshot) error {
	f.env.Logger.V(0).Infof("restoring etcd from %s (revision %d, requested at %s)", used.Path, used.Status.Revision, used.Requested.Format("15:04:05.000"))
	stages := f.stages(used)
	f.mu.Lock()
	start := resumeAt(stages, f.restored)
	f.mu.Unlock()
	if start == len(stages) {
		f.env.Logger.V(0).Infof("the journal says the restore was done")
		return nil
	}
	if start > 0 {
		f.env.Logger.V(0).Infof("the journal says the restore's stages up to %q were done: resuming at %q", stages[start-1].name, stages[start].name)
	}
	for _, s := range stages[start:] {
		if s.before != "" {
			if err := f.env.step(ctx, s.before); err != nil {
				return err
			}
		}
		t := time.Now()
		err := s.run(ctx)
		f.steps.record(s.what, t, err)
		if err != nil {
			return err
		}
		f.mu.Lock()
		if !slices.Contains(f.restored, s.name) {
			f.restored = append(f.restored, s.name)
		}
		f.mu.Unlock()
		if err := f.env.step(ctx, s.done); err != nil {
			return err
		}
	}
	return nil
}

// eachNode runs fn on every node at once and joins the errors.
func (f *etcdRestore) eachNode(names []string, fn func(node string) error) error {
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(n); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n, err)
			}
		}()
	}
	wg.Wait()
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// restoreDataDirs runs etcdutl's snapshot restore here, once per member,
// and replaces each member's data directory with the result.
func (f *etcdRestore) restoreDataDirs(ctx context.Context, used etcdsnap.Snapshot, names []string) error {
	token := fmt.Sprintf("drill-restore-%d", time.Now().Unix())
	var initial []string
	for _, n := range names {
		initial = append(initial, n+"="+f.peers[n])
	}
	work, err := os.MkdirTemp("", "drill-etcd-restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	for _, n := range names {
		out := filepath.Join(work, n)
		err := snapshot.NewV3(zap.NewNop()).Restore(snapshot.RestoreConfig{
			SnapshotPath:        used.Path,
			Name:                n,
			OutputDataDir:       out,
			PeerURLs:            []string{f.peers[n]},
			InitialCluster:      strings.Join(initial, ","),
			InitialClusterToken: token,
			RevisionBump:        RevisionBump,
			MarkCompacted:       true,
		})
		if err != nil {
			return fmt.Errorf("etcdutl snapshot restore %s for %s: %w", used.Path, n, err)
		}
	}
	return f.eachNode(names, func(n string) error {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(tarDir(pw, filepath.Join(work, n))) }()
		_, err := f.exec.ExecOnNodeInput(ctx, n, pr, "sh", "-c",
			fmt.Sprintf("rm -rf %[1]s/member && mkdir -p %[1]s && tar -x -C %[1]s", etcdDataDir))
		pr.CloseWithError(err)
		return err
	})
}

// tarDir writes dir's tree as a tar stream, paths relative to dir.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		if hdr.Name, err = filepath.Rel(dir, path); err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		file, err := os.Open(path)
		if err != nil {
			return err
		}
		defer file.Close()
		_, err = io.Copy(tw, file)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// waitEtcdHealthy waits until every member is started and healthy and one
// leads.
func (f *etcdRestore) waitEtcdHealthy(ctx context.Context, names []string) error {
	return waitFor(ctx, f.p.RestoreTimeout, fmt.Sprintf("%d healthy etcd members with a leader", len(names)), func(ctx context.Context) (bool, string, error) {
		resp, err := f.env.Etcd.MemberList(ctx)
		if err != nil {
			return false, "", err
		}
		desc := "members " + memberNames(resp.Members)
		if len(resp.Members) != len(names) {
			return false, desc, nil
		}
		for _, m := range resp.Members {
			if m.Name == "" || len(m.ClientURLs) == 0 {
				return false, desc, nil
			}
			if err := monitor.EtcdEndpointHealthy(f.env.Etcd, m.ClientURLs[0])(ctx); err != nil {
				return false, desc + ": " + err.Error(), nil
			}
		}
		if _, err := monitor.EtcdLeader(f.env.Etcd)(ctx); err != nil {
			return false, desc + ": " + err.Error(), nil
		}
		return true, desc, nil
	})
}

// Timeline implements Timeline: the snapshots taken, then the restore's
// steps.
func (f *etcdRestore) Timeline() []monitor.Interval {
	var out []monitor.Interval
	if f.sched != nil {
		taken, _ := f.sched.Taken()
		for _, s := range taken {
			msg := fmt.Sprintf("snapshot at revision %d, %d keys, hash %08x: %s", s.Status.Revision, s.Status.TotalKey, s.Status.Hash, filepath.Base(s.Path))
			if f.used != nil && s.Path == f.used.Path {
				msg += " (restored)"
			}
			out = append(out, monitor.Interval{From: s.Requested, To: s.Saved, Locator: LocatorSnapshot, Level: monitor.Info, Message: msg})
		}
	}
	return append(out, f.steps.list()...)
}

// DataLossBound implements DataLossBound.
func (f *etcdRestore) DataLossBound() (Backup, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used == nil {
		return Backup{}, false
	}
	return Backup{Taken: f.used.Requested, Interval: f.p.SnapshotInterval,
		What: fmt.Sprintf("etcd snapshot %s at revision %d", filepath.Base(f.used.Path), f.used.Status.Revision)}, true
}

func (f *etcdRestore) Measure(r Record) []reports.Measurement {
	var ms []reports.Measurement
	if f.sched != nil {
		taken, failed := f.sched.Taken()
		ms = append(ms, count("etcd snapshots taken", len(taken), fmt.Sprintf("every %s, each verified (SHA-256, hash, revision); %d failed", f.p.SnapshotInterval, len(failed))))
	}
	if b, ok := f.DataLossBound(); ok {
		ms = append(ms, seconds("snapshot age at the disaster", r.Injected.Sub(b.Taken), b.What))
	}
	if r.RevertStarted.IsZero() {
		return ms
	}
	// etcd whole: the last failure of any member's health sampler after the
	// restore began.
	var end time.Time
	open := false
	for _, n := range f.nodes {
		e, o := lastErrorEnd(r.Intervals, monitor.LocatorEtcdMember(n.Name), r.RevertStarted)
		open = open || o
		if e.After(end) {
			end = e
		}
	}
	if open {
		ms = append(ms, reports.Measurement{Name: "etcd healthy after the restore began", Unit: "s", Detail: "not seen before sampling stopped"})
	} else if !end.IsZero() {
		ms = append(ms, seconds("etcd healthy after the restore began", end.Sub(r.RevertStarted), "every member's health sampler answering"))
	}
	if e, o := lastErrorEnd(r.Intervals, monitor.LocatorAPINew, r.RevertStarted); !o && !e.IsZero() {
		ms = append(ms, seconds("API serving after the restore began", e.Sub(r.RevertStarted), "readyz through the load balancer, new connections"))
	}
	return ms
}
