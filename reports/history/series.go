package history

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"github.com/drill-sre/drill/reports"
)

// Series is one figure of one drill across the runs: an objective's
// measured Value, run after run.
type Series struct {
	Drill string
	// Figure is the objective's name ("rto.api", "rpo.maxLostWrites").
	Figure string
	Unit   string
	// SmallerIsWorse says which way the figure gets worse (SmallerIsWorse).
	SmallerIsWorse bool
	// Points are the runs that measured the figure, oldest first.
	Points []Point
}

// Point is a figure measured in one run.
type Point struct {
	// Run is the run's index in History.Runs; RunID its ID.
	Run   int
	RunID string
	Value float64
	// Measured, Bound and Verdict are the objective's, as recorded.
	Measured string
	Bound    string
	Verdict  reports.Verdict
}

// Figures returns the objectives of d that measured a figure: those not in
// error, with a Measured that is a number ("11.3s", "0 writes", "2 Ready").
// An objective that failed without a number ("did not fire", "not
// reverted", "still firing") records a Value of 0 that was never measured,
// and is left out like one in error.
func Figures(d reports.Drill) []reports.Objective {
	var out []reports.Objective
	for _, o := range d.Objectives {
		if o.Verdict == reports.Error || !measuredNumber(o.Measured) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// measuredNumber says whether a Measured text begins with a number.
func measuredNumber(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "+-")
	return s != "" && unicode.IsDigit(rune(s[0]))
}

// SmallerIsWorse says whether a figure gets worse as it gets smaller. That
// is so of a floor: an objective whose Bound is a lower bound ("≥ 2 Ready",
// as the availability and pdb objectives write theirs), whose Unit is pods
// (the fewest Ready pods), or whose name says Ready ("minReady"). Every
// other figure — RTOs, RPOs, the times alerts took to fire, notify and
// resolve, the drill's duration, outages, lost writes, corrupted records,
// forbidden alerts that fired — gets worse as it grows.
func SmallerIsWorse(o reports.Objective) bool {
	b := strings.TrimSpace(o.Bound)
	return strings.HasPrefix(b, "≥") || strings.HasPrefix(b, ">") ||
		o.Unit == "pods" || strings.Contains(strings.ToLower(o.Name), "ready")
}

// Series returns every figure of every drill across h's runs, by drill
// then figure name. A figure whose unit changed between runs is one series
// per unit: values in different units are not compared.
func (h History) Series() []Series {
	type key struct{ drill, figure, unit string }
	index := map[key]int{}
	var out []Series
	for i, r := range h.Runs {
		for _, name := range drillNames(r.Report) {
			d, _ := h.drill(i, name)
			for _, o := range Figures(d) {
				k := key{d.Name, o.Name, o.Unit}
				j, ok := index[k]
				if !ok {
					j = len(out)
					index[k] = j
					out = append(out, Series{Drill: d.Name, Figure: o.Name, Unit: o.Unit})
				}
				if n := len(out[j].Points); n > 0 && out[j].Points[n-1].Run == i {
					continue // the same objective twice in one drill: the first counts
				}
				out[j].SmallerIsWorse = SmallerIsWorse(o)
				out[j].Points = append(out[j].Points, Point{Run: i, RunID: r.ID, Value: o.Value,
					Measured: o.Measured, Bound: o.Bound, Verdict: o.Verdict})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Series) int {
		return cmp.Or(strings.Compare(a.Drill, b.Drill), strings.Compare(a.Figure, b.Figure), strings.Compare(a.Unit, b.Unit))
	})
	return out
}

// drillNames returns the names of r's drills, each once, in report order.
func drillNames(r reports.Report) []string {
	var names []string
	for _, d := range r.Drills {
		if !slices.Contains(names, d.Name) {
			names = append(names, d.Name)
		}
	}
	return names
}
