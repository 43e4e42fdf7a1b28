// Package recovery reverts the faults that a stopped harness left in
// place, from their journals: `drill recover`, and the recovery that
// `drill run` and the suites do before their first drill.
//
// It reads the open journals on the harness's disk and their copies in the
// cluster (the disk wins when both exist), rebuilds each journal's fault
// from the drill file it recorded, restores the fault's state, runs its
// revert, closes the journal, and writes the interrupted drill's report
// with verdict error and "harness stopped at <step>".
package recovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// Input is the cluster to recover and where its journals are.
type Input struct {
	Provider   cluster.Provider
	RESTConfig *rest.Config
	Clientset  kubernetes.Interface
	// Etcd reaches the etcd members; nil when the provider cannot.
	Etcd *clientv3.Client
	// Store holds the journals on disk; its Mirror, when set, is read
	// for the copies in the cluster.
	Store  *journal.Store
	Logger log.Logger
	// Out receives what was done, a line per journal.
	Out io.Writer
	// Timeout bounds each fault's revert. Default 15m.
	Timeout time.Duration
}

// Outcome is what became of one journal.
type Outcome struct {
	Journal journal.Entry
	// From is where the journal was read: "disk" or "cluster".
	From string
	// Recovered says the fault was reverted and its journal closed.
	Recovered bool
	// Skipped says why a journal was left alone (another cluster's, a
	// cluster copy that cannot be trusted); "" otherwise.
	Skipped string
	Err     error
	Took    time.Duration
}

// Open returns the open journals of in's cluster: on disk, and in the
// cluster for those the disk does not have. Journals of other clusters,
// and cluster copies that a fault's own doing rolls back, are returned as
// skipped outcomes.
//
// A journal of a cluster that was deleted and created again under the same
// name (its kube-system UID differs) is returned as gone: there is nothing
// left to revert, and Recover closes it. A journal held by a live process
// on this host (another drill running) is skipped. A failure to read the
// cluster's copies (the API down) is a warning, not an error.
func Open(ctx context.Context, in Input) (open, skipped, gone []Outcome, warnings []string, err error) {
	disk, derr := in.Store.List()
	uid := ClusterUID(ctx, in.Clientset)
	seen := map[string]bool{}
	host, _ := os.Hostname()
	for _, e := range disk {
		seen[e.ID] = true
		switch {
		case e.Cluster.Name != "" && e.Cluster.Name != in.Provider.Name():
			skipped = append(skipped, Outcome{Journal: e, From: "disk",
				Skipped: fmt.Sprintf("it is cluster %s's; run drill recover against that cluster", e.Cluster.Name)})
		case e.Host == host && e.PID != os.Getpid() && alive(e.PID):
			skipped = append(skipped, Outcome{Journal: e, From: "disk",
				Skipped: fmt.Sprintf("process %d, which opened it, still runs: its drill is in progress", e.PID)})
		case uid != "" && e.Cluster.UID != "" && e.Cluster.UID != uid:
			gone = append(gone, Outcome{Journal: e, From: "disk",
				Skipped: fmt.Sprintf("cluster %s was deleted and created again since (kube-system %s, now %s): nothing left to revert", e.Cluster.Name, e.Cluster.UID, uid)})
		default:
			open = append(open, Outcome{Journal: e, From: "disk"})
		}
	}
	if in.Store.Mirror != nil {
		copies, cerr := in.Store.Mirror.List(ctx)
		if cerr != nil {
			warnings = append(warnings, fmt.Sprintf("the cluster's copies of the journals could not be read: %v", cerr))
		}
		for _, e := range copies {
			switch {
			case seen[e.ID] || !e.IsOpen():
			case !e.ClusterCopy:
				skipped = append(skipped, Outcome{Journal: e, From: "cluster",
					Skipped: fmt.Sprintf("a %s restore rolls the cluster's copy back with the snapshot: only the disk journal counts for this fault", e.Fault)})
			default:
				open = append(open, Outcome{Journal: e, From: "cluster"})
			}
		}
	}
	slices.SortFunc(open, func(a, b Outcome) int { return a.Journal.Opened.Compare(b.Journal.Opened) })
	return open, skipped, gone, warnings, derr
}

