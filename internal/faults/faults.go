// Package faults injects the faults drill knows, proves each took effect,
// and reverts it.
//
// Each fault's file declares its Spec at its top and registers it
// (Register): its type and parameters, the objectives it can measure, the
// samplers it needs, its spec label and suite, and its constructor.
// Registering also makes the type known to package scenarios, so a program
// that loads drill files imports this package.
//
// A Fault goes through Target (resolve what it acts on, before anything is
// broken, so that its revert can be registered first), Inject and Revert.
// Revert is idempotent and safe at any point: before Inject, after a
// half-done Inject, twice, and in another process. What else a fault does
// is an optional capability, found by type assertion: EffectChecker (the
// fact check: the fault really happened), Holder (keep it in place as the
// drill declares and let the cluster react), Measurer (its own figures from
// what the samplers recorded), Timeline (its own steps), DataLossBound (the
// backup it restored) and Journaled. Every fault is also a Planner: for a
// dry run it says what it would act on, change and revert, only reading the
// cluster (PlanOf).
//
// A Journaled fault records its progress as it goes: right after each change
// to the cluster that its revert must know about, and right before each
// irreversible one (deleting etcd's data or a namespace, moving a static
// pod's manifest), it calls Env.Journal's Step, which saves the fault's
// JournalState. Another process can then build the same fault, hand it the
// last saved state (RestoreJournal) and revert it.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/timing"
	"github.com/drill-sre/drill/reports"
)

// Fault is one fault of one drill: what every fault does. The optional
// capabilities below are found by type assertion.
type Fault interface {
	// Target resolves what the fault acts on and describes it.
	Target(ctx context.Context) (string, error)
	// Inject breaks it.
	Inject(ctx context.Context) error
	// Revert undoes the fault and waits until the cluster is whole again.
	// It is idempotent and safe before, after or half-way through Inject,
	// and in a new process after RestoreJournal.
	Revert(ctx context.Context) error
}

// EffectChecker is a fault that can prove it took effect.
type EffectChecker interface {
	// Effect waits until the fault has taken effect and returns what was
	// observed. An error means the fault did not happen.
	Effect(ctx context.Context) (facts []string, err error)
}

// Holder is a fault that is kept in place before it is reverted.
type Holder interface {
	// Hold keeps the fault in place as declared and returns when the revert
	// may start. An error means the cluster did not behave as the drill
	// requires (a drain that should have been blocked was not).
	Hold(ctx context.Context) error
}

// Measurer is a fault with figures of its own.
type Measurer interface {
	// Measure returns the fault's own figures from the drill's record.
	Measure(r Record) []reports.Measurement
}

// Timeline is a fault that records its own steps (backups taken, restore
// steps) for the drill's timeline.
type Timeline interface {
	Timeline() []monitor.Interval
}

// DataLossBound is a fault that loses data by design: a restore from a
// backup loses what was acknowledged after the backup was taken.
type DataLossBound interface {
	// DataLossBound returns the backup the restore used: when it was
	// taken, the schedule it came from, and a description. ok is false
	// when no backup was used.
	DataLossBound() (b Backup, ok bool)
}

// Backup is the backup a restore used.
type Backup struct {
	// Taken is when it was taken: every write acknowledged before it is in
	// it.
	Taken time.Time
	// Interval is the backup schedule's period.
	Interval time.Duration
	// What describes it (the file, its revision).
	What string
}

// Journaled faults can be reverted by another process from their journal.
type Journaled interface {
	// JournalState returns what Revert needs, as of now: a JSON-encodable
	// value that later changes to the fault do not alter. It is called
	// after Target and at every journal step.
	JournalState() any
	// RestoreJournal sets the fault up from the JSON of a JournalState of
	// an earlier process, so that Revert can run. The fault is made by New
	// from the same drill, and Target is not called.
	RestoreJournal(state json.RawMessage) error
}

// Journal records a fault's progress. Step saves the fault's JournalState
// under name, a description of the step ("cordoning node w1"), before it
// returns; an error means the progress could not be saved, and the fault
// stops what it was doing.
type Journal interface {
	Step(ctx context.Context, name string) error
}

// Record is what a drill recorded, for Measure.
type Record struct {
	Intervals     []monitor.Interval
	Injected      time.Time
	RevertStarted time.Time
	Reverted      time.Time
}

// Env is what faults act through.
type Env struct {
	Provider  cluster.Provider
	Clientset kubernetes.Interface
	// RESTConfig is the client configuration Clientset was made from; its
	// credentials reach each API server directly too.
	RESTConfig *rest.Config
	// Etcd reaches every etcd member; nil when the provider has no
	// cluster.EtcdAccess.
	Etcd *clientv3.Client
	// DrillNamespace is the namespace drill created for the drill, where a
	// fault may run pods of its own.
	DrillNamespace string
	// Namespace and Deployment are the workload the drill deployed, "" without
	// one.
	Namespace  string
	Deployment string
	Logger     log.Logger
	// ArtifactDir is where faults keep what they produce outside the
	// cluster (etcd snapshots); "" is the system's temporary directory.
	ArtifactDir string
	// Timeout bounds each wait a fault makes on its own (the effect, the
	// recovery before the revert) when its parameters do not.
	Timeout time.Duration
	// Journal records the fault's progress; nil keeps no journal.
	Journal Journal
	// DryRun builds the fault for a dry run (PlanOf): it may only Plan.
	// The drill's namespace and workload are not there: DrillNamespace,
	// Namespace and Deployment are "".
	DryRun bool

	// etcdView, when set, replaces reading etcd (tests).
	etcdView func(context.Context) (etcdView, error)
}

