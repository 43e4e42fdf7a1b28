package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/drill-sre/drill/internal/cli/clitest"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history/historytest"
)

var t0 = time.Date(2025, 11, 27, 14, 0, 0, 0, time.UTC)

// drill returns a drill named name that ran for a minute from start
// minutes after t0.
func drill(name string, start int, v reports.Verdict) reports.Drill {
	d := reports.Drill{
		Name:     name,
		Verdict:  v,
		Started:  t0.Add(time.Duration(start) * time.Minute),
		Finished: t0.Add(time.Duration(start+1) * time.Minute),
		Fault:    reports.Fault{Type: "kill-control-plane", Target: "node drill-control-plane2"},
		Objectives: []reports.Objective{
			{Name: "rto.api", Bound: "20s", Measured: "11.3s", Value: 11.3, Unit: "s", Verdict: reports.Pass},
		},
	}
	if v != reports.Pass {
		d.Failures = []string{"rto.api: 31.2s exceeds 20s"}
	}
	return d
}

// writeDrills writes drills under dir as the drills themselves would.
func writeDrills(t *testing.T, dir string, drills ...reports.Drill) {
	t.Helper()
	for _, d := range drills {
		if _, err := reports.WriteDrill(dir, d); err != nil {
			t.Fatal(err)
		}
	}
}

// run executes `report <args>` and returns what it printed and its error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return clitest.Run(t, NewCommand, args...)
}

func TestCollect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		drills  []reports.Drill
		wantErr string
	}{
		{
			name:   "all pass",
			drills: []reports.Drill{drill("a", 0, reports.Pass), drill("b", 2, reports.Pass)},
		},
		{
			name: "some fail",
			drills: []reports.Drill{
				drill("c", 4, reports.Error), drill("a", 0, reports.Pass), drill("b", 2, reports.Fail),
			},
			wantErr: "2 of 3 drills failed: b, c",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeDrills(t, dir, tc.drills...)
			out, err := run(t, "--dir", dir)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}

			// The table is printed whatever the verdicts.
			for _, d := range tc.drills {
				if !strings.Contains(out, "\n"+d.Name+"  ") {
					t.Errorf("table lacks drill %s:\n%s", d.Name, out)
				}
			}
			r, err := reports.Read(filepath.Join(dir, JSONFile))
			if err != nil {
				t.Fatalf("report.json: %v", err)
			}
			if len(r.Drills) != len(tc.drills) || r.Drills[0].Name != "a" {
				t.Errorf("report.json holds %d drills starting with %q, want %d starting with a",
					len(r.Drills), r.Drills[0].Name, len(tc.drills))
			}
			for f, want := range map[string]string{
				MarkdownFile: "| b | kill-control-plane | node drill-control-plane2 |",
				HTMLFile:     "<tr data-drill=\"b\">\n<td><a href=\"#drill-b\">b</a></td>",
				JUnitFile:    `<testcase name="b" classname="kill-control-plane" time="60.000">`,
			} {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil || !bytes.Contains(data, []byte(want)) {
					t.Errorf("%s lacks %q (%v):\n%s", f, want, err, data)
				}
			}
		})
	}
}

func TestNoDrills(t *testing.T) {
	dir := t.TempDir()
	_, err := run(t, "--dir", dir)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error %v, want one naming %s", err, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, JSONFile)); !os.IsNotExist(err) {
		t.Errorf("report.json written without drills: %v", err)
	}
}

func TestMalformedDrill(t *testing.T) {
	dir := t.TempDir()
	writeDrills(t, dir, drill("a", 0, reports.Pass))
	bad := filepath.Join(dir, reports.DrillsDir, "b.json")
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "--dir", dir); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %v, want one naming %s", err, bad)
	}
}

func TestFrom(t *testing.T) {
	src := t.TempDir()
	r := reports.Report{
		Cluster: "drill",
		Started: t0, Finished: t0.Add(3 * time.Minute),
		Drills: []reports.Drill{drill("a", 0, reports.Pass), drill("b", 2, reports.Fail)},
	}
	from := filepath.Join(src, JSONFile)
	if err := reports.Write(from, r); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}

	// Beside the file.
	out, err := run(t, "--from", from)
	if err == nil || err.Error() != "1 of 2 drills failed: b" {
		t.Errorf("error %v, want 1 of 2 drills failed: b", err)
	}
	if !strings.Contains(out, "2 drills: 1 pass, 1 fail") {
		t.Errorf("table:\n%s", out)
	}
	md, err := os.ReadFile(filepath.Join(src, MarkdownFile))
	if err != nil || !bytes.Contains(md, []byte("- Cluster: `drill`")) {
		t.Errorf("report.md beside the file: %v\n%s", err, md)
	}
	if after, err := os.ReadFile(from); err != nil || !bytes.Equal(after, before) {
		t.Errorf("--from rewrote %s (%v)", from, err)
	}

	// To --dir.
	dst := filepath.Join(t.TempDir(), "out")
	if _, err := run(t, "--from", from, "--dir", dst); err == nil {
		t.Error("no error for a failed drill")
	}
	for _, f := range []string{MarkdownFile, HTMLFile, JUnitFile} {
		if _, err := os.Stat(filepath.Join(dst, f)); err != nil {
			t.Errorf("--dir: %v", err)
		}
	}
}

