// Package historytest writes a made-up history of game days to disk, for
// the tests of package history, of `drill report --history` and of anything
// that shows the history site (a browser test): every run a directory under
// one runs directory, as package runs lays them out, with a known
// regression, a known flaky drill and a drill that did not run every time.
package historytest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/drill-sre/drill/reports"
)

// Options shape the history.
type Options struct {
	// Runs is how many runs to write, at least 12.
	Runs int
	// RegressionRun is the index (from 0, the oldest) of the run in which
	// RegressedDrill's RegressedFigure regresses; at least 5.
	RegressionRun int
}

// DefaultOptions are 30 runs with the regression in the 25th.
func DefaultOptions() Options { return Options{Runs: 30, RegressionRun: 24} }

// The drills of the history.
const (
	// RegressedDrill is the drill that regresses once, RegressedFigure
	// its figure that does: its RTO jumps from about 11 s to 27.5 s, which
	// still passes its 30 s objective.
	RegressedDrill  = "kill-control-plane-etcd-leader"
	RegressedFigure = "rto.api"
	// FlakyDrill passes in every run but the odd ones among the last ten,
	// in which its alert does not fire.
	FlakyDrill = "crashloop-pods"
	// SometimesDrill runs in every third run only (the first among them).
	SometimesDrill = "velero-restore"
	// SteadyDrill passes every time, holding 2 Ready pods.
	SteadyDrill = "drain-zone"
	// ErrorDrill could not measure in its third run, and passes
	// otherwise.
	ErrorDrill = "etcd-restore-total-loss"
)

// Want is what the written history holds.
type Want struct {
	// Dir is the runs directory; RunIDs the runs, oldest first.
	Dir    string
	RunIDs []string
	// RegressionRunID is the run in which RegressedFigure regressed.
	RegressionRunID string
	// SometimesMissing are the runs SometimesDrill did not run in.
	SometimesMissing []string
	// ErrorRunID is the run in which ErrorDrill's verdict was error.
	ErrorRunID string
}

// start is when the first run began; each run starts a day after the one
// before.
var start = time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)

// Write writes the history o describes under dir: a directory per run
// named by its start, holding report.json, but for the oldest, which holds
// its drills/ only (as a run that was never reported); a latest link to the
// newest; and beside them what a history must skip: a directory that holds
// only a JUnit file and a stray file.
func Write(dir string, o Options) (Want, error) {
	if o.Runs < 12 || o.RegressionRun < 5 || o.RegressionRun >= o.Runs {
		return Want{}, fmt.Errorf("historytest: %d runs with the regression in run %d: want at least 12 runs, the regression in one from 5", o.Runs, o.RegressionRun)
	}
	w := Want{Dir: dir}
	for i := range o.Runs {
		r := Report(o, i)
		id := r.Started.Format("20060102T150405Z")
		run := filepath.Join(dir, id)
		w.RunIDs = append(w.RunIDs, id)
		if i == o.RegressionRun {
			w.RegressionRunID = id
		}
		if i%3 != 0 {
			w.SometimesMissing = append(w.SometimesMissing, id)
		}
		if i == 2 {
			w.ErrorRunID = id
		}
		if i == 0 {
			for _, d := range r.Drills {
				if _, err := reports.WriteDrill(run, d); err != nil {
					return Want{}, fmt.Errorf("historytest: %w", err)
				}
			}
			continue
		}
		if err := os.MkdirAll(run, 0o755); err != nil {
			return Want{}, fmt.Errorf("historytest: %w", err)
		}
		if err := reports.Write(filepath.Join(run, "report.json"), r); err != nil {
			return Want{}, fmt.Errorf("historytest: %w", err)
		}
	}
	junk := filepath.Join(dir, "20261031T000000Z")
	if err := os.MkdirAll(junk, 0o755); err != nil {
		return Want{}, fmt.Errorf("historytest: %w", err)
	}
	for path, data := range map[string]string{
		filepath.Join(junk, "junit.xml"): "<testsuites/>\n",
		filepath.Join(dir, "README"):     "not a run\n",
	} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			return Want{}, fmt.Errorf("historytest: %w", err)
		}
	}
	if err := os.Symlink(w.RunIDs[len(w.RunIDs)-1], filepath.Join(dir, "latest")); err != nil {
		return Want{}, fmt.Errorf("historytest: %w", err)
	}
	return w, nil
}

