package history

import "github.com/drill-sre/drill/reports"

// FlakyRule says when a drill is flaky: when, among the last Window runs of
// the history, the runs in which it ran flipped between pass and not pass
// (fail or error) at least Flips times.
type FlakyRule struct {
	Window, Flips int
}

// DefaultFlakyRule calls a drill flaky when its last 10 runs hold at least
// one pass and one non-pass: one flip.
func DefaultFlakyRule() FlakyRule { return FlakyRule{Window: 10, Flips: 1} }

// DrillStats is how a drill fared across the history.
type DrillStats struct {
	Name string
	// Ran and Passed count the runs in which it ran, and passed.
	Ran, Passed int
	// Recent counts the runs, among the rule's last Window runs of the
	// history, in which it ran; RecentPassed those it passed.
	Recent, RecentPassed int
	// Flips counts the changes between pass and not pass from one of
	// those Recent runs to the next.
	Flips int
	Flaky bool
}

// PassRate is Passed over Ran, 0 when it never ran.
func (s DrillStats) PassRate() float64 {
	if s.Ran == 0 {
		return 0
	}
	return float64(s.Passed) / float64(s.Ran)
}

// Stats returns how each drill of h fared (DrillStats), in the order of
// History.Drills.
func (h History) Stats(rule FlakyRule) []DrillStats {
	var out []DrillStats
	for _, name := range h.Drills() {
		s := DrillStats{Name: name}
		recentFrom := len(h.Runs) - rule.Window
		var last reports.Verdict
		for i := range h.Runs {
			d, ok := h.drill(i, name)
			if !ok {
				continue
			}
			s.Ran++
			if d.Verdict == reports.Pass {
				s.Passed++
			}
			if i < recentFrom {
				continue
			}
			if s.Recent > 0 && (last == reports.Pass) != (d.Verdict == reports.Pass) {
				s.Flips++
			}
			s.Recent++
			if d.Verdict == reports.Pass {
				s.RecentPassed++
			}
			last = d.Verdict
		}
		s.Flaky = s.Flips > 0 && s.Flips >= rule.Flips
		out = append(out, s)
	}
	return out
}
