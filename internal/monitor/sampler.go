package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/safe"
)

// Check checks one thing once and returns nil when it is available. It must
// return promptly once ctx is done: ctx carries the sample's timeout and the
// sampler's stop.
//
// Anything can be sampled by writing a Check: HTTPCheck.Check probes a URL;
// API server, etcd and app checks plug in the same way.
type Check func(ctx context.Context) error

const (
	// DefaultInterval is how often a Sampler starts a check.
	DefaultInterval = 100 * time.Millisecond
	// DefaultTimeoutIntervals is the default timeout of one check, in
	// intervals: 1 s at the default interval.
	DefaultTimeoutIntervals = 10
)

// Sampler runs a Check on a fixed schedule for as long as a drill lasts and
// records every stretch of failures as an Error interval in a Recorder.
//
// Edges are stamped with sample start times: an interval starts at the start
// of the first failing sample and ends at the start of the first succeeding
// sample after it. The true edge lies between that sample's start and the
// previous one's, so each edge is late by at most the gap between two samples
// (one interval, normally).
//
// Scheduling: checks start on a time.Ticker grid (start + k·interval), so the
// schedule does not drift with check durations. A check never overlaps the
// previous one. When a check overruns the interval (a slow or timing-out
// endpoint), the ticks that passed meanwhile are dropped but one, so the next
// check starts right after the slow one returns, and the grid resumes after
// it. The cost is resolution, not correctness: the edge after an overrun is
// late by up to the overrun. Stats.Skipped counts the ticks that had no check
// and Stats.MaxGap the worst gap between two sample starts, the coarsest
// resolution of any edge. (Overlapping checks would keep the resolution, but
// pile up connections on a backend that has stopped answering.)
type Sampler struct {
	locator  string
	check    Check
	rec      *Recorder
	interval time.Duration
	timeout  time.Duration
	logger   log.Logger

	// probe and value make a state sampler (NewStateSampler): the check
	// stores the probed value, which state turns into intervals.
	probe Probe
	value string
	state *stateTracker

	ran atomic.Bool
}

// SamplerOption configures a Sampler.
type SamplerOption interface {
	apply(*Sampler)
}

type samplerOptionFunc func(*Sampler)

func (f samplerOptionFunc) apply(s *Sampler) { f(s) }

// SamplerWithInterval sets how often a check starts (default
// DefaultInterval).
func SamplerWithInterval(d time.Duration) SamplerOption {
	return samplerOptionFunc(func(s *Sampler) { s.interval = d })
}

// SamplerWithTimeout sets how long one check may take before it counts as a
// failure (default DefaultTimeoutIntervals intervals).
func SamplerWithTimeout(d time.Duration) SamplerOption {
	return samplerOptionFunc(func(s *Sampler) { s.timeout = d })
}

// SamplerWithLogger sets where edges are reported as they happen (default:
// nowhere). V(0): the service became unavailable, and available again. V(3):
// every failed sample.
func SamplerWithLogger(l log.Logger) SamplerOption {
	return samplerOptionFunc(func(s *Sampler) { s.logger = l })
}

// NewSampler returns a Sampler that runs check and records its failures into
// rec as intervals with locator.
func NewSampler(locator string, check Check, rec *Recorder, opts ...SamplerOption) (*Sampler, error) {
	s := &Sampler{
		locator:  locator,
		check:    check,
		rec:      rec,
		interval: DefaultInterval,
		logger:   log.NoopLogger{},
	}
	for _, o := range opts {
		o.apply(s)
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeoutIntervals * s.interval
	}
	switch {
	case check == nil:
		return nil, fmt.Errorf("sampler %q: no check", locator)
	case rec == nil:
		return nil, fmt.Errorf("sampler %q: no recorder", locator)
	case s.interval <= 0:
		return nil, fmt.Errorf("sampler %q: interval must be positive, got %s", locator, s.interval)
	case s.timeout <= 0:
		return nil, fmt.Errorf("sampler %q: timeout must be positive, got %s", locator, s.timeout)
	}
	return s, nil
}

// Locator is what the sampler's intervals are about.
func (s *Sampler) Locator() string { return s.locator }

// Stats are a sampler's counts over its whole run.
type Stats struct {
	// Locator is what was sampled.
	Locator string `json:"locator"`
	// Started is when the first sample started; Stopped is when the sampler
	// stopped. Together they are the window the samples cover.
	Started time.Time `json:"started"`
	Stopped time.Time `json:"stopped"`
	// Interval and Timeout are the sampler's settings.
	Interval time.Duration `json:"interval"`
	Timeout  time.Duration `json:"timeout"`
	// Samples counts checks that completed. A check cut short by the stop is
	// not a sample.
	Samples int `json:"samples"`
	// Failures counts samples whose check failed.
	Failures int `json:"failures"`
	// Outages counts the intervals recorded.
	Outages int `json:"outages"`
	// Skipped counts ticks of the schedule that had no sample because a
	// check overran the interval.
	Skipped int `json:"skipped"`
	// MaxGap is the longest time between the starts of two consecutive
	// samples: the coarsest resolution of any edge.
	MaxGap time.Duration `json:"maxGap"`
	// Latency summarizes how long successful checks took.
	Latency Latency `json:"latency"`
}

// Latency summarizes check durations. Percentiles are nearest-rank.
type Latency struct {
	Min  time.Duration `json:"min"`
	Mean time.Duration `json:"mean"`
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	Max  time.Duration `json:"max"`
}

