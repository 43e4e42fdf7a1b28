package history

import (
	"cmp"
	"slices"
	"strings"
)

// Analysis is what the history shows: each drill's record, each figure's
// series and the regressions among them.
type Analysis struct {
	History    History
	Thresholds Thresholds
	FlakyRule  FlakyRule
	// Drills are in the order of History.Drills.
	Drills []DrillStats
	// Series are by drill, then figure.
	Series []Series
	// Regressions are newest run first, then by drill and figure.
	Regressions []Regression
}

// Analyze works out h's series, regressions and drill records.
func Analyze(h History, t Thresholds, f FlakyRule) Analysis {
	a := Analysis{History: h, Thresholds: t, FlakyRule: f, Drills: h.Stats(f), Series: h.Series()}
	for _, s := range a.Series {
		a.Regressions = append(a.Regressions, Regressions(s, t)...)
	}
	slices.SortStableFunc(a.Regressions, func(x, y Regression) int {
		return cmp.Or(cmp.Compare(y.Point.Run, x.Point.Run),
			strings.Compare(x.Drill, y.Drill), strings.Compare(x.Figure, y.Figure))
	})
	return a
}

// NewestRegressions returns the regressions of the newest run.
func (a Analysis) NewestRegressions() []Regression {
	var out []Regression
	for _, r := range a.Regressions {
		if r.Point.Run == len(a.History.Runs)-1 {
			out = append(out, r)
		}
	}
	return out
}

// Flaky returns the drills that are flaky.
func (a Analysis) Flaky() []DrillStats {
	var out []DrillStats
	for _, d := range a.Drills {
		if d.Flaky {
			out = append(out, d)
		}
	}
	return out
}