// Report returns run i of the history o describes.
func Report(o Options, i int) reports.Report {
	t := start.Add(time.Duration(i) * 24 * time.Hour)
	r := reports.Report{SchemaVersion: reports.SchemaVersion, Cluster: "drill", Started: t}
	add := func(name string, v reports.Verdict, objs ...reports.Objective) {
		from := t.Add(time.Duration(len(r.Drills)) * 15 * time.Minute)
		r.Drills = append(r.Drills, reports.Drill{Name: name, Verdict: v, Started: from, Finished: from.Add(10 * time.Minute),
			Fault: reports.Fault{Type: name, Target: "made up by historytest"}, Objectives: objs})
		r.Finished = from.Add(10 * time.Minute)
	}

	rto := 11 + noise(i)
	if i == o.RegressionRun {
		rto = 27.5
	}
	add(RegressedDrill, reports.Pass,
		seconds("rto.api", "30.0s", rto, reports.Pass),
		count("rpo.maxLostWrites", "0 writes", 0, "writes"),
		seconds("alerts.ClusterDown.firing", "within 480.0s", 95+noise(i+3), reports.Pass))

	add(SteadyDrill, reports.Pass,
		seconds("rto.app", "10.0s", 3.2+noise(i+1)/2, reports.Pass),
		count("availability", "≥ 2 Ready", 2, "pods"),
		count("pdb", "≥ 2 Ready", 2, "pods"))

	fired := seconds("alerts.PodCrashLooping.firing", "within 480.0s", 200+noise(i+2), reports.Pass)
	flaky := reports.Pass
	if i >= o.Runs-10 && i%2 == 1 {
		flaky = reports.Fail
		fired = reports.Objective{Name: "alerts.PodCrashLooping.firing", Bound: "within 480.0s", Measured: "did not fire",
			Unit: "s", Verdict: reports.Fail}
	}
	add(FlakyDrill, flaky, seconds("rto.app", "10.0s", 6+noise(i+4), reports.Pass), fired)

	if i%3 == 0 {
		add(SometimesDrill, reports.Pass,
			seconds("rto.app", "180.0s", 95+noise(i+5), reports.Pass),
			seconds("rpo.maxDataLoss", "60.0s", 20+noise(i+6), reports.Pass),
			count("integrity", "0 corrupted records", 0, "records"))
	}

	if i == 2 {
		add(ErrorDrill, reports.Error,
			reports.Objective{Name: "rto.api", Bound: "360.0s", Measured: "not measured", Verdict: reports.Error},
			reports.Objective{Name: "rpo", Bound: "declared", Measured: "not measured", Verdict: reports.Error})
	} else {
		add(ErrorDrill, reports.Pass,
			seconds("rto.api", "360.0s", 150+noise(i+7), reports.Pass),
			seconds("rpo.maxDataLoss", "35.0s", 12+noise(i+8), reports.Pass))
	}
	return r
}

// noise is a made-up wobble between 0 and 0.8: less than the absolute
// margin of a regression, so that none but the one meant is flagged.
func noise(i int) float64 { return 0.4 + 0.4*math.Sin(float64(i)*1.7) }

func seconds(name, bound string, v float64, verdict reports.Verdict) reports.Objective {
	return reports.Objective{Name: name, Bound: bound, Measured: fmt.Sprintf("%.1fs", v), Value: v, Unit: "s", Verdict: verdict}
}

func count(name, bound string, v float64, unit string) reports.Objective {
	measured := fmt.Sprintf("%g %s", v, unit)
	if unit == "pods" {
		measured = fmt.Sprintf("%g Ready", v)
	}
	return reports.Objective{Name: name, Bound: bound, Measured: measured, Value: v, Unit: unit, Verdict: reports.Pass}
}
