// Package drill runs one drill: it starts the samplers, resolves the
// fault's target, registers the revert, injects the fault, checks that it
// took effect, holds it, reverts it, keeps sampling while the cluster
// settles, and judges the declared objectives from what was recorded.
//
// Every figure comes from the recorded intervals and write log (packages
// monitor, rpo, objectives), never from when a wait returned. The revert
// runs on every path out of Run once injection began: pass, failure,
// timeout and cancellation (Ctrl-C) alike.
package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/alerts"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/hostload"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/safe"
	"github.com/drill-sre/drill/internal/timing"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// Env is the cluster a drill runs against.
type Env struct {
	Provider   cluster.Provider
	RESTConfig *rest.Config
	Clientset  kubernetes.Interface
	// Etcd reaches the etcd members; nil when the provider cannot.
	Etcd *clientv3.Client
	// App is the workload deployed for the drill; nil without one.
	App *App
	// RecordsNamespace is where the RPO writer writes its records; it must
	// exist. The records are left there: its owner deletes it with them
	// (the framework deletes each drill's own namespace), which spares a
	// drill of thousands of writes a DeleteCollection of tens of seconds
	// before its judging.
	RecordsNamespace string
	// ArtifactDir is where faults keep what they produce outside the
	// cluster, such as etcd snapshots.
	ArtifactDir string
	// Alerts is the Prometheus the drill reads alerts from; nil when there
	// is none, and a drill that declares alerts objectives then errs.
	Alerts *alerts.Source
	Logger log.Logger
}

// App is a deployed workload, as the samplers observe it.
type App struct {
	Namespace  string
	Deployment string
	// Selector selects its pods.
	Selector string
	// PDB is its PodDisruptionBudget's name, "" without one.
	PDB string
	// DesiredHealthy is the fewest Ready pods its PDB allows.
	DesiredHealthy int
	// URL is what a client outside the cluster GETs.
	URL string
	// RecordsURL is the app's base URL outside the cluster, where a
	// persistent app takes the RPO writer's records ("" for others).
	RecordsURL string
}

// Options tune a run.
type Options struct {
	// Baseline is how long the samplers run before injection. Default 5s.
	Baseline time.Duration
	// Settle is how long they keep running after the revert. Default 5s.
	Settle time.Duration
	// RevertTimeout bounds the revert. Default 10m.
	RevertTimeout time.Duration
	// Register, when set, is given the revert before injection, for the
	// caller to run on its own exit paths (Ginkgo's DeferCleanup). Run also
	// calls it; it runs once, and a second call waits for the first.
	Register func(revert func(context.Context) error)
	// Injected, when set, is called right after the injection returned.
	Injected func()

	// NewFault and Samplers, when set, replace the constructor of the
	// fault the drill file declares (faults.New) and the samplers built
	// for it: tests give fakes.
	NewFault func(faults.Env, *scenarios.Scenario) (faults.Fault, error)
	Samplers Samplers
	// Preflight, when set, checks the cluster before anything else: a
	// drill on a cluster that is not whole ends with verdict error and
	// nothing injected.
	Preflight func(ctx context.Context) ([]reports.Check, error)
	// Journal, when set, journals the fault: opened with what the revert
	// needs before injection, a step at every change, closed by the
	// revert. Without it nothing survives the harness.
	Journal *journal.Store
	// JournalEntry is what the caller knows for the journal: the cluster,
	// the drill file, the report directory, the drill's namespaces.
	JournalEntry journal.Entry
	// HostPressureDir is where the host's pressure stall information is
	// read (default hostload.DefaultDir); tests give their own.
	HostPressureDir string
	// Checkpoint, when set, is given the drill's report as it stands
	// after the injection and after the revert, so that a harness that dies
	// leaves evidence behind.
	Checkpoint func(reports.Drill)
}

func (o *Options) defaults() {
	if o.Baseline == 0 {
		o.Baseline = 5 * time.Second
	}
	if o.Settle == 0 {
		o.Settle = 5 * time.Second
	}
	if o.RevertTimeout == 0 {
		o.RevertTimeout = 10 * time.Minute
	}
}

