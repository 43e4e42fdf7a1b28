package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/rpo"
	"github.com/drill-sre/drill/internal/safe"
	"github.com/drill-sre/drill/internal/timing"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// fakeFault records what the engine asks of it, and checks at injection
// that the revert was registered and journalled first.
type fakeFault struct {
	t     *testing.T
	store *journal.Store
	env   faults.Env

	targetErr error
	effectErr error
	hold      func(ctx context.Context) error
	revertErr error

	mu              sync.Mutex
	calls           []string
	reverts         int
	registered      *bool
	journalAtInject journal.Entry
	// pressureDir is where the host's pressure is read; "" the host's own.
	pressureDir string
}

func (f *fakeFault) call(name string) {
	f.mu.Lock()
	f.calls = append(f.calls, name)
	f.mu.Unlock()
}

func (f *fakeFault) Target(context.Context) (string, error) {
	f.call("target")
	if f.targetErr != nil {
		return "", f.targetErr
	}
	return "node fake-1", nil
}

func (f *fakeFault) Inject(context.Context) error {
	f.call("inject")
	if !*f.registered {
		f.t.Error("Inject ran before the revert was registered")
	}
	open, err := f.store.List()
	if err != nil || len(open) != 1 {
		f.t.Errorf("at injection, open journals = %v (%v), want 1", open, err)
	} else {
		f.journalAtInject = open[0]
	}
	// The fault's own step, through the Env the engine gave it.
	return f.env.Journal.Step(context.Background(), "node fake-1 killed")
}

func (f *fakeFault) Effect(context.Context) ([]string, error) {
	f.call("effect")
	if f.effectErr != nil {
		return nil, f.effectErr
	}
	return []string{"node fake-1 stopped"}, nil
}

func (f *fakeFault) Hold(ctx context.Context) error {
	f.call("hold")
	if f.hold != nil {
		return f.hold(ctx)
	}
	return nil
}

func (f *fakeFault) Revert(context.Context) error {
	f.call("revert")
	f.mu.Lock()
	f.reverts++
	f.mu.Unlock()
	return f.revertErr
}

func (f *fakeFault) JournalState() any { return map[string]string{"node": "fake-1", "ip": "10.0.0.1"} }

func (f *fakeFault) RestoreJournal(json.RawMessage) error { return nil }

// fakeSamplers record one interval per tick, and may panic in their
// goroutine, as a sampler's bug would.
type fakeSamplers struct {
	rec     *monitor.Recorder
	panicAt time.Duration
	cancel  context.CancelFunc
	stopped int
	mu      sync.Mutex
}

func newFakeSamplers() *fakeSamplers { return &fakeSamplers{rec: monitor.NewRecorder()} }

func (s *fakeSamplers) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	started := time.Now()
	safe.Go(ctx, "fake sampler", func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if s.panicAt > 0 && now.Sub(started) >= s.panicAt {
					panic("sampler bug")
				}
				s.rec.Record(monitor.Interval{From: now.Add(-time.Second), To: now, Locator: monitor.LocatorAPINew, Level: monitor.Info})
			}
		}
	})
}

func (s *fakeSamplers) Stop() []monitor.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped++
	if s.cancel != nil {
		s.cancel()
	}
	return nil
}

func (s *fakeSamplers) Recorder() *monitor.Recorder { return s.rec }
func (s *fakeSamplers) Writes() WriteLog            { return nil }
func (s *fakeSamplers) ReadBack(context.Context) ([]int64, *rpo.Integrity, error) {
	return nil, nil, errNoWriter
}

func fakeScenario() *scenarios.Scenario {
	return &scenarios.Scenario{
		Name: "fake-drill", Description: "a fake fault",
		Fault:      scenarios.Fault{Type: scenarios.FaultKillControlPlane},
		Sampling:   scenarios.Sampling{Interval: time.Second},
		Objectives: scenarios.Objectives{MaxDuration: 10 * time.Minute},
	}
}

type engineRun struct {
	d        reports.Drill
	fault    *fakeFault
	samplers *fakeSamplers
	store    *journal.Store
	keepDir  string
	// callerReverted is what the caller's own registered revert returned,
	// run after Run as DeferCleanup would.
	callerReverted error
	// checkpoints are the reports written as the drill went.
	checkpoints []reports.Drill
}

