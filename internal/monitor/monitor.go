// Package monitor records what happened during a drill as intervals.
//
// Samplers tick for the whole drill, each one checking one thing (an HTTP
// endpoint over new or reused connections today; the API servers, etcd
// members and the app later) and writing an Interval into a Recorder for
// every stretch of time the check failed. Edges are stamped with the start
// time of the sample that saw them, never with the time a wait returned.
// Everything that judges a drill (package objectives) is a pure function over
// the recorded intervals.
//
// Times come from time.Now and keep its monotonic clock reading, so durations
// computed with Sub between times of one process are immune to wall-clock
// steps. Marshalled intervals (JSON) lose that reading and fall back to wall
// time.
package monitor

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Level says how bad what an interval records is.
type Level string

// Levels, from benign to bad. A Sampler records unavailability as Error.
const (
	Info    Level = "Info"
	Warning Level = "Warning"
	Error   Level = "Error"
)

// Interval is a stretch of time during which something held: a backend was
// unavailable, a fault was injected, an alert fired.
type Interval struct {
	// From is when it started: for a Sampler, the start of the first failing
	// sample.
	From time.Time `json:"from"`
	// To is when it ended: for a Sampler, the start of the first succeeding
	// sample after From, or the time the Sampler stopped if Open.
	To time.Time `json:"to"`
	// Locator says what the interval is about, as "key/value" words, for
	// example "url/https://127.0.0.1:6443/readyz connection/new".
	Locator string `json:"locator"`
	// Level says how bad it is.
	Level Level `json:"level"`
	// Message says what was seen, for example the first error.
	Message string `json:"message,omitempty"`
	// Open means the condition still held when recording stopped: To is the
	// stop time, not an observed end, so the interval is a lower bound.
	Open bool `json:"open,omitempty"`
}

// Duration is how long the interval lasted.
func (i Interval) Duration() time.Duration { return i.To.Sub(i.From) }

// Recorder collects intervals from any number of samplers. It is safe for
// concurrent use; the zero value is ready.
type Recorder struct {
	mu        sync.Mutex
	intervals []Interval
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Record adds a finished interval.
func (r *Recorder) Record(i Interval) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.intervals = append(r.intervals, i)
}

// Intervals returns a copy of the recorded intervals ordered by From (then To,
// then Locator).
func (r *Recorder) Intervals() []Interval {
	r.mu.Lock()
	out := slices.Clone(r.intervals)
	r.mu.Unlock()
	Sort(out)
	return out
}

// Sort orders intervals by From, then To, then Locator.
func Sort(intervals []Interval) {
	slices.SortStableFunc(intervals, func(a, b Interval) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		if c := a.To.Compare(b.To); c != 0 {
			return c
		}
		return cmp.Compare(a.Locator, b.Locator)
	})
}

// Filter returns the intervals keep accepts, in order.
func Filter(intervals []Interval, keep func(Interval) bool) []Interval {
	var out []Interval
	for _, i := range intervals {
		if keep(i) {
			out = append(out, i)
		}
	}
	return out
}

// IsLocator accepts intervals about locator.
func IsLocator(locator string) func(Interval) bool {
	return func(i Interval) bool { return i.Locator == locator }
}

// IsLevel accepts intervals of level.
func IsLevel(level Level) func(Interval) bool {
	return func(i Interval) bool { return i.Level == level }
}
