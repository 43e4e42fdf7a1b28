package objectives

import (
	"math"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/monitor"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// down is an unavailability interval from a to b seconds after t0.
func down(a, b float64) monitor.Interval {
	return monitor.Interval{From: at(a), To: at(b), Locator: "url/x connection/new", Level: monitor.Error}
}

// open is an interval still open when sampling stopped at b.
func open(a, b float64) monitor.Interval {
	i := down(a, b)
	i.Open = true
	return i
}

// reused is an interval from the other sampler of the same service.
func reused(a, b float64) monitor.Interval {
	i := down(a, b)
	i.Locator = "url/x connection/reused"
	return i
}

func TestRTO(t *testing.T) {
	const inject = 10 // s after t0
	tests := []struct {
		name      string
		intervals []monitor.Interval
		want      time.Duration
		wantOK    bool
	}{
		{"no outages", nil, 0, true},
		{"outage before the injection only", []monitor.Interval{down(2, 3)}, 0, true},
		{"outage ending exactly at the injection", []monitor.Interval{down(8, 10)}, 0, true},
		{"outage after the injection", []monitor.Interval{down(10.2, 12.5)}, sec(2.5), true},
		{"outage starting before the injection, ending after", []monitor.Interval{down(9, 11)}, sec(1), true},
		{"earlier outage ignored, later one counts", []monitor.Interval{down(2, 3), down(10.1, 10.9)}, sec(0.9), true},
		{"the last interval ends it", []monitor.Interval{down(10.1, 11), down(12, 14), down(11.5, 11.7)}, sec(4), true},
		{"gap: flapping after the injection", []monitor.Interval{down(10.1, 10.5), down(11, 11.2), down(13, 13.4)}, sec(3.4), true},
		{"two samplers overlapping", []monitor.Interval{down(10.1, 12), reused(10.3, 13.5)}, sec(3.5), true},
		{"unordered input", []monitor.Interval{reused(10.3, 13.5), down(10.1, 12)}, sec(3.5), true},
		{"open at stop: lower bound, not ok", []monitor.Interval{open(10.5, 30)}, sec(20), false},
		{"open interval of the other sampler", []monitor.Interval{down(10.1, 12), open(10.3, 30)}, sec(20), false},
		{"open interval before the injection ignored", []monitor.Interval{open(2, 3)}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RTO(at(inject), tt.intervals)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RTO = %s, %t; want %s, %t", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestUnavailableAndMaxOutage(t *testing.T) {
	tests := []struct {
		name        string
		intervals   []monitor.Interval
		unavailable time.Duration
		longest     time.Duration
	}{
		{"none", nil, 0, 0},
		{"one", []monitor.Interval{down(1, 2.5)}, sec(1.5), sec(1.5)},
		{"disjoint, with a gap", []monitor.Interval{down(1, 2), down(5, 8)}, sec(4), sec(3)},
		{"overlapping from two samplers", []monitor.Interval{down(1, 3), reused(2, 4)}, sec(3), sec(3)},
		{"one inside another", []monitor.Interval{down(1, 10), reused(2, 3)}, sec(9), sec(9)},
		{"touching make one outage", []monitor.Interval{down(1, 2), reused(2, 3.5)}, sec(2.5), sec(2.5)},
		{"unordered", []monitor.Interval{down(5, 6), down(1, 3), reused(2.5, 4)}, sec(4), sec(3)},
		{"chain of overlaps", []monitor.Interval{down(1, 2), reused(1.5, 3), down(2.9, 4), down(6, 6.5)}, sec(3.5), sec(3)},
		{"open interval counts up to the stop", []monitor.Interval{down(1, 2), open(5, 9)}, sec(5), sec(4)},
		{"zero-length interval", []monitor.Interval{down(1, 1)}, 0, 0},
		{"inverted interval ignored", []monitor.Interval{down(3, 1), down(4, 5)}, sec(1), sec(1)},
		{"duplicates", []monitor.Interval{down(1, 2), down(1, 2)}, sec(1), sec(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unavailable(tt.intervals); got != tt.unavailable {
				t.Errorf("Unavailable = %s, want %s", got, tt.unavailable)
			}
			if got := MaxOutage(tt.intervals); got != tt.longest {
				t.Errorf("MaxOutage = %s, want %s", got, tt.longest)
			}
		})
	}
}

func TestAvailability(t *testing.T) {
	tests := []struct {
		name      string
		from, to  float64
		intervals []monitor.Interval
		want      float64
	}{
		{"no outages", 0, 100, nil, 1},
		{"one second in a hundred", 0, 100, []monitor.Interval{down(10, 11)}, 0.99},
		{"overlaps count once", 0, 100, []monitor.Interval{down(10, 12), reused(11, 13)}, 0.97},
		{"clipped at the start", 10, 20, []monitor.Interval{down(5, 12)}, 0.8},
		{"clipped at the end", 10, 20, []monitor.Interval{down(19, 25)}, 0.9},
		{"outside the window", 10, 20, []monitor.Interval{down(1, 2), down(20, 30)}, 1},
		{"down throughout", 10, 20, []monitor.Interval{open(0, 20)}, 0},
		{"empty window", 10, 10, []monitor.Interval{down(0, 20)}, 1},
		{"inverted window", 20, 10, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Availability(at(tt.from), at(tt.to), tt.intervals)
			// NaN (a window of no length divided by) compares false with
			// everything: it must fail too.
			if math.IsNaN(got) || math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Availability = %v, want %v", got, tt.want)
			}
		})
	}
}