// runEngine runs the engine on a fake fault and fake samplers inside a
// synctest bubble: its clock is fake, so an hour of drill takes no time.
func runEngine(t *testing.T, ctx context.Context, setup func(*fakeFault, *fakeSamplers)) engineRun {
	t.Helper()
	dir := t.TempDir()
	store := &journal.Store{Dir: filepath.Join(dir, "journal")}
	registered := false
	f := &fakeFault{t: t, store: store, registered: &registered}
	s := newFakeSamplers()
	if setup != nil {
		setup(f, s)
	}
	var callerRevert func(context.Context) error
	keep := filepath.Join(dir, "run")
	var checkpoints []reports.Drill
	d := Run(ctx, Env{}, fakeScenario(), Options{
		NewFault: func(env faults.Env, _ *scenarios.Scenario) (faults.Fault, error) { f.env = env; return f, nil },
		Samplers: s, Journal: store, JournalEntry: journal.Entry{ReportDir: keep},
		Register:        func(revert func(context.Context) error) { registered = true; callerRevert = revert },
		Checkpoint:      func(d reports.Drill) { checkpoints = append(checkpoints, d) },
		HostPressureDir: f.pressureDir,
	})
	out := engineRun{d: d, fault: f, samplers: s, store: store, keepDir: keep, checkpoints: checkpoints}
	if callerRevert != nil {
		out.callerReverted = callerRevert(context.Background())
	}
	return out
}

// checkRevertedOnce asserts the promise every way out keeps: the revert
// was registered and journalled before the injection, ran exactly once,
// and the journal is closed (kept beside the run) with its steps.
func checkRevertedOnce(t *testing.T, r engineRun) {
	t.Helper()
	if r.fault.reverts != 1 {
		t.Errorf("revert ran %d times, want exactly once (calls %v)", r.fault.reverts, r.fault.calls)
	}
	e := r.fault.journalAtInject
	var state bytes.Buffer
	_ = json.Compact(&state, e.State)
	if e.Step != "injecting" || state.String() != `{"ip":"10.0.0.1","node":"fake-1"}` || e.Target != "node fake-1" {
		t.Errorf("journal at injection = step %q, state %s, target %q", e.Step, state.String(), e.Target)
	}
	if open, err := r.store.List(); err != nil || len(open) != 0 {
		t.Errorf("open journals after the drill: %v (%v)", open, err)
	}
	kept, err := journal.ReadFile(filepath.Join(r.keepDir, "journal", r.d.Journal+".json"))
	if err != nil {
		t.Fatalf("the closed journal was not kept: %v", err)
	}
	var steps []string
	for _, s := range kept.Steps {
		steps = append(steps, s.Name)
	}
	if kept.IsOpen() || kept.Outcome != "reverted" || !strings.Contains(strings.Join(steps, ","), "resolving the target,target resolved,injecting,node fake-1 killed,injected") ||
		!strings.HasSuffix(strings.Join(steps, ","), "reverting,closed: reverted") {
		t.Errorf("kept journal: outcome %q, steps %v", kept.Outcome, steps)
	}
	if r.callerReverted != nil {
		t.Errorf("the caller's revert returned %v", r.callerReverted)
	}
	if r.samplers.stopped == 0 {
		t.Error("the samplers were never stopped")
	}
}

func TestEngineRevertsOnceOnEveryWayOut(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		setup   func(*fakeFault, *fakeSamplers)
		verdict reports.Verdict
		failure string
	}{
		{name: "pass", verdict: reports.Pass},
		{name: "fail: the fault did not take effect", verdict: reports.Fail, failure: "did not take effect: no container exited",
			setup: func(f *fakeFault, _ *fakeSamplers) { f.effectErr = errors.New("no container exited") }},
		{name: "fail: the hold found the cluster misbehaving", verdict: reports.Fail, failure: "drain was not blocked",
			setup: func(f *fakeFault, _ *fakeSamplers) {
				f.hold = func(context.Context) error { return errors.New("drain was not blocked") }
			}},
		{name: "timeout", verdict: reports.Error, failure: "interrupted: context deadline exceeded",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, time.Minute)
			},
			setup: func(f *fakeFault, _ *fakeSamplers) {
				f.hold = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
			}},
		{name: "cancel (Ctrl-C)", verdict: reports.Error, failure: "interrupted: context canceled",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(30*time.Second, cancel)
				return ctx, cancel
			},
			setup: func(f *fakeFault, _ *fakeSamplers) {
				f.hold = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
			}},
		{name: "panic in a sampler goroutine", verdict: reports.Error, failure: "panic in fake sampler: sampler bug",
			setup: func(f *fakeFault, s *fakeSamplers) {
				s.panicAt = 20 * time.Second
				f.hold = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if tt.ctx != nil {
					ctx, cancel = tt.ctx(ctx)
				}
				defer cancel()
				r := runEngine(t, ctx, tt.setup)
				if r.d.Verdict != tt.verdict {
					t.Errorf("verdict %s, want %s (failures %q)", r.d.Verdict, tt.verdict, r.d.Failures)
				}
				if tt.failure != "" && !strings.Contains(strings.Join(r.d.Failures, "\n"), tt.failure) {
					t.Errorf("failures %q, want one containing %q", r.d.Failures, tt.failure)
				}
				checkRevertedOnce(t, r)
				if r.d.Fault.Reverted.IsZero() || r.d.Fault.RevertError != "" {
					t.Errorf("revert not recorded: %+v", r.d.Fault)
				}
				if !r.d.Fault.RevertStarted.After(r.d.Fault.Injected) && !r.d.Fault.RevertStarted.Equal(r.d.Fault.Injected) {
					t.Errorf("revert started %v before the injection %v", r.d.Fault.RevertStarted, r.d.Fault.Injected)
				}
			})
		})
	}
}