// ClusterUID returns the UID of the cluster's kube-system namespace, "" when
// the API does not answer.
func ClusterUID(ctx context.Context, cs kubernetes.Interface) string {
	if cs == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ns, err := cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return string(ns.UID)
}

// alive says whether process pid runs.
func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// Recover reverts the fault of every open journal of in's cluster and
// returns what became of each; the error says which could not be
// recovered.
func Recover(ctx context.Context, in Input) ([]Outcome, error) {
	if in.Logger == nil {
		in.Logger = log.NoopLogger{}
	}
	if in.Out == nil {
		in.Out = io.Discard
	}
	if in.Timeout == 0 {
		in.Timeout = 15 * time.Minute
	}
	open, skipped, gone, warnings, err := Open(ctx, in)
	var errs []error
	if err != nil {
		errs = append(errs, fmt.Errorf("read the journals: %w", err))
	}
	for _, w := range warnings {
		fmt.Fprintf(in.Out, "warning: %s\n", w)
	}
	for _, o := range skipped {
		fmt.Fprintf(in.Out, "journal %s (%s, %s): left alone: %s\n", o.Journal.ID, o.Journal.Drill, o.From, o.Skipped)
	}
	for _, o := range gone {
		j := in.Store.Resume(o.Journal)
		if err := j.Close(ctx, "cluster gone: "+o.Skipped, o.Journal.ReportDir); err != nil {
			errs = append(errs, fmt.Errorf("journal %s: close: %w", o.Journal.ID, err))
		}
		fmt.Fprintf(in.Out, "journal %s (%s): closed without a revert: %s\n", o.Journal.ID, o.Journal.Drill, o.Skipped)
	}
	skipped = append(skipped, gone...)
	var out []Outcome
	for _, o := range open {
		e := o.Journal
		fmt.Fprintf(in.Out, "journal %s: drill %s, fault %s on %s, stopped at %q (%s journal, opened %s by pid %d on %s): reverting\n",
			e.ID, e.Drill, e.Fault, e.Target, e.Step, o.From, e.Opened.Format(time.RFC3339), e.PID, e.Host)
		start := time.Now()
		o.Err = recoverOne(ctx, in, e)
		o.Took = time.Since(start)
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("journal %s (drill %s, fault %s): %w", e.ID, e.Drill, e.Fault, o.Err))
			fmt.Fprintf(in.Out, "journal %s: NOT recovered after %s: %v\n", e.ID, o.Took.Round(time.Millisecond), o.Err)
		} else {
			o.Recovered = true
			fmt.Fprintf(in.Out, "journal %s: %s reverted in %s; journal closed\n", e.ID, e.Fault, o.Took.Round(time.Millisecond))
		}
		out = append(out, o)
	}
	return append(out, skipped...), errors.Join(errs...)
}

// journalSteps records the recovering fault's own steps in the journal it
// resumed, with its state.
type journalSteps struct {
	j *journal.Journal
	f faults.Journaled
}

func (s *journalSteps) Step(ctx context.Context, name string) error {
	if s.j == nil || s.f == nil {
		return nil
	}
	return s.j.Step(ctx, name, s.f.JournalState())
}

