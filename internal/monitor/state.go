package monitor

import (
	"context"
	"fmt"
	"time"
)

// Probe reads the current value of a state: which etcd member leads, who
// holds a lease, how many pods are Ready. An error means the state could not
// be read, not that it changed.
type Probe func(ctx context.Context) (string, error)

// NewStateSampler returns a Sampler that probes a state at every tick and
// records, at Level Info, one interval per run of equal values: Locator is
// locator, Message the value, From the time the answer of the first sample
// that read it came in, To that of the first sample that read another value
// (or the stop, with Open set). Values are stamped with their answer, not
// with the sample's start as outages are: a sample in flight when a fault
// strikes may answer with its consequence, which must not predate it. A probe that fails leaves the state as it was and is
// recorded like a failing check of a plain Sampler: as an Error interval
// under the same locator. Filter on Level to tell them apart.
func NewStateSampler(locator string, probe Probe, rec *Recorder, opts ...SamplerOption) (*Sampler, error) {
	var ns *Sampler
	check := func(ctx context.Context) error {
		v, err := probe(ctx)
		if err == nil {
			ns.value = v
		}
		return err
	}
	ns, err := NewSampler(locator, check, rec, opts...)
	if err != nil {
		return nil, err
	}
	if probe == nil {
		return nil, fmt.Errorf("state sampler %q: no probe", locator)
	}
	ns.probe = probe
	ns.state = &stateTracker{locator: locator, rec: rec}
	return ns, nil
}

// stateTracker turns a sequence of (sample start, value) into intervals.
type stateTracker struct {
	locator string
	rec     *Recorder
	current *Interval
}

func (t *stateTracker) observe(start time.Time, value string) {
	if t.current != nil && t.current.Message == value {
		return
	}
	if t.current != nil {
		t.end(start, false)
	}
	t.current = &Interval{From: start, Locator: t.locator, Level: Info, Message: value}
}

func (t *stateTracker) end(to time.Time, open bool) {
	i := *t.current
	i.To, i.Open = to, open
	t.rec.Record(i)
	t.current = nil
}

func (t *stateTracker) stop(at time.Time) {
	if t.current != nil {
		t.end(at, true)
	}
}

// Change is a state taking a value at a time.
type Change struct {
	At    time.Time
	Value string
}

// Changes returns the values a state sampler recorded under locator, in
// order: each Info interval's start and value.
func Changes(intervals []Interval, locator string) []Change {
	var out []Change
	for _, i := range intervals {
		if i.Locator == locator && i.Level == Info {
			out = append(out, Change{At: i.From, Value: i.Message})
		}
	}
	return out
}

// ValueAt returns the value a state held at t, per its changes in order, and
// false if none was read by then.
func ValueAt(changes []Change, t time.Time) (string, bool) {
	v, ok := "", false
	for _, c := range changes {
		if c.At.After(t) {
			break
		}
		v, ok = c.Value, true
	}
	return v, ok
}

// FirstChangeAfter returns the first change after t to a value other than
// the one held at t.
func FirstChangeAfter(changes []Change, t time.Time) (Change, bool) {
	held, _ := ValueAt(changes, t)
	for _, c := range changes {
		if c.At.After(t) && c.Value != held {
			return c, true
		}
	}
	return Change{}, false
}
