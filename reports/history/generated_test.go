package history

import (
	"testing"

	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history/historytest"
)

// generated writes historytest's history of 30 runs and analyzes it.
func generated(t *testing.T) (historytest.Want, Analysis) {
	t.Helper()
	want, err := historytest.Write(t.TempDir(), historytest.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load(want.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return want, Analyze(h, DefaultThresholds(), DefaultFlakyRule())
}

func TestGeneratedHistory(t *testing.T) {
	want, a := generated(t)
	if got := len(a.History.Runs); got != len(want.RunIDs) || a.History.Runs[0].ID != want.RunIDs[0] {
		t.Fatalf("%d runs from %s, want %d from %s", got, a.History.Runs[0].ID, len(want.RunIDs), want.RunIDs[0])
	}
	if len(a.Regressions) != 1 {
		t.Fatalf("%d regressions, want 1: %+v", len(a.Regressions), a.Regressions)
	}
	r := a.Regressions[0]
	if r.Drill != historytest.RegressedDrill || r.Figure != historytest.RegressedFigure || r.Point.RunID != want.RegressionRunID {
		t.Errorf("regression %s %s in %s, want %s %s in %s", r.Drill, r.Figure, r.Point.RunID,
			historytest.RegressedDrill, historytest.RegressedFigure, want.RegressionRunID)
	}
	if r.Point.Verdict != reports.Pass || r.Compared != 10 {
		t.Errorf("regression %+v, want one that passed its objective, against 10 runs", r)
	}
	if got := a.NewestRegressions(); len(got) != 0 {
		t.Errorf("regressions in the newest run: %+v", got)
	}
	flaky := a.Flaky()
	if len(flaky) != 1 || flaky[0].Name != historytest.FlakyDrill {
		t.Fatalf("flaky %+v, want %s alone", flaky, historytest.FlakyDrill)
	}
	if f := flaky[0]; f.Flips != 9 || f.Recent != 10 || f.RecentPassed != 5 || f.Ran != 30 || f.Passed != 25 {
		t.Errorf("flaky drill %+v, want 9 flips, 5 of the last 10 passed, 25 of 30", f)
	}
	for _, d := range a.Drills {
		if d.Name == historytest.SometimesDrill && d.Ran != 10 {
			t.Errorf("%s ran %d times, want 10", d.Name, d.Ran)
		}
	}

	// In the newest run.
	want, err := historytest.Write(t.TempDir(), historytest.Options{Runs: 30, RegressionRun: 29})
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load(want.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := Analyze(h, DefaultThresholds(), DefaultFlakyRule()).NewestRegressions(); len(got) != 1 || got[0].Point.RunID != want.RunIDs[29] {
		t.Errorf("regressions of the newest run %+v, want one in %s", got, want.RunIDs[29])
	}
}