func TestEngineBaselineAndSettleAreSampled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runEngine(t, context.Background(), nil)
		// Written as it went, after the injection and after the revert,
		// never as a pass before it was judged.
		if len(r.checkpoints) != 2 || r.checkpoints[1].Fault.Reverted.IsZero() {
			t.Errorf("%d checkpoints, want 2 (after injection, after revert)", len(r.checkpoints))
		}
		for _, c := range r.checkpoints {
			if c.Verdict != reports.Error || !strings.Contains(strings.Join(c.Failures, ""), "in progress") {
				t.Errorf("checkpoint verdict %s, failures %q", c.Verdict, c.Failures)
			}
		}
		if r.d.Verdict != reports.Pass {
			t.Errorf("final verdict %s: %q", r.d.Verdict, r.d.Failures)
		}
		if got := r.d.Fault.Injected.Sub(r.d.Started); got != 5*time.Second {
			t.Errorf("baseline %s, want 5s", got)
		}
		if got := r.d.Finished.Sub(r.d.Fault.Reverted); got != 5*time.Second {
			t.Errorf("settle %s, want 5s", got)
		}
		// One sample a second from start to finish, plus the fault's own
		// interval.
		if n := len(r.d.Intervals); n < 10 {
			t.Errorf("%d intervals recorded, want the samplers' ticks for the whole drill", n)
		}
	})
}

func TestEngineFailedRevertLeavesTheJournalOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runEngine(t, context.Background(), func(f *fakeFault, _ *fakeSamplers) {
			f.revertErr = errors.New("node did not rejoin")
		})
		if r.d.Verdict == reports.Pass || r.d.Fault.RevertError != "node did not rejoin" || !r.d.Fault.Reverted.IsZero() {
			t.Errorf("verdict %s, fault %+v", r.d.Verdict, r.d.Fault)
		}
		if r.fault.reverts != 1 {
			t.Errorf("revert ran %d times, want once", r.fault.reverts)
		}
		open, err := r.store.List()
		if err != nil || len(open) != 1 {
			t.Fatalf("open journals = %v (%v), want the fault's, left for drill recover", open, err)
		}
		if open[0].Step != "revert failed: node did not rejoin" {
			t.Errorf("journal step %q", open[0].Step)
		}
	})
}

func TestEnginePreflightRefusalInjectsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &journal.Store{Dir: t.TempDir()}
		registered := false
		f := &fakeFault{t: t, store: store, registered: &registered}
		d := Run(context.Background(), Env{}, fakeScenario(), Options{
			NewFault: func(faults.Env, *scenarios.Scenario) (faults.Fault, error) { return f, nil },
			Samplers: newFakeSamplers(), Journal: store,
			Preflight: func(context.Context) ([]reports.Check, error) {
				return []reports.Check{{Name: "nodes", Status: "failed", Detail: "drill-control-plane2 is NotReady"}},
					errors.New("nodes: drill-control-plane2 is NotReady")
			},
		})
		if d.Verdict != reports.Error || !strings.Contains(strings.Join(d.Failures, ""), "drill-control-plane2 is NotReady") {
			t.Errorf("verdict %s, failures %q", d.Verdict, d.Failures)
		}
		if len(f.calls) != 0 || registered {
			t.Errorf("the fault was touched: %v (registered %v)", f.calls, registered)
		}
		if len(d.Preflight) != 1 || !d.Fault.Injected.IsZero() {
			t.Errorf("report: preflight %v, injected %v", d.Preflight, d.Fault.Injected)
		}
		if entries, _ := os.ReadDir(store.Dir); len(entries) != 0 {
			t.Errorf("journal files: %v", entries)
		}
	})
}

