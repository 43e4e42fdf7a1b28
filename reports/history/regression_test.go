package history

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/drill-sre/drill/reports"
)

// series returns a series of figure with values, one run each from run 0.
func series(figure, unit string, smallerIsWorse bool, values ...float64) Series {
	s := Series{Drill: "d", Figure: figure, Unit: unit, SmallerIsWorse: smallerIsWorse}
	for i, v := range values {
		s.Points = append(s.Points, Point{Run: i, RunID: "run" + strconv.Itoa(i), Value: v, Verdict: reports.Pass})
	}
	return s
}

// repeat returns v n times, then more.
func repeat(v float64, n int, more ...float64) []float64 {
	out := make([]float64, 0, n+len(more))
	for range n {
		out = append(out, v)
	}
	return append(out, more...)
}

func TestRegressions(t *testing.T) {
	for _, tc := range []struct {
		name           string
		unit           string
		smallerIsWorse bool
		values         []float64
		// want are the indexes of the points flagged.
		want []int
		// wantLimit is the last flag's limit, when one is wanted.
		wantLimit float64
	}{
		{name: "steady", unit: "s", values: repeat(10, 12)},
		{
			name: "rpo of 0 writes, then 1: on the absolute margin", unit: "writes",
			values: repeat(0, 6, 1),
		},
		{
			name: "rpo of 0 writes, then 2", unit: "writes",
			values: repeat(0, 6, 2), want: []int{6}, wantLimit: 1,
		},
		{
			name: "fewer than 5 earlier runs", unit: "s",
			values: repeat(10, 4, 100),
		},
		{
			name: "5 earlier runs", unit: "s",
			values: repeat(10, 5, 100), want: []int{5}, wantLimit: 12,
		},
		{
			name: "exactly on the relative threshold", unit: "s",
			values: repeat(10, 10, 12),
		},
		{
			name: "one above the relative threshold", unit: "s",
			values: repeat(10, 10, 13), want: []int{10}, wantLimit: 12,
		},
		{
			name: "exactly on the absolute threshold", unit: "s",
			values: repeat(2, 10, 3),
		},
		{
			name: "one above the absolute threshold", unit: "s",
			values: repeat(2, 10, 4), want: []int{10}, wantLimit: 3,
		},
		{
			name: "better is never flagged", unit: "s",
			values: repeat(10, 10, 0),
		},
		{
			// P95 of 1..10 is 9.55: the limit 9.55×1.2 = 11.46.
			name: "interpolated P95, just below", unit: "s",
			values: []float64{3, 1, 4, 10, 5, 9, 2, 6, 8, 7, 11.4},
		},
		{
			name: "interpolated P95, just above", unit: "s",
			values: []float64{3, 1, 4, 10, 5, 9, 2, 6, 8, 7, 11.5}, want: []int{10}, wantLimit: 11.46,
		},
		{
			// The first five 100s are out of the window of the last ten.
			name: "only the previous 10 runs count", unit: "s",
			values: append(repeat(100, 5), repeat(10, 10, 20)...), want: []int{15}, wantLimit: 12,
		},
		{
			// P5 of 3s is 3: the limit min(3-1, 3/1.2) = 2.
			name: "smaller is worse: on the threshold", unit: "pods", smallerIsWorse: true,
			values: repeat(3, 6, 2),
		},
		{
			name: "smaller is worse: one below", unit: "pods", smallerIsWorse: true,
			values: repeat(3, 6, 1), want: []int{6}, wantLimit: 2,
		},
		{
			name: "smaller is worse: larger is better", unit: "pods", smallerIsWorse: true,
			values: repeat(3, 6, 30),
		},
		{
			// The regressed run is among the next runs' earlier ones:
			// it raises their P95 and flags none of them.
			name: "one regression, then back", unit: "s",
			values: append(repeat(10, 6, 30), repeat(10, 6)...), want: []int{6}, wantLimit: 12,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := series("f", tc.unit, tc.smallerIsWorse, tc.values...)
			got := Regressions(s, DefaultThresholds())
			var idx []int
			for _, r := range got {
				idx = append(idx, r.Point.Run)
			}
			if !slices.Equal(idx, tc.want) {
				t.Fatalf("flagged %v, want %v: %+v", idx, tc.want, got)
			}
			if len(got) > 0 {
				last := got[len(got)-1]
				if math.Abs(last.Limit-tc.wantLimit) > 1e-9 {
					t.Errorf("limit %v, want %v", last.Limit, tc.wantLimit)
				}
				if last.Compared < 5 || last.Compared > 10 {
					t.Errorf("compared with %d runs", last.Compared)
				}
			}
		})
	}
}

func TestRegressionsThresholds(t *testing.T) {
	// Callers can change the thresholds: a window of 3 runs, judged from
	// 2, with a margin of 5 or 50%.
	th := Thresholds{Window: 3, MinRuns: 2, Percentile: 50, Absolute: 5, Relative: 1.5}
	got := Regressions(series("f", "s", false, 10, 10, 15, 10, 15.1), th)
	if len(got) != 1 || got[0].Point.Run != 4 || got[0].Baseline != 10 || got[0].Limit != 15 || got[0].Percentile != 50 {
		t.Fatalf("got %+v, want run 4 against a median of 10, limit 15", got)
	}
	if by := got[0].By(); math.Abs(by-5.1) > 1e-9 {
		t.Errorf("By %v, want 5.1", by)
	}
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		values []float64
		p      float64
		want   float64
	}{
		{[]float64{7}, 95, 7},
		{[]float64{1, 2}, 50, 1.5},
		{[]float64{10, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 95, 9.55},
		{[]float64{10, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 5, 1.45},
		{[]float64{3, 1, 2}, 0, 1},
		{[]float64{3, 1, 2}, 100, 3},
	} {
		if got := Percentile(tc.values, tc.p); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.values, tc.p, got, tc.want)
		}
	}
	if got := Percentile(nil, 95); !math.IsNaN(got) {
		t.Errorf("Percentile of nothing = %v, want NaN", got)
	}
}
