package history

import (
	"math"
	"slices"
)

// Thresholds say when a figure has regressed: when it is worse than the
// same drill's same figure in its recent runs by more than a margin.
type Thresholds struct {
	// Window is how many earlier runs that measured the figure it is
	// compared with, at most; MinRuns how many there must be at least,
	// else it is not judged.
	Window, MinRuns int
	// Percentile of the earlier runs a figure is compared with: a figure
	// that grows worse is compared with this percentile, one that shrinks
	// worse with 100 minus it.
	Percentile float64
	// Absolute and Relative are the margins, of which the wider counts: a
	// figure that grows worse regresses when above
	// max(p+Absolute, p×Relative), one that shrinks worse when below
	// min(p−Absolute, p÷Relative). Absolute is in the figure's unit (1 s,
	// 1 write, 1 pod).
	Absolute, Relative float64
}

// DefaultThresholds compares a figure with the P95 (P5) of its previous 10
// runs, once there are 5, with a margin of 1 in its unit or 20%.
func DefaultThresholds() Thresholds {
	return Thresholds{Window: 10, MinRuns: 5, Percentile: 95, Absolute: 1, Relative: 1.2}
}

// Regression is a figure of a run that is worse than its recent past.
type Regression struct {
	Drill, Figure, Unit string
	SmallerIsWorse      bool
	// Point is the figure in the run that regressed; its Verdict is the
	// objective's, which may well be Pass.
	Point Point
	// Baseline is the Percentile of the Compared earlier runs, Limit the
	// value past which the figure regresses.
	Percentile, Baseline, Limit float64
	Compared                    int
}

// By is how far the figure is past its baseline, in its unit: positive
// when it grew, negative when it shrank.
func (r Regression) By() float64 { return r.Point.Value - r.Baseline }

// Regressions returns the points of s that regressed against the
// points before them (Thresholds), oldest first.
func Regressions(s Series, t Thresholds) []Regression {
	var out []Regression
	for i, p := range s.Points {
		earlier := s.Points[max(0, i-t.Window):i]
		if len(earlier) < t.MinRuns || len(earlier) == 0 {
			continue
		}
		values := make([]float64, len(earlier))
		for j, e := range earlier {
			values[j] = e.Value
		}
		r := Regression{Drill: s.Drill, Figure: s.Figure, Unit: s.Unit, SmallerIsWorse: s.SmallerIsWorse,
			Point: p, Compared: len(earlier)}
		var worse bool
		if s.SmallerIsWorse {
			r.Percentile = 100 - t.Percentile
			r.Baseline = Percentile(values, r.Percentile)
			r.Limit = math.Min(r.Baseline-t.Absolute, r.Baseline/t.Relative)
			worse = p.Value < r.Limit
		} else {
			r.Percentile = t.Percentile
			r.Baseline = Percentile(values, r.Percentile)
			r.Limit = math.Max(r.Baseline+t.Absolute, r.Baseline*t.Relative)
			worse = p.Value > r.Limit
		}
		if worse {
			out = append(out, r)
		}
	}
	return out
}

// Percentile returns the p-th percentile (0 to 100) of values, linearly
// interpolated between the closest ranks (the definition of R's default
// and NumPy's "linear"): P95 of ten values is the 9th smallest plus 55% of
// the way to the 10th. It returns NaN for no values.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	v := slices.Clone(values)
	slices.Sort(v)
	rank := p / 100 * float64(len(v)-1)
	rank = math.Max(0, math.Min(rank, float64(len(v)-1)))
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(v)-1)
	return v[lo] + (rank-float64(lo))*(v[hi]-v[lo])
}