func TestFromOtherSchema(t *testing.T) {
	from := filepath.Join(t.TempDir(), JSONFile)
	if err := os.WriteFile(from, []byte(`{"schemaVersion": "drill.sre/report/v0", "drills": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, "--from", from)
	if err == nil || !strings.Contains(err.Error(), "drill.sre/report/v0") || !strings.Contains(err.Error(), from) {
		t.Fatalf("error %v, want one naming the file and its version", err)
	}
}

// writeHistory writes historytest's 30 runs, the regression in run
// regressionRun, and returns the runs directory.
func writeHistory(t *testing.T, regressionRun int) historytest.Want {
	t.Helper()
	o := historytest.DefaultOptions()
	o.RegressionRun = regressionRun
	want, err := historytest.Write(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func TestHistory(t *testing.T) {
	want := writeHistory(t, 24)
	out, err := run(t, "--history", want.Dir)
	if err != nil {
		t.Fatalf("error: %v", err)
	}
	for _, s := range []string{
		"30 runs from " + want.RunIDs[0] + " to " + want.RunIDs[29] + ", 5 drills\n",
		historytest.FlakyDrill + " ",
		"flaky (9 flips)",
		"no regression in the newest run " + want.RunIDs[29],
		"1 regression in earlier runs",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("summary lacks %q:\n%s", s, out)
		}
	}
	index, err := os.ReadFile(filepath.Join(want.Dir, HistoryDir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(index, []byte(`<table class="grid">`)) || !bytes.Contains(index, []byte(want.RegressionRunID)) {
		t.Errorf("index.html lacks the grid or the regression")
	}

	// Again, with the site beside the runs: it is not a run.
	if _, err := run(t, "--history", want.Dir); err != nil {
		t.Fatalf("second run: %v", err)
	}

	// Elsewhere.
	dst := filepath.Join(t.TempDir(), "site")
	if _, err := run(t, "--history", want.Dir, "--out", dst); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.html", "drill-" + historytest.FlakyDrill + ".html"} {
		if _, err := os.Stat(filepath.Join(dst, f)); err != nil {
			t.Errorf("--out: %v", err)
		}
	}
}

func TestHistoryFailOnRegression(t *testing.T) {
	for _, tc := range []struct {
		name          string
		regressionRun int
		args          []string
		wantErr       string
	}{
		{name: "regression in an earlier run", regressionRun: 24, args: []string{"--fail-on-regression"}},
		{name: "regression in the newest run, not asked to fail", regressionRun: 29},
		{
			name: "regression in the newest run", regressionRun: 29, args: []string{"--fail-on-regression"},
			wantErr: "regressed: " + historytest.RegressedDrill + " " + historytest.RegressedFigure,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := writeHistory(t, tc.regressionRun)
			out, err := run(t, append([]string{"--history", want.Dir}, tc.args...)...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), want.RunIDs[29])):
				t.Fatalf("error %v, want one naming %s and %q", err, want.RunIDs[29], tc.wantErr)
			}
			// The site and the summary are written whatever the outcome.
			if !strings.Contains(out, "30 runs") {
				t.Errorf("no summary:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(want.Dir, HistoryDir, "index.html")); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestHistoryFlags(t *testing.T) {
	runsDir := writeHistory(t, 24).Dir
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "with --dir", args: []string{"--history", runsDir, "--dir", runsDir}, wantErr: "takes no --dir, --from"},
		{name: "with --from", args: []string{"--history", runsDir, "--from", "report.json"}, wantErr: "takes no --dir, --from"},
		{name: "with --format", args: []string{"--history", runsDir, "--format", "summary"}, wantErr: "--format"},
		{name: "--out alone", args: []string{"--out", t.TempDir()}, wantErr: "go with --history"},
		{name: "--fail-on-regression alone", args: []string{"--fail-on-regression"}, wantErr: "go with --history"},
		{name: "no runs", args: []string{"--history", t.TempDir()}, wantErr: "no runs in"},
		{name: "no such directory", args: []string{"--history", filepath.Join(t.TempDir(), "none")}, wantErr: "load history"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	dir := t.TempDir()
	writeDrills(t, dir, drill("a", 0, reports.Pass), drill("b", 2, reports.Fail))

	// Every file is written whatever is printed.
	out, err := run(t, "--dir", dir, "--format", "prometheus")
	if err == nil || err.Error() != "1 of 2 drills failed: b" {
		t.Errorf("error %v, want 1 of 2 drills failed: b", err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(out))
	if err != nil {
		t.Fatalf("stdout is not the exposition format: %v\n%s", err, out)
	}
	if mf := fams["drill_objective_value_seconds"]; mf == nil || len(mf.Metric) != 2 || mf.Metric[0].GetGauge().GetValue() != 11.3 {
		t.Errorf("drill_objective_value_seconds: %v", mf)
	}
	prom, err := os.ReadFile(filepath.Join(dir, PrometheusFile))
	if err != nil || string(prom) != out {
		t.Errorf("%s differs from stdout (%v):\n%s", PrometheusFile, err, prom)
	}

	out, _ = run(t, "--dir", dir, "--format", "summary", "--link", "https://example.com/r/report.html")
	for _, want := range []string{"## ❌ Drills: 1 of 2 did not pass", "| b | ❌ **fail** | api 11.3s / 20s |", "[https://example.com/r/report.html]"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if md, err := os.ReadFile(filepath.Join(dir, SummaryFile)); err != nil || string(md) != out {
		t.Errorf("%s differs from stdout (%v)", SummaryFile, err)
	}

	// The table by default.
	if out, _ := run(t, "--dir", dir); !strings.Contains(out, "2 drills: 1 pass, 1 fail") {
		t.Errorf("table:\n%s", out)
	}
	if _, err := run(t, "--dir", dir, "--format", "json"); err == nil || !strings.Contains(err.Error(), `--format "json"`) {
		t.Errorf("error %v, want one naming the format", err)
	}
}
