package runs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestNewKeepsRunsSideBySide(t *testing.T) {
	root := filepath.Join(t.TempDir(), "runs")
	at := time.Date(2026, 12, 7, 3, 15, 0, 0, time.FixedZone("CET", 3600))
	first, err := New(root, at)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(first) != "20261207T021500Z" {
		t.Errorf("run directory %s, want named by its UTC start", first)
	}
	if err := os.WriteFile(filepath.Join(first, "report.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	second, err := New(root, at) // the same second: a second directory
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatalf("two runs share %s", first)
	}
	if _, err := os.Stat(filepath.Join(first, "report.json")); err != nil {
		t.Errorf("the earlier run's report is gone: %v", err)
	}
	link, err := os.Readlink(filepath.Join(root, Latest))
	if err != nil || link != filepath.Base(second) {
		t.Errorf("latest -> %q (%v), want %q", link, err, filepath.Base(second))
	}
}