// Run samples until ctx is done, then returns the stats. An outage still in
// progress is recorded, closed at the stop time and flagged Open. Run returns
// as soon as the check in flight returns, which a Check does promptly once
// its ctx is done; that check's result is dropped if it failed, since the stop
// may be why. A Sampler runs once.
func (s *Sampler) Run(ctx context.Context) Stats {
	if !s.ran.CompareAndSwap(false, true) {
		panic(fmt.Sprintf("monitor: sampler %q run twice", s.locator))
	}
	t := newTracker(s.locator, s.interval, s.rec, s.logger)
	t.stats.Timeout = s.timeout

	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	t.stats.Started = time.Now()
	for first := true; ctx.Err() == nil; first = false {
		start := time.Now()
		if first {
			// As documented: the first sample's start, the same instant
			// its interval begins at, so that a service down throughout
			// is 0% available, not a few microseconds more.
			t.stats.Started = start
		}
		err := s.sample(ctx)
		took := time.Since(start)
		if err != nil && ctx.Err() != nil {
			break
		}
		t.observe(start, took, err)
		if s.state != nil && err == nil {
			// A value is known once its answer is in: stamped at the
			// sample's start, a slow answer would date a change from
			// before the event that caused it.
			s.state.observe(start.Add(took), s.value)
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
		}
	}
	stopped := time.Now()
	if s.state != nil {
		s.state.stop(stopped)
	}
	return t.stop(stopped)
}

// Start runs the sampler in the background until ctx is done or stop is
// called. stop waits for the sampler to finish and returns its stats; it may
// be called more than once.
func (s *Sampler) Start(ctx context.Context) (stop func() Stats) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var stats Stats
	safe.Go(ctx, "sampler "+s.locator, func() {
		defer close(done)
		stats = s.Run(ctx)
	})
	return func() Stats {
		cancel()
		<-done
		return stats
	}
}

// sample runs the check once under the sampler's timeout.
func (s *Sampler) sample(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.check(cctx)
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s: %w", s.timeout, err)
	}
	return err
}

// tracker turns samples into intervals and stats. It is the sampler's logic
// without the clock: observe is fed each sample's start time, duration and
// result, in order.
type tracker struct {
	locator  string
	interval time.Duration
	rec      *Recorder
	logger   log.Logger

	stats     Stats
	latencies []time.Duration
	first     time.Time // start of the first sample
	prev      time.Time // start of the previous sample

	outage   *Interval // the outage in progress
	failed   int       // its failed samples
	firstErr string
	lastErr  string
}

func newTracker(locator string, interval time.Duration, rec *Recorder, logger log.Logger) *tracker {
	return &tracker{
		locator:  locator,
		interval: interval,
		rec:      rec,
		logger:   logger,
		stats:    Stats{Locator: locator, Interval: interval},
	}
}

// observe takes one sample: it started at start, took took and returned err.
func (t *tracker) observe(start time.Time, took time.Duration, err error) {
	if t.first.IsZero() {
		t.first = start
	} else {
		t.stats.MaxGap = max(t.stats.MaxGap, start.Sub(t.prev))
	}
	t.prev = start
	t.stats.Samples++

	if err == nil {
		t.latencies = append(t.latencies, took)
		if t.outage != nil {
			t.end(start, false)
		}
		return
	}

	t.stats.Failures++
	msg := err.Error()
	t.logger.V(3).Infof("%s: sample at %s failed: %s", t.locator, clock(start), msg)
	if t.outage == nil {
		t.outage = &Interval{From: start, Locator: t.locator, Level: Error}
		t.failed, t.firstErr = 0, msg
		t.logger.V(0).Infof("%s: unavailable since %s: %s", t.locator, clock(start), msg)
	}
	t.failed++
	t.lastErr = msg
}

// end records the outage in progress as ending at to.
func (t *tracker) end(to time.Time, open bool) {
	i := *t.outage
	i.To, i.Open = to, open
	i.Message = fmt.Sprintf("%d failed samples: %s", t.failed, t.firstErr)
	if t.failed == 1 {
		i.Message = "1 failed sample: " + t.firstErr
	}
	if t.lastErr != t.firstErr {
		i.Message += "; last: " + t.lastErr
	}
	t.rec.Record(i)
	t.stats.Outages++
	t.outage = nil
	if open {
		t.logger.V(0).Infof("%s: still unavailable at %s, after %s", t.locator, clock(to), i.Duration().Round(time.Millisecond))
		return
	}
	t.logger.V(0).Infof("%s: available again at %s, after %s (%d failed samples)", t.locator, clock(to), i.Duration().Round(time.Millisecond), t.failed)
}

// stop closes an outage in progress at at and returns the final stats.
func (t *tracker) stop(at time.Time) Stats {
	if t.outage != nil {
		t.end(at, true)
	}
	t.stats.Stopped = at
	if t.stats.Samples > 0 {
		// Ticks on the grid from the first sample to the last, minus the
		// samples taken.
		ticks := int((t.prev.Sub(t.first)+t.interval/2)/t.interval) + 1
		t.stats.Skipped = max(0, ticks-t.stats.Samples)
	}
	t.stats.Latency = summarize(t.latencies)
	return t.stats
}

// summarize computes the latency summary of ds.
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	rank := func(p int) time.Duration {
		// nearest rank: the smallest value with at least p% at or below it
		i := (p*len(s)+99)/100 - 1
		return s[max(0, i)]
	}
	return Latency{
		Min:  s[0],
		Mean: sum / time.Duration(len(s)),
		P50:  rank(50),
		P90:  rank(90),
		P99:  rank(99),
		Max:  s[len(s)-1],
	}
}

// clock formats t for edge logs.
func clock(t time.Time) string { return t.Format("15:04:05.000") }
