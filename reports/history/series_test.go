package history

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/drill-sre/drill/reports"
)

func TestFigures(t *testing.T) {
	d := reports.Drill{Name: "d", Objectives: []reports.Objective{
		{Name: "rto.api", Measured: "11.3s", Value: 11.3, Unit: "s", Verdict: reports.Pass},
		{Name: "rpo.maxLostWrites", Bound: "0 writes", Measured: "0 writes", Value: 0, Unit: "writes", Verdict: reports.Pass},
		{Name: "rto.app", Measured: "31.2s", Value: 31.2, Unit: "s", Verdict: reports.Fail},
		{Name: "availability", Measured: "2 Ready", Value: 2, Unit: "pods", Verdict: reports.Pass},
		{Name: "rpo", Measured: "not measured", Verdict: reports.Error},
		{Name: "pdb", Measured: "1 Ready", Value: 1, Unit: "pods", Verdict: reports.Error},
		{Name: "alerts.ClusterDown.firing", Measured: "did not fire", Unit: "s", Verdict: reports.Fail},
		{Name: "maxDuration", Measured: "", Unit: "s", Verdict: reports.Pass},
	}}
	var got []string
	for _, o := range Figures(d) {
		got = append(got, o.Name)
	}
	want := []string{"rto.api", "rpo.maxLostWrites", "rto.app", "availability"}
	if !slices.Equal(got, want) {
		t.Errorf("figures %v, want %v", got, want)
	}
}

func TestSmallerIsWorse(t *testing.T) {
	for _, tc := range []struct {
		o    reports.Objective
		want bool
	}{
		// As drill writes them (internal/drill/judge.go, internal/alerts).
		{reports.Objective{Name: "availability", Bound: "≥ 2 Ready", Unit: "pods"}, true},
		{reports.Objective{Name: "pdb", Bound: "≥ 3 Ready", Unit: "pods"}, true},
		{reports.Objective{Name: "rto.api", Bound: "20.0s", Unit: "s"}, false},
		{reports.Objective{Name: "rto.app", Bound: "10.0s", Unit: "s"}, false},
		{reports.Objective{Name: "rpo.maxLostWrites", Bound: "0 writes", Unit: "writes"}, false},
		{reports.Objective{Name: "rpo.maxDataLoss", Bound: "35.0s", Unit: "s"}, false},
		{reports.Objective{Name: "alerts.ClusterDown.firing", Bound: "within 480.0s", Unit: "s"}, false},
		{reports.Objective{Name: "alerts.ClusterDown.resolved", Bound: "within 180.0s of the revert", Unit: "s"}, false},
		{reports.Objective{Name: "maxDuration", Bound: "720.0s", Unit: "s"}, false},
		{reports.Objective{Name: "integrity", Bound: "0 corrupted records", Unit: "records"}, false},
		{reports.Objective{Name: "alerts.forbid", Bound: "none of: KubernetesAPIDown", Unit: "alerts"}, false},
		// By name alone.
		{reports.Objective{Name: "availability.minReady", Bound: "2", Unit: "count"}, true},
	} {
		if got := SmallerIsWorse(tc.o); got != tc.want {
			t.Errorf("SmallerIsWorse(%s, %q, %s) = %v, want %v", tc.o.Name, tc.o.Bound, tc.o.Unit, got, tc.want)
		}
	}
}

// run returns a run whose report holds drills.
func run(id string, drills ...reports.Drill) Run {
	return Run{ID: id, Report: reports.Report{Drills: drills}}
}

// drillWith returns a drill with verdict v and objectives.
func drillWith(name string, v reports.Verdict, objs ...reports.Objective) reports.Drill {
	return reports.Drill{Name: name, Verdict: v, Started: time.Time{}, Objectives: objs}
}

func rto(v float64) reports.Objective {
	return reports.Objective{Name: "rto.api", Bound: "20.0s", Measured: fmt.Sprintf("%.1fs", v), Value: v, Unit: "s", Verdict: reports.Pass}
}

func TestSeries(t *testing.T) {
	ready := reports.Objective{Name: "availability", Bound: "≥ 2 Ready", Measured: "2 Ready", Value: 2, Unit: "pods", Verdict: reports.Pass}
	rtoMs := reports.Objective{Name: "rto.api", Measured: "900ms", Value: 900, Unit: "ms", Verdict: reports.Pass}
	h := History{Runs: []Run{
		run("r0", drillWith("b", reports.Pass, rto(1)), drillWith("a", reports.Pass, rto(10), ready)),
		run("r1", drillWith("b", reports.Pass, rto(2))),
		run("r2", drillWith("a", reports.Error, reports.Objective{Name: "rto.api", Measured: "not measured", Verdict: reports.Error})),
		run("r3", drillWith("a", reports.Pass, rto(12), ready), drillWith("b", reports.Pass, rtoMs)),
	}}
	type pt struct {
		run int
		v   float64
	}
	want := []struct {
		drill, figure, unit string
		smaller             bool
		points              []pt
	}{
		{"a", "availability", "pods", true, []pt{{0, 2}, {3, 2}}},
		{"a", "rto.api", "s", false, []pt{{0, 10}, {3, 12}}},
		{"b", "rto.api", "ms", false, []pt{{3, 900}}},
		{"b", "rto.api", "s", false, []pt{{0, 1}, {1, 2}}},
	}
	got := h.Series()
	if len(got) != len(want) {
		t.Fatalf("%d series, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Drill != w.drill || g.Figure != w.figure || g.Unit != w.unit || g.SmallerIsWorse != w.smaller {
			t.Errorf("series %d is %s %s (%s, smaller worse %v), want %s %s (%s, %v)", i,
				g.Drill, g.Figure, g.Unit, g.SmallerIsWorse, w.drill, w.figure, w.unit, w.smaller)
		}
		var pts []pt
		for _, p := range g.Points {
			pts = append(pts, pt{p.Run, p.Value})
			if p.RunID != h.Runs[p.Run].ID {
				t.Errorf("point of run %d names run %s", p.Run, p.RunID)
			}
		}
		if !slices.Equal(pts, w.points) {
			t.Errorf("%s %s (%s): points %v, want %v", g.Drill, g.Figure, g.Unit, pts, w.points)
		}
	}
}
