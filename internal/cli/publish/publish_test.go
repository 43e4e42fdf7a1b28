package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drill-sre/drill/internal/cli/clitest"
	runscli "github.com/drill-sre/drill/internal/cli/runs"
	"github.com/drill-sre/drill/reports/history/historytest"
)

func TestPublish(t *testing.T) {
	want, err := historytest.Write(t.TempDir(), historytest.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "site")
	newest := want.RunIDs[len(want.RunIDs)-1]

	out, err := clitest.Run(t, NewCommand, "--to", dest, "--runs", want.Dir, "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Would write ", "  runs.json\n", "  latest/index.html\n", "Runs: 30 from " + want.Dir + ", 0 published earlier; latest " + newest} {
		if !strings.Contains(out, s) {
			t.Errorf("dry run: output lacks %q:\n%s", s, out)
		}
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("a dry run wrote %s", dest)
	}

	out, err = clitest.Run(t, NewCommand, "--to", dest, "--runs", want.Dir)
	if err != nil || !strings.Contains(out, "Published to "+dest+": ") || !strings.Contains(out, "History: 6 pages over 30 runs") {
		t.Errorf("publish (%v):\n%s", err, out)
	}
	if out, err = clitest.Run(t, NewCommand, "--to", dest, "--runs", want.Dir); err != nil || !strings.Contains(out, ": 0 files written") {
		t.Errorf("publish again (%v):\n%s", err, out)
	}

	// drill runs fetch brings the runs back to a fresh machine.
	fresh := filepath.Join(t.TempDir(), "runs")
	out, err = clitest.Run(t, runscli.NewCommand, "fetch", "--from", dest, "--root", fresh)
	if err != nil || !strings.Contains(out, "Fetched 30 runs from "+dest+" into "+fresh+" (0 there already)") {
		t.Errorf("fetch (%v):\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(fresh, newest, "report.json")); err != nil {
		t.Error(err)
	}
}

func TestPublishErrors(t *testing.T) {
	runs := t.TempDir()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no --to", []string{"--runs", runs}, `required flag(s) "to" not set`},
		{"into the runs", []string{"--to", runs, "--runs", runs}, "is the runs directory"},
		{"a file", []string{"--to", file, "--runs", runs}, "is not a directory"},
		{"another scheme", []string{"--to", "gs://bucket/site", "--runs", runs}, "gs:// is not supported"},
		{"nothing to publish", []string{"--to", t.TempDir(), "--runs", runs}, "nothing to publish"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := clitest.Run(t, NewCommand, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one saying %q", err, tc.wantErr)
			}
		})
	}
}
