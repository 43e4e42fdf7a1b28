// Package objectives judges a drill's recovery objectives from what was
// recorded during it: RTO and availability from the intervals samplers
// recorded (package monitor), RPO from a log of acknowledged writes and what
// could be read back. Everything here is a pure function: no cluster, no
// clock.
//
// The interval functions treat every interval they are given as a time the
// service was unavailable, as a monitor.Sampler records it. When a recorder
// holds other intervals too (faults, alerts) or several services, select
// first with monitor.Filter. Intervals from several samplers of one service
// (new and reused connections, several clients) may overlap: they are merged,
// so the service counts as unavailable whenever at least one sampler saw it
// fail.
package objectives

import (
	"slices"
	"time"

	"github.com/drill-sre/drill/internal/monitor"
)

// RTO returns how long the service took to recover from a fault injected at
// injection: the time from injection to the end of the last unavailability
// interval that overlaps or follows injection, that is, whose To is after
// injection. Intervals that ended at or before injection are not the fault's
// doing and are ignored. With none left the service never became unavailable
// and RTO is 0.
//
// The end of every interval after injection counts, however late: bound the
// intervals to the drill (for example to the sampling that ran for it) before
// asking.
//
// ok is false when one of those intervals is Open: the service had not
// recovered when sampling stopped, and the duration returned, up to the stop,
// is only a lower bound.
func RTO(injection time.Time, intervals []monitor.Interval) (rto time.Duration, ok bool) {
	ok = true
	var last time.Time
	for _, i := range intervals {
		if !i.To.After(injection) {
			continue
		}
		if i.To.After(last) {
			last = i.To
		}
		if i.Open {
			ok = false
		}
	}
	if last.IsZero() {
		return 0, ok
	}
	return last.Sub(injection), ok
}

// Unavailable returns the total time the service was unavailable: the
// length of the union of the intervals, so time covered by overlapping
// intervals counts once.
func Unavailable(intervals []monitor.Interval) time.Duration {
	var total time.Duration
	for _, s := range merge(intervals) {
		total += s.to.Sub(s.from)
	}
	return total
}

// MaxOutage returns the longest outage: the longest stretch of the union of
// the intervals. Intervals that overlap or touch (one ends when the next
// begins) make one outage.
func MaxOutage(intervals []monitor.Interval) time.Duration {
	var longest time.Duration
	for _, s := range merge(intervals) {
		longest = max(longest, s.to.Sub(s.from))
	}
	return longest
}

// Availability returns the fraction of the window [from, to) during which
// the service was available: 1 minus the time the intervals cover within the
// window over the window's length. Intervals are clipped to the window. A
// window of no length is fully available (1).
func Availability(from, to time.Time, intervals []monitor.Interval) float64 {
	window := to.Sub(from)
	if window <= 0 {
		return 1
	}
	var down time.Duration
	for _, s := range merge(intervals) {
		f, t := s.from, s.to
		if f.Before(from) {
			f = from
		}
		if t.After(to) {
			t = to
		}
		if t.After(f) {
			down += t.Sub(f)
		}
	}
	return 1 - float64(down)/float64(window)
}

// span is a stretch of time.
type span struct{ from, to time.Time }

// merge returns the union of the intervals as disjoint spans in order.
// Intervals that overlap or touch merge; intervals whose To is before their
// From are ignored.
func merge(intervals []monitor.Interval) []span {
	spans := make([]span, 0, len(intervals))
	for _, i := range intervals {
		if !i.To.Before(i.From) {
			spans = append(spans, span{i.From, i.To})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && !s.from.After(out[n-1].to) {
			if s.to.After(out[n-1].to) {
				out[n-1].to = s.to
			}
			continue
		}
		out = append(out, s)
	}
	return out
}
