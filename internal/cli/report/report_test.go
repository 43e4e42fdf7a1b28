package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/cli/clitest"
	"github.com/drill-sre/drill/reports"
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
				HTMLFile:     "<td>b</td>\n<td>kill-control-plane</td>\n<td>node drill-control-plane2</td>",
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