// step records a journal step (see Journal); without a journal it does
// nothing.
func (e Env) step(ctx context.Context, name string) error {
	if e.Journal == nil {
		return nil
	}
	if err := e.Journal.Step(ctx, name); err != nil {
		return fmt.Errorf("journal %q: %w", name, err)
	}
	return nil
}

// restoreJournal decodes a journal state into v, strictly: a state written
// by another version of drill, with fields this one does not know, is
// refused rather than half understood.
func restoreJournal(state json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(state))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("restore journal: %w", err)
	}
	return nil
}

// DefaultTimeout is Env.Timeout when unset.
const DefaultTimeout = 3 * time.Minute

// pollInterval is how often faults poll while waiting for a state.
const pollInterval = 250 * time.Millisecond

// waitFor polls cond until it holds or timeout passes. cond describes the
// state it saw; a timeout error quotes the last description.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string, error)) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		ok, desc, err := cond(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = desc
		return ok, nil
	})
	if err != nil {
		if last == "" {
			last = "nothing observed yet"
		}
		return fmt.Errorf("waiting %s for %s: %w (last seen: %s)", timeout, what, err, last)
	}
	return nil
}

// Hold waits d, or until ctx is done: a fault kept in place, a drill's
// baseline. It is a declared duration, not a wait for a state.
func Hold(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// declaredHold waits d, a duration the drill file declared (its field
// name), marked as a declared wait in the drill's time (package timing).
func declaredHold(ctx context.Context, name string, d time.Duration) error {
	defer timing.Start(ctx, name, timing.Declared)()
	return Hold(ctx, d)
}

// seconds is a Measurement of d in seconds.
func seconds(name string, d time.Duration, detail string) reports.Measurement {
	return reports.Measurement{Name: name, Value: d.Round(time.Millisecond).Seconds(), Unit: "s", Detail: detail}
}

// count is a Measurement of n things.
func count(name string, n int, detail string) reports.Measurement {
	return reports.Measurement{Name: name, Value: float64(n), Unit: "count", Detail: detail}
}

// lastErrorEnd returns the end of the last Error interval under locator that
// ends after t, or zero.
func lastErrorEnd(ivs []monitor.Interval, locator string, t time.Time) (end time.Time, open bool) {
	for _, i := range ivs {
		if i.Locator == locator && i.Level == monitor.Error && i.To.After(t) && i.To.After(end) {
			end, open = i.To, i.Open
		}
	}
	return end, open
}

// errorTime sums the Error intervals under locator after t.
func errorTime(ivs []monitor.Interval, locator string, t time.Time) time.Duration {
	var d time.Duration
	for _, i := range ivs {
		if i.Locator == locator && i.Level == monitor.Error && i.To.After(t) {
			from := i.From
			if from.Before(t) {
				from = t
			}
			d += i.To.Sub(from)
		}
	}
	return d
}

// takeover measures when a state (a leader, a lease holder) moved away from
// held after the injection.
func takeover(r Record, name, locator string) (reports.Measurement, bool) {
	changes := monitor.Changes(r.Intervals, locator)
	before, ok := monitor.ValueAt(changes, r.Injected)
	if !ok {
		return reports.Measurement{}, false
	}
	for _, c := range changes {
		if c.At.After(r.Injected) && c.Value != before && c.Value != "" {
			return seconds(name, c.At.Sub(r.Injected), fmt.Sprintf("%s → %s", before, c.Value)), true
		}
	}
	return reports.Measurement{Name: name, Unit: "s", Value: 0, Detail: "no change: " + before + " held it throughout"}, true
}

// stepLog records a fault's own steps for the drill's timeline (Timeline),
// each from its start to now, an Error when it failed, and logs each.
type stepLog struct {
	locator string
	logger  log.Logger

	mu    sync.Mutex
	steps []monitor.Interval
}

// record notes the step name that began at from and ended now with err.
func (l *stepLog) record(name string, from time.Time, err error) {
	level, msg := monitor.Info, name
	if err != nil {
		level, msg = monitor.Error, name+": "+err.Error()
	}
	l.mu.Lock()
	l.steps = append(l.steps, monitor.Interval{From: from, To: time.Now(), Locator: l.locator, Level: level, Message: msg})
	l.mu.Unlock()
	if l.logger != nil {
		l.logger.V(0).Infof("%s: %s (%s)", l.locator, msg, time.Since(from).Round(time.Millisecond))
	}
}

// list returns the steps so far.
func (l *stepLog) list() []monitor.Interval {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]monitor.Interval(nil), l.steps...)
}

// waitDeploymentAvailable waits until the drill's workload Deployment has
// rolled out and is available.
func waitDeploymentAvailable(ctx context.Context, env Env, timeout time.Duration) error {
	return waitFor(ctx, timeout, "deployment "+env.Namespace+"/"+env.Deployment+" to be available", func(ctx context.Context) (bool, string, error) {
		state, err := monitor.DeploymentRollout(env.Clientset, env.Namespace, env.Deployment)(ctx)
		if err != nil {
			return false, "", err
		}
		return state == monitor.RolloutComplete, state, nil
	})
}
