package monitor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"sigs.k8s.io/kind/pkg/log"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

type sample struct {
	ms  int    // start, in ms after t0
	err string // "" for success
}

// samples spells a run of samples 100 ms apart from t0: '.' succeeds, a
// letter fails with that letter as its error.
func samples(pattern string) []sample {
	var out []sample
	for i, c := range pattern {
		s := sample{ms: 100 * i}
		if c != '.' {
			s.err = string(c)
		}
		out = append(out, s)
	}
	return out
}

func TestTracker(t *testing.T) {
	const loc = "url/x connection/new"
	iv := func(from, to int, msg string, open bool) Interval {
		return Interval{From: at(from), To: at(to), Locator: loc, Level: Error, Message: msg, Open: open}
	}
	tests := []struct {
		name    string
		samples []sample
		stop    int // ms after t0
		want    []Interval
		stats   Stats // only the counts are compared
	}{
		{
			name:    "always available",
			samples: samples("....."),
			stop:    450,
			stats:   Stats{Samples: 5},
		},
		{
			name:    "one outage, edges at sample starts",
			samples: samples("..eee.."),
			stop:    650,
			want:    []Interval{iv(200, 500, "3 failed samples: e", false)},
			stats:   Stats{Samples: 7, Failures: 3, Outages: 1},
		},
		{
			name:    "single failed sample",
			samples: samples(".e."),
			stop:    250,
			want:    []Interval{iv(100, 200, "1 failed sample: e", false)},
			stats:   Stats{Samples: 3, Failures: 1, Outages: 1},
		},
		{
			name:    "two outages",
			samples: samples(".ee..e."),
			stop:    650,
			want: []Interval{
				iv(100, 300, "2 failed samples: e", false),
				iv(500, 600, "1 failed sample: e", false),
			},
			stats: Stats{Samples: 7, Failures: 3, Outages: 2},
		},
		{
			name:    "error changes during the outage",
			samples: samples(".rrss."),
			stop:    550,
			want:    []Interval{iv(100, 500, "4 failed samples: r; last: s", false)},
			stats:   Stats{Samples: 6, Failures: 4, Outages: 1},
		},
		{
			name:    "still failing at stop: closed at stop time, flagged open",
			samples: samples("..ee"),
			stop:    420,
			want:    []Interval{iv(200, 420, "2 failed samples: e", true)},
			stats:   Stats{Samples: 4, Failures: 2, Outages: 1},
		},
		{
			name:    "failing from the first sample",
			samples: samples("ee."),
			stop:    250,
			want:    []Interval{iv(0, 200, "2 failed samples: e", false)},
			stats:   Stats{Samples: 3, Failures: 2, Outages: 1},
		},
		{
			name: "a check overran: the next starts late, ticks skipped",
			// ticks at 0,100,200; the check at 200 times out after 350 ms;
			// the next starts at 550, then the grid resumes at 600.
			samples: []sample{{0, ""}, {100, ""}, {200, "t"}, {550, ""}, {600, ""}, {700, ""}},
			stop:    750,
			want:    []Interval{iv(200, 550, "1 failed sample: t", false)},
			stats:   Stats{Samples: 6, Failures: 1, Outages: 1, Skipped: 2, MaxGap: 350 * time.Millisecond},
		},
		{
			name:  "no samples at all",
			stop:  50,
			stats: Stats{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := NewRecorder()
			tr := newTracker(loc, 100*time.Millisecond, rec, log.NoopLogger{})
			for _, s := range tt.samples {
				var err error
				if s.err != "" {
					err = errors.New(s.err)
				}
				tr.observe(at(s.ms), time.Millisecond, err)
			}
			st := tr.stop(at(tt.stop))

			got := rec.Intervals()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d intervals %v, want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("interval %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
			if st.Samples != tt.stats.Samples || st.Failures != tt.stats.Failures || st.Outages != tt.stats.Outages {
				t.Errorf("samples/failures/outages = %d/%d/%d, want %d/%d/%d",
					st.Samples, st.Failures, st.Outages, tt.stats.Samples, tt.stats.Failures, tt.stats.Outages)
			}
			if st.Skipped != tt.stats.Skipped {
				t.Errorf("skipped = %d, want %d", st.Skipped, tt.stats.Skipped)
			}
			wantGap := tt.stats.MaxGap
			if wantGap == 0 && len(tt.samples) > 1 {
				wantGap = 100 * time.Millisecond
			}
			if st.MaxGap != wantGap {
				t.Errorf("max gap = %s, want %s", st.MaxGap, wantGap)
			}
			if !st.Stopped.Equal(at(tt.stop)) {
				t.Errorf("stopped = %s, want %s", st.Stopped, at(tt.stop))
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // 100 ms .. 1 ms, unsorted
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarize(ds)
	ms := time.Millisecond
	want := Latency{Min: 1 * ms, Mean: 50500 * time.Microsecond, P50: 50 * ms, P90: 90 * ms, P99: 99 * ms, Max: 100 * ms}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Errorf("empty: got %+v", got)
	}
	if got := summarize([]time.Duration{7}); got.P99 != 7 || got.P50 != 7 || got.Min != 7 {
		t.Errorf("one value: got %+v", got)
	}
}

func TestNewSamplerValidates(t *testing.T) {
	ok := func(context.Context) error { return nil }
	rec := NewRecorder()
	tests := []struct {
		name  string
		check Check
		rec   *Recorder
		opts  []SamplerOption
		want  string
	}{
		{"no check", nil, rec, nil, "no check"},
		{"no recorder", ok, nil, nil, "no recorder"},
		{"zero interval", ok, rec, []SamplerOption{SamplerWithInterval(0)}, "interval must be positive"},
		{"negative timeout", ok, rec, []SamplerOption{SamplerWithTimeout(-time.Second)}, "timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSampler("x", tt.check, tt.rec, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	s, err := NewSampler("x", ok, rec, SamplerWithInterval(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if s.timeout != 2500*time.Millisecond {
		t.Errorf("default timeout = %s, want 10 intervals", s.timeout)
	}
}

// TestSamplerStopsPromptly stops a sampler whose check hangs until its
// context is done, in the middle of an outage: Run must return at once, drop
// the interrupted sample, and record the outage as open, ending at the stop.
func TestSamplerStopsPromptly(t *testing.T) {
	var calls atomic.Int32
	check := func(ctx context.Context) error {
		if calls.Add(1) <= 2 {
			return errors.New("refused")
		}
		<-ctx.Done() // hang, as a blackholed endpoint would
		return ctx.Err()
	}
	rec := NewRecorder()
	s, err := NewSampler("hang", check, rec, SamplerWithInterval(20*time.Millisecond), SamplerWithTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Stats)
	go func() { done <- s.Run(ctx) }()
	for calls.Load() < 3 { // wait until the third check hangs
		time.Sleep(time.Millisecond)
	}
	cancelled := time.Now()
	cancel()
	var st Stats
	select {
	case st = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of the cancel")
	}
	took := time.Since(cancelled)
	t.Logf("Run returned %s after the cancel", took)
	if took > 500*time.Millisecond {
		t.Errorf("Run returned %s after the cancel, want promptly", took)
	}
	if st.Samples != 2 || st.Failures != 2 {
		t.Errorf("samples/failures = %d/%d, want 2/2 (the interrupted check is not a sample)", st.Samples, st.Failures)
	}
	got := rec.Intervals()
	if len(got) != 1 {
		t.Fatalf("got intervals %+v, want one", got)
	}
	iv := got[0]
	if !iv.Open || !iv.To.Equal(st.Stopped) || iv.To.Before(cancelled) {
		t.Errorf("interval %+v: want open, ending at the stop %s (after the cancel %s)", iv, st.Stopped, cancelled)
	}
	if iv.Level != Error || iv.Locator != "hang" || !strings.Contains(iv.Message, "refused") {
		t.Errorf("interval %+v: want an Error about hang quoting the failure", iv)
	}
}

// TestSamplerTimeout checks that a check that overruns its timeout fails
// with a message that says so.
func TestSamplerTimeout(t *testing.T) {
	check := func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}
	rec := NewRecorder()
	s, err := NewSampler("slow", check, rec, SamplerWithInterval(10*time.Millisecond), SamplerWithTimeout(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	stop := s.Start(context.Background())
	time.Sleep(100 * time.Millisecond)
	st := stop()
	if st.Failures == 0 || st.Failures != st.Samples {
		t.Errorf("samples/failures = %d/%d, want every sample failed", st.Samples, st.Failures)
	}
	if got := rec.Intervals(); len(got) != 1 || !strings.Contains(got[0].Message, "no answer within 30ms") {
		t.Errorf("got intervals %+v, want one saying the check timed out", got)
	}
	if st2 := stop(); st2.Samples != st.Samples {
		t.Errorf("second stop returned other stats: %+v", st2)
	}
}

// TestSamplerSchedule checks that checks never overlap, that the one after an
// overrun starts right away, and that the grid resumes after it.
func TestSamplerSchedule(t *testing.T) {
	// In a bubble, time is the bubble's: it moves only when every goroutine
	// waits, so the schedule is measured exactly, however loaded the
	// machine running the test.
	synctest.Test(t, func(t *testing.T) {
		const interval = 50 * time.Millisecond
		var (
			mu      sync.Mutex
			starts  []time.Time
			running atomic.Int32
			overlap atomic.Bool
		)
		check := func(ctx context.Context) error {
			if running.Add(1) > 1 {
				overlap.Store(true)
			}
			defer running.Add(-1)
			mu.Lock()
			starts = append(starts, time.Now())
			n := len(starts)
			mu.Unlock()
			if n == 3 {
				time.Sleep(3*interval + interval/2) // overrun: 175 ms
			} else {
				time.Sleep(10 * time.Millisecond) // would drift a sleep-after-check loop
			}
			return nil
		}
		s, err := NewSampler("schedule", check, NewRecorder(), SamplerWithInterval(interval))
		if err != nil {
			t.Fatal(err)
		}
		stop := s.Start(context.Background())
		time.Sleep(20 * interval)
		st := stop()

		mu.Lock()
		defer mu.Unlock()
		if overlap.Load() {
			t.Error("checks overlapped")
		}
		if len(starts) < 6 {
			t.Fatalf("only %d samples in %s", len(starts), 20*interval)
		}
		var gaps []time.Duration
		for i := 1; i < len(starts); i++ {
			gaps = append(gaps, starts[i].Sub(starts[i-1]).Round(time.Millisecond))
		}
		t.Logf("gaps between sample starts: %v; stats: skipped %d, max gap %s", gaps, st.Skipped, st.MaxGap)
		// The sample after the overrun starts as soon as the slow one returns
		// (175 ms after it started), not on the next free tick (200 ms).
		if g := gaps[2]; g != 3*interval+interval/2 {
			t.Errorf("gap after the overrun = %s, want 175ms", g)
		}
		// Then the grid resumes: the next start is back on it (25 ms later).
		if g := gaps[3]; g != interval/2 {
			t.Errorf("gap after the catch-up sample = %s, want 25ms", g)
		}
		if st.Skipped != 2 {
			t.Errorf("skipped = %d, want the 2 ticks the overrun swallowed", st.Skipped)
		}
		// No drift: after the catch-up sample, starts are back on the grid laid
		// from the first one. A loop that slept an interval after each 10 ms
		// check would be 10 ms further off at every sample.
		var offs []time.Duration
		for _, s := range starts[4:] {
			off := s.Sub(starts[0]) % interval
			if off > interval/2 {
				off = interval - off
			}
			offs = append(offs, off)
		}
		slices.Sort(offs)
		if med := offs[len(offs)/2]; med != 0 {
			t.Errorf("starts are a median %s off the %s grid: %v", med, interval, offs)
		}
	})
}