// Run runs the drill sc and returns what it measured. It fails only through
// the returned Drill's Verdict and Failures.
//
// Once the target is resolved, the revert is journalled and registered
// before the injection, and it runs exactly once on every way out: a pass,
// a failure, a timeout, a cancellation, or a panic in one of the drill's
// own goroutines (samplers, writer, the fault's background work), which
// stops the drill with verdict error.
func Run(ctx context.Context, env Env, sc *scenarios.Scenario, opts Options) reports.Drill {
	opts.defaults()
	if env.Logger == nil {
		env.Logger = log.NoopLogger{}
	}
	env.Logger = stampLogger{env.Logger}
	r := &run{env: env, sc: sc, opts: opts, d: reports.Drill{
		Name: sc.Name, Description: sc.Description, File: sc.File,
		SamplingInterval: sc.Sampling.Interval,
		Fault:            reports.Fault{Type: string(sc.Fault.Type)},
	}}
	// Every phase is recorded (package timing), into the caller's
	// recorder when the context carries one.
	rec := timing.FromContext(ctx)
	if rec == nil {
		rec = timing.NewRecorder()
		ctx = timing.WithRecorder(ctx, rec)
	}
	r.rec = rec
	end := rec.Start("drill", timing.Harness)
	r.run(ctx)
	end()
	r.d.Phases = rec.Phases()
	return r.d
}

type run struct {
	env  Env
	sc   *scenarios.Scenario
	opts Options
	d    reports.Drill

	fault   faults.Fault
	s       Samplers
	host    *hostload.Sampler
	rec     *timing.Recorder
	journal *journal.Journal
	// targeted says the fault's Target was called: its revert must run.
	targeted bool

	revertOnce sync.Once
	revertDone chan struct{}
	revertErr  error

	// mu guards d's fields that the revert, which a caller may run from
	// another goroutine (DeferCleanup), writes.
	mu sync.Mutex
}

func (r *run) logf(format string, args ...any) {
	r.env.Logger.V(0).Infof("drill %s: "+format, append([]any{r.sc.Name}, args...)...)
}

// fail notes why the drill did not pass.
func (r *run) fail(verdict reports.Verdict, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.d.Failures = append(r.d.Failures, msg)
	if r.d.Verdict != reports.Error {
		r.d.Verdict = verdict
	}
	r.mu.Unlock()
	r.logf("%s", msg)
}

// snapshot returns the report as it stands.
func (r *run) snapshot() reports.Drill {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.d
	d.Failures = slices.Clone(d.Failures)
	return d
}

// checkpoint hands the report as it stands to the caller.
func (r *run) checkpoint() {
	if r.opts.Checkpoint == nil {
		return
	}
	d := r.snapshot()
	if r.s != nil {
		d.Intervals = r.s.Recorder().Intervals()
	}
	// Not judged yet: if the harness dies before the end, this is what
	// stays, and it must not read as a pass.
	d.Verdict = reports.Error
	d.Failures = append(d.Failures, "in progress: the drill had not finished when this report was written")
	r.opts.Checkpoint(d)
}

// step journals a step of the drill with the fault's state as of now.
func (r *run) step(ctx context.Context, name string) error {
	if r.journal == nil {
		return nil
	}
	return r.journal.Step(context.WithoutCancel(ctx), name, r.faultState())
}

// Step implements faults.Journal: the fault's own steps.
func (r *run) Step(ctx context.Context, name string) error { return r.step(ctx, name) }

func (r *run) faultState() any {
	if j, ok := r.fault.(faults.Journaled); ok {
		return j.JournalState()
	}
	return nil
}

