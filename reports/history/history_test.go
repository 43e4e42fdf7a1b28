package history

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drill-sre/drill/reports"
)

var t0 = time.Date(2026, 12, 7, 3, 15, 0, 0, time.UTC)

// writeReport writes a report.json holding drills under dir/id.
func writeReport(t *testing.T, dir, id string, started time.Time, drills ...reports.Drill) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
		t.Fatal(err)
	}
	r := reports.Report{Started: started, Drills: drills}
	if err := reports.Write(filepath.Join(dir, id, ReportFile), r); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	a := reports.Drill{Name: "a", Verdict: reports.Pass, Started: t0}
	// Named out of order: the report's start wins over the name.
	writeReport(t, dir, "20261207T031500Z", t0.Add(48*time.Hour), a)
	writeReport(t, dir, "20261208T031500Z", t0, a)
	// No start in the report: the name's.
	writeReport(t, dir, "20261208T031500Z-2", time.Time{}, reports.Drill{Name: "a", Verdict: reports.Fail})
	// Collected from its drills.
	if _, err := reports.WriteDrill(filepath.Join(dir, "20261210T000000Z"), reports.Drill{Name: "b", Verdict: reports.Pass, Started: t0.Add(72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Skipped: neither report.json nor drills/, an empty drills/, a file,
	// a hidden directory, the latest link.
	for _, d := range []string{"20261201T000000Z", "20261202T000000Z/drills", "history", ".hidden/drills"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeReport(t, dir, ".hidden", t0, a)
	if err := os.WriteFile(filepath.Join(dir, "20261201T000000Z", "junit.xml"), []byte("<testsuites/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("20261210T000000Z", filepath.Join(dir, "latest")); err != nil {
		t.Fatal(err)
	}

	h, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range h.Runs {
		ids = append(ids, r.ID)
	}
	want := []string{"20261208T031500Z", "20261208T031500Z-2", "20261207T031500Z", "20261210T000000Z"}
	if !slices.Equal(ids, want) {
		t.Fatalf("runs %v, want %v", ids, want)
	}
	if got := h.Runs[1].Started; !got.Equal(time.Date(2026, 12, 8, 3, 15, 0, 0, time.UTC)) {
		t.Errorf("a run without a start started %v, want its name's time", got)
	}
	if got := h.Runs[3].Report.Drills; len(got) != 1 || got[0].Name != "b" {
		t.Errorf("collected run holds %+v, want drill b", got)
	}
	if got := h.Drills(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("drills %v, want [a b]", got)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		// file is written with data under the runs directory.
		file, data string
	}{
		{name: "malformed report", file: "20261207T031500Z/report.json", data: "{"},
		{name: "other schema", file: "20261207T031500Z/report.json", data: `{"schemaVersion": "drill.sre/report/v0", "drills": []}`},
		{name: "malformed drill", file: "20261207T031500Z/drills/a.json", data: `{"name": `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeReport(t, dir, "20261206T000000Z", t0, reports.Drill{Name: "a", Verdict: reports.Pass})
			path := filepath.Join(dir, tc.file)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s", err, path)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("no error for a runs directory that does not exist")
	}
}