// recoverOne reverts the fault of one journal and closes it.
func recoverOne(ctx context.Context, in Input, e journal.Entry) error {
	sc, err := scenarios.Parse(e.File, []byte(e.Scenario))
	if err != nil {
		return fmt.Errorf("read the drill it recorded: %w", err)
	}
	env := faults.Env{
		Provider: in.Provider, Clientset: in.Clientset, RESTConfig: in.RESTConfig, Etcd: in.Etcd, Logger: in.Logger,
		Namespace: e.Env.Namespace, Deployment: e.Env.Deployment, DrillNamespace: e.Env.DrillNamespace,
		ArtifactDir: e.Env.ArtifactDir, Timeout: in.Timeout,
	}
	steps := &journalSteps{}
	env.Journal = steps
	f, err := faults.New(env, sc)
	if err != nil {
		return err
	}
	r, ok := f.(faults.Journaled)
	if !ok {
		return fmt.Errorf("fault %s cannot be reverted from a journal", e.Fault)
	}
	if err := r.RestoreJournal(e.State); err != nil {
		return fmt.Errorf("restore the fault's state at %q: %w", e.Step, err)
	}
	j := in.Store.Resume(e)
	steps.j, steps.f = j, r
	rctx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	started := time.Now()
	if err := j.Step(rctx, "recovering", nil); err != nil {
		j.Abandon()
		return err
	}
	if err := f.Revert(rctx); err != nil {
		_ = j.Step(rctx, "recovery failed: "+err.Error(), nil)
		j.Abandon()
		return fmt.Errorf("revert: %w", err)
	}
	reverted := time.Now()
	var errs []error
	if err := writeReport(e, started, reverted); err != nil {
		errs = append(errs, err)
	}
	if err := j.Close(context.WithoutCancel(ctx), "recovered by drill recover", e.ReportDir); err != nil {
		errs = append(errs, fmt.Errorf("close the journal: %w", err))
	}
	return errors.Join(errs...)
}

// writeReport writes the interrupted drill's report: the one it wrote as
// it went when there is one, with verdict error and where the harness
// stopped.
func writeReport(e journal.Entry, revertStarted, reverted time.Time) error {
	if e.ReportDir == "" {
		return nil
	}
	d, err := reports.ReadDrill(e.ReportDir, e.Drill)
	if err != nil {
		d = reports.Drill{Name: e.Drill, File: e.File, Started: e.Opened, Fault: reports.Fault{Type: e.Fault, Target: e.Target}}
	}
	d.Verdict = reports.Error
	d.Failures = append(d.Failures, fmt.Sprintf("harness stopped at %s; the fault was reverted by drill recover", e.Step))
	d.Journal = e.ID
	d.Fault.RevertStarted, d.Fault.Reverted, d.Fault.RevertError = revertStarted, reverted, ""
	if d.Finished.IsZero() || d.Finished.Before(reverted) {
		d.Finished = reverted
	}
	if _, err := reports.WriteDrill(e.ReportDir, d); err != nil {
		return fmt.Errorf("write the interrupted drill's report: %w", err)
	}
	return nil
}

// DefaultJournalDir is where the journals are kept on the harness's disk,
// relative to where drill runs.
const DefaultJournalDir = "_output/journal"

// Connect returns the Input for provider p's cluster with the journals of
// dir, and a function that releases what it opened.
func Connect(ctx context.Context, p cluster.Provider, dir string, logger log.Logger) (Input, func(), error) {
	cfg, err := cluster.RESTConfig(p.Kubeconfig())
	if err != nil {
		return Input{}, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return Input{}, nil, fmt.Errorf("client for cluster %s: %w", p.Name(), err)
	}
	in := Input{Provider: p, RESTConfig: cfg, Clientset: cs, Logger: logger,
		Store: &journal.Store{Dir: dir, Mirror: journal.ConfigMaps{Clientset: cs}, Logger: logger}}
	done := func() {}
	if access, ok := p.(cluster.EtcdAccess); ok {
		ecfg, err := access.EtcdConfig(ctx)
		if err != nil {
			return Input{}, nil, err
		}
		cli, err := clientv3.New(ecfg)
		if err != nil {
			return Input{}, nil, fmt.Errorf("etcd client: %w", err)
		}
		in.Etcd, done = cli, func() { _ = cli.Close() }
	}
	return in, done, nil
}