func (r *run) run(ctx context.Context) {
	r.d.Verdict = reports.Pass
	var err error
	if r.opts.Preflight != nil {
		// Mostly waiting for the cluster to be whole again after the
		// drill before.
		end := timing.Start(ctx, "preflight", timing.Recovery)
		checks, err := r.opts.Preflight(ctx)
		end()
		r.d.Preflight = checks
		if err != nil {
			r.fail(reports.Error, "preflight: the cluster is not whole, nothing was injected: %v", err)
			return
		}
	}
	newFault := r.opts.NewFault
	if newFault == nil {
		newFault = faults.New
	}
	if r.fault, err = newFault(r.faultEnv(), r.sc); err != nil {
		r.fail(reports.Error, "%v", err)
		return
	}
	endSetup := timing.Start(ctx, "samplers", timing.Harness)
	if r.s = r.opts.Samplers; r.s == nil {
		runID := fmt.Sprintf("%s-%d", r.sc.Name, time.Now().Unix())
		if r.s, err = newSamplers(ctx, r.env, r.sc, runID); err != nil {
			endSetup()
			r.fail(reports.Error, "set up the samplers: %v", err)
			return
		}
	}
	// A panic in one of the drill's goroutines stops the drill; finish
	// reverts.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx = safe.WithHandler(ctx, func(p *safe.Panic) {
		r.logf("%v\n%s", p, p.Stack)
		cancel(p)
	})
	r.d.Started = time.Now()
	r.s.Start(ctx)
	r.host = hostload.Start(ctx, r.opts.HostPressureDir, hostSampling)
	endSetup()
	defer r.finish(ctx)

	r.logf("sampling for %s before injection", r.opts.Baseline)
	if err := r.phase(ctx, "baseline", timing.Declared, func(ctx context.Context) error {
		return faults.Hold(ctx, r.opts.Baseline)
	}); err != nil {
		r.fail(reports.Error, "interrupted before injection: %v", context.Cause(ctx))
		return
	}
	if err := r.phase(ctx, "alert rules", timing.Harness, r.checkAlertRules); err != nil {
		r.fail(reports.Error, "%v", err)
		return
	}
	// From here on the fault may change the cluster (velero-restore
	// installs, schedules and backs up while resolving its target): the
	// journal is open and the revert registered first, and the revert
	// runs even when nothing is injected.
	if err := r.openJournal(ctx); err != nil {
		r.fail(reports.Error, "%v: nothing was done", err)
		return
	}
	if r.opts.Register != nil {
		r.opts.Register(r.revert)
	}
	r.targeted = true
	endTarget := timing.Start(ctx, "target", timing.Harness)
	r.d.Fault.Target, err = r.fault.Target(ctx)
	endTarget()
	if err != nil {
		r.fail(reports.Error, "resolve the fault's target: %v", err)
		return
	}
	if r.journal != nil {
		r.journal.SetTarget(r.d.Fault.Target)
	}
	if err := r.step(ctx, "target resolved"); err != nil {
		r.fail(reports.Error, "%v: nothing was injected", err)
		return
	}

	r.logf("injecting %s on %s", r.sc.Fault.Type, r.d.Fault.Target)
	if err := r.step(ctx, "injecting"); err != nil {
		r.fail(reports.Error, "%v: nothing was injected", err)
		return
	}
	r.mu.Lock()
	r.d.Fault.Injected = time.Now()
	r.mu.Unlock()
	err = r.phase(ctx, "inject", timing.Harness, r.fault.Inject)
	r.checkpoint()
	if err != nil {
		r.fail(reports.Error, "inject %s: %v", r.sc.Fault.Type, err)
		return
	}
	if err := r.step(ctx, "injected"); err != nil {
		r.fail(reports.Error, "%v", err)
		return
	}
	if r.opts.Injected != nil {
		r.opts.Injected()
	}
	if ec, ok := r.fault.(faults.EffectChecker); ok {
		endCheck := timing.Start(ctx, "fact check", timing.Harness)
		facts, err := ec.Effect(ctx)
		endCheck()
		r.d.Fault.Facts = facts
		if err != nil && ctx.Err() != nil {
			return // finish reports the interruption
		}
		if err != nil {
			r.fail(reports.Fail, "the fault did not take effect: %v", err)
			return
		}
	}
	r.d.Fault.Effective = time.Now()
	r.logf("fault in effect: %s", strings.Join(r.d.Fault.Facts, "; "))
	if err := r.step(ctx, "in effect"); err != nil {
		r.fail(reports.Error, "%v", err)
		return
	}
	if h, ok := r.fault.(faults.Holder); ok {
		// A fault's hold waits for the cluster to take the fault (the
		// survivors to take over, the drain to end); a declared holdFor
		// inside it is marked as such by the fault.
		if err := r.phase(ctx, "hold", timing.Recovery, h.Hold); err != nil && ctx.Err() == nil {
			r.fail(reports.Fail, "%v", err)
			return
		}
	}
	_ = r.phase(ctx, "alerts firing", timing.Declared, func(ctx context.Context) error {
		r.awaitFiring(ctx)
		return nil
	})
}