// A fault may set things up while it resolves its target (velero-restore
// installs and backs up): when that fails, nothing is injected, and the
// revert still runs once to remove what was set up.
func TestEngineRevertsWhenTheTargetFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runEngine(t, context.Background(), func(f *fakeFault, _ *fakeSamplers) {
			f.targetErr = errors.New("backup failed")
		})
		if r.d.Verdict != reports.Error || !strings.Contains(strings.Join(r.d.Failures, ""), "backup failed") {
			t.Errorf("verdict %s, failures %q", r.d.Verdict, r.d.Failures)
		}
		if r.fault.reverts != 1 || !r.d.Fault.Injected.IsZero() || slices.Contains(r.fault.calls, "inject") {
			t.Errorf("calls %v: want target, then the revert once, and no injection", r.fault.calls)
		}
		if !r.d.Fault.Reverted.IsZero() {
			t.Errorf("a drill that injected nothing reports a revert at %v", r.d.Fault.Reverted)
		}
		if open, _ := r.store.List(); len(open) != 0 {
			t.Errorf("open journals: %v", open)
		}
	})
}

// The drill's time is given out to the buckets: the baseline, settle and a
// declared holdFor are declared waits, the rest of the hold is the cluster's
// recovery, and the buckets add up to the wall time.
func TestEngineRecordsWhereTheTimeWent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runEngine(t, context.Background(), func(f *fakeFault, _ *fakeSamplers) {
			f.hold = func(ctx context.Context) error {
				time.Sleep(10 * time.Second) // the survivors taking over
				defer timing.Start(ctx, "holdFor", timing.Declared)()
				time.Sleep(20 * time.Second)
				return nil
			}
		})
		if r.d.Verdict != reports.Pass {
			t.Fatalf("verdict %s: %q", r.d.Verdict, r.d.Failures)
		}
		b := r.d.Time()
		want := map[timing.Bucket]time.Duration{timing.Declared: 30 * time.Second, timing.Recovery: 10 * time.Second}
		for _, k := range timing.Buckets {
			if b.Buckets[k] != want[k] {
				t.Errorf("%s = %s, want %s (phases %+v)", k, b.Buckets[k], want[k], r.d.Phases)
			}
		}
		if b.Wall != 40*time.Second || b.Unattributed != 0 {
			t.Errorf("wall %s, unattributed %s: want 40s, 0", b.Wall, b.Unattributed)
		}
		var names []string
		for _, p := range r.d.Phases {
			names = append(names, p.Name)
		}
		for _, n := range []string{"drill", "baseline", "target", "inject", "fact check", "hold", "holdFor", "revert", "settle", "read-back and judging"} {
			if !slices.Contains(names, n) {
				t.Errorf("no phase %q in %q", n, names)
			}
		}
		if r.d.Host == nil || (r.d.Host.Samples == 0 && r.d.Host.Unavailable == "") {
			t.Errorf("the host's pressure was not recorded: %+v", r.d.Host)
		}
	})
}

// A drill run on a starved host says so among its findings, with the
// figures; one run on a quiet host does not.
func TestEngineFlagsAStarvedHost(t *testing.T) {
	for _, c := range []struct {
		cpu  string
		want bool
	}{{"85.00", true}, {"12.00", false}} {
		dir := t.TempDir()
		for name, text := range map[string]string{
			"cpu":    "some avg10=" + c.cpu + " avg60=0 avg300=0 total=1\nfull avg10=0.00 avg60=0 avg300=0 total=0\n",
			"memory": "some avg10=0.00 avg60=0 avg300=0 total=1\nfull avg10=0.00 avg60=0 avg300=0 total=0\n",
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Test(t, func(t *testing.T) {
			r := runEngine(t, context.Background(), func(f *fakeFault, _ *fakeSamplers) { f.pressureDir = dir })
			flagged := strings.Contains(strings.Join(r.d.Findings, "\n"), "measured on a starved host")
			if flagged != c.want || r.d.Host.Samples == 0 {
				t.Errorf("CPU pressure %s%%: flagged %v, want %v (host %+v, findings %q)", c.cpu, flagged, c.want, r.d.Host, r.d.Findings)
			}
		})
	}
}
