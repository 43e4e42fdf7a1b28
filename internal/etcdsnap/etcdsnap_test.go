package etcdsnap

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSnapshot writes db followed by trailer, as Maintenance.Snapshot
// streams it.
func writeSnapshot(t *testing.T, db, trailer []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "etcd.db")
	if err := os.WriteFile(path, append(append([]byte{}, db...), trailer...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckSHA256(t *testing.T) {
	db := make([]byte, 4096)
	for i := range db {
		db[i] = byte(i * 7)
	}
	sum := sha256.Sum256(db)
	if err := checkSHA256(writeSnapshot(t, db, sum[:])); err != nil {
		t.Errorf("intact snapshot: %v", err)
	}

	corrupt := append([]byte{}, db...)
	corrupt[100] ^= 0xff
	if err := checkSHA256(writeSnapshot(t, corrupt, sum[:])); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("a flipped byte: got %v, want corrupt", err)
	}
	if err := checkSHA256(writeSnapshot(t, db[:1000], nil)); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a truncated file: got %v, want truncated", err)
	}
	if err := checkSHA256(filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("a missing file: want an error")
	}
}

func TestVerifyRefusesNonDatabase(t *testing.T) {
	db := make([]byte, 4096) // zeros: not a bbolt file
	sum := sha256.Sum256(db)
	if _, err := Verify(writeSnapshot(t, db, sum[:])); err == nil || !strings.Contains(err.Error(), "status") {
		t.Errorf("got %v, want a status error", err)
	}
}

func TestLatest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	snaps := []Snapshot{{Path: "a", Requested: t0}, {Path: "c", Requested: t0.Add(60 * time.Second)}, {Path: "b", Requested: t0.Add(30 * time.Second)}}
	if s, ok := Latest(snaps, t0.Add(45*time.Second)); !ok || s.Path != "b" {
		t.Errorf("at 45s: got %q %v, want b", s.Path, ok)
	}
	if _, ok := Latest(snaps, t0.Add(-time.Second)); ok {
		t.Error("before the first: want none")
	}
}

func TestPruneKeepsTheNewestFiles(t *testing.T) {
	dir := t.TempDir()
	s := &Scheduler{Keep: 2}
	t0 := time.Now()
	for i := range 4 {
		path := filepath.Join(dir, fmt.Sprintf("etcd-%d.db", i))
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.taken = append(s.taken, Snapshot{Path: path, Requested: t0.Add(time.Duration(i) * time.Second)})
		s.prune()
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.db"))
	if len(left) != 2 || filepath.Base(left[0]) != "etcd-2.db" || filepath.Base(left[1]) != "etcd-3.db" {
		t.Errorf("files left: %v, want the newest two", left)
	}
	taken, _ := s.Taken()
	if len(taken) != 4 || !taken[0].Pruned || !taken[1].Pruned || taken[2].Pruned {
		t.Errorf("taken = %+v: every snapshot stays listed, the pruned ones marked", taken)
	}
	// A snapshot whose file is gone is never chosen for a restore.
	if got, ok := Latest(taken, t0.Add(1500*time.Millisecond)); ok {
		t.Errorf("Latest chose the pruned %s", got.Path)
	}
	if got, ok := Latest(taken, t0.Add(time.Hour)); !ok || filepath.Base(got.Path) != "etcd-3.db" {
		t.Errorf("Latest = %v, %v", got.Path, ok)
	}
}