// hostSampling is how often the host's pressure is read: its avg10 figures
// move over 10 s.
const hostSampling = 2 * time.Second

// phase runs f as a phase of the drill's time (package timing).
func (r *run) phase(ctx context.Context, name string, b timing.Bucket, f func(context.Context) error) error {
	defer timing.Start(ctx, name, b)()
	return f(ctx)
}

// faultEnv is what the drill's fault acts through.
func (r *run) faultEnv() faults.Env {
	fenv := faults.Env{
		Provider: r.env.Provider, Clientset: r.env.Clientset, RESTConfig: r.env.RESTConfig,
		Etcd: r.env.Etcd, Logger: r.env.Logger, Timeout: r.holdTimeout(), ArtifactDir: r.env.ArtifactDir,
		DrillNamespace: r.env.RecordsNamespace, Journal: r,
	}
	if r.env.App != nil {
		fenv.Namespace, fenv.Deployment = r.env.App.Namespace, r.env.App.Deployment
	}
	return fenv
}

// openJournal opens the fault's journal before the fault does anything; its
// steps then record what the revert needs.
func (r *run) openJournal(ctx context.Context) error {
	if r.opts.Journal == nil {
		return nil
	}
	e := r.opts.JournalEntry
	e.ID = journal.NewID(r.sc.Name, time.Now())
	e.Drill, e.Fault, e.Target, e.File = r.sc.Name, string(r.sc.Fault.Type), r.d.Fault.Target, r.sc.File
	fe := r.faultEnv()
	e.Env = journal.Env{Namespace: fe.Namespace, Deployment: fe.Deployment, DrillNamespace: fe.DrillNamespace, ArtifactDir: fe.ArtifactDir}
	j, err := r.opts.Journal.Open(context.WithoutCancel(ctx), e, "resolving the target", r.faultState())
	if err != nil {
		return fmt.Errorf("open the fault's journal: %w", err)
	}
	r.journal = j
	r.d.Journal = e.ID
	r.logf("journal %s opened in %s", e.ID, r.opts.Journal.Dir)
	return nil
}

// holdTimeout bounds the fault's own waits: the drill's maxDuration, or
// faults.DefaultTimeout.
func (r *run) holdTimeout() time.Duration {
	if r.sc.Objectives.MaxDuration > 0 {
		return r.sc.Objectives.MaxDuration
	}
	return faults.DefaultTimeout
}

// revert runs the fault's revert once, whoever asks first, under its own
// timeout and a context that the caller's cancellation does not cut short.
// It closes the journal when the fault is reverted, and leaves it open,
// with why, when it is not.
func (r *run) revert(ctx context.Context) error {
	r.revertOnce.Do(func() {
		r.revertDone = make(chan struct{})
		defer close(r.revertDone)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.RevertTimeout)
		defer cancel()
		// The revert may run from the caller's cleanup, whose context
		// carries no recorder.
		defer r.rec.Start("revert", timing.Recovery)()
		r.mu.Lock()
		r.d.Fault.RevertStarted = time.Now()
		r.mu.Unlock()
		r.logf("reverting %s", r.sc.Fault.Type)
		err := r.step(ctx, "reverting")
		if err == nil {
			err = r.fault.Revert(ctx)
		}
		r.mu.Lock()
		if err != nil {
			r.revertErr = err
			r.d.Fault.RevertError = err.Error()
		} else {
			r.d.Fault.Reverted = time.Now()
		}
		r.mu.Unlock()
		if err != nil {
			if r.journal != nil {
				_ = r.journal.Step(ctx, "revert failed: "+err.Error(), r.faultState())
				r.journal.Abandon()
				r.logf("revert failed; journal %s left open: run drill recover", r.journal.Entry().ID)
			}
			return
		}
		r.logf("reverted in %s", r.d.Fault.Reverted.Sub(r.d.Fault.RevertStarted).Round(time.Millisecond))
		if r.journal != nil {
			outcome := "reverted"
			if r.d.Fault.Injected.IsZero() {
				outcome = "not injected"
			}
			if err := r.journal.Close(ctx, outcome, r.opts.JournalEntry.ReportDir); err != nil {
				r.logf("close journal: %v", err)
			}
		}
	})
	<-r.revertDone
	return r.revertErr
}

// finish reverts, lets the cluster settle under the samplers, stops them,
// reads the write log back and judges.
func (r *run) finish(ctx context.Context) {
	injected := !r.d.Fault.Injected.IsZero()
	switch {
	case injected:
		if err := r.revert(ctx); err != nil {
			r.fail(reports.Fail, "revert: %v", err)
		}
		r.checkpoint()
	case r.targeted:
		// Nothing was injected, but resolving the target may have set
		// things up: the revert removes them, and closes the journal.
		if err := r.revert(ctx); err != nil {
			r.fail(reports.Error, "revert: %v", err)
		}
		r.mu.Lock()
		r.d.Fault.RevertStarted, r.d.Fault.Reverted = time.Time{}, time.Time{}
		r.mu.Unlock()
	}
	if ctx.Err() == nil {
		_ = r.phase(ctx, "settle", timing.Declared, func(ctx context.Context) error {
			return faults.Hold(ctx, r.opts.Settle)
		})
		_ = r.phase(ctx, "alerts resolved", timing.Declared, func(ctx context.Context) error {
			r.awaitResolved(ctx)
			return nil
		})
	}
	defer timing.Start(ctx, "read-back and judging", timing.Harness)()
	r.d.Samplers = r.s.Stop()
	host := r.host.Stop()
	r.d.Host = &host
	if why := host.Starved(); why != "" {
		r.d.Findings = append(r.d.Findings, "measured on a starved host, so its figures may show the machine more than the cluster: "+why)
	}
	r.d.Finished = time.Now()
	if ctx.Err() != nil {
		var p *safe.Panic
		if cause := context.Cause(ctx); errors.As(cause, &p) {
			r.fail(reports.Error, "%v", p)
		} else {
			r.fail(reports.Error, "interrupted: %v", cause)
		}
	}
	rec := r.s.Recorder()
	if injected {
		end := r.d.Fault.Reverted
		if end.IsZero() {
			end = r.d.Finished
		}
		rec.Record(monitor.Interval{From: r.d.Fault.Injected, To: end, Locator: monitor.LocatorFault(string(r.sc.Fault.Type)),
			Level: monitor.Info, Message: r.d.Fault.Target, Open: r.d.Fault.Reverted.IsZero()})
	}
	if tl, ok := r.fault.(faults.Timeline); ok {
		r.d.Fault.Steps = tl.Timeline()
	}
	r.d.Intervals = rec.Intervals()
	if !injected {
		r.judgeAlerts(context.WithoutCancel(ctx), false)
		return
	}
	loss, lossErr := r.readBack(context.WithoutCancel(ctx))
	if ctx.Err() == nil {
		// An interrupted drill stopped sampling early: its objectives
		// cannot be judged.
		r.d.Objectives = judge(r.sc, r.d, r.env.App, loss, lossErr)
	}
	r.judgeAlerts(context.WithoutCancel(ctx), ctx.Err() == nil)
	r.d.Measurements = append(r.d.Measurements, r.measure(loss)...)
	if m, ok := r.fault.(faults.Measurer); ok {
		r.d.Measurements = append(r.d.Measurements, m.Measure(faults.Record{
			Intervals: r.d.Intervals, Injected: r.d.Fault.Injected,
			RevertStarted: r.d.Fault.RevertStarted, Reverted: r.d.Fault.Reverted,
		})...)
	}
	for _, o := range r.d.Objectives {
		if o.Verdict != reports.Pass {
			r.fail(o.Verdict, "objective %s: measured %s, bound %s: %s", o.Name, o.Measured, o.Bound, o.Detail)
		}
	}
}

var errNoWriter = errors.New("no writer ran: the drill's fault does not write to the cluster")
