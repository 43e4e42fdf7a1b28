package faults

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The restored data directory reaches the node as a tar stream: every file
// with its bytes and mode, paths relative to the directory.
func TestTarDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "member", "snap"), 0o700); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"member/snap/db": "bbolt bytes", "member/wal/0.wal": "wal bytes"}
	for name, body := range want {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := tarDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	dirs := map[string]os.FileMode{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeDir {
			dirs[h.Name] = os.FileMode(h.Mode).Perm()
			continue
		}
		b, _ := io.ReadAll(tr)
		got[h.Name] = string(b)
		if os.FileMode(h.Mode).Perm() != 0o600 {
			t.Errorf("%s: mode %o, want 600", h.Name, h.Mode)
		}
	}
	for name, body := range want {
		if got[name] != body {
			t.Errorf("%s: %q, want %q", name, got[name], body)
		}
	}
	if len(got) != len(want) {
		t.Errorf("files %v, want %v", got, want)
	}
	if dirs["member"] != 0o700 {
		t.Errorf("member dir mode %o, want 700 (etcd refuses a data dir others can read)", dirs["member"])
	}
}

// A quorum loss kills a majority of the members, never the seeded survivor,
// and leaves one member fewer than a quorum; the same seed picks the same
// nodes, and the seed does choose among them.
func TestQuorumVictims(t *testing.T) {
	for n := 3; n <= 7; n++ {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("cp%d", i)
		}
		survivors := map[string]bool{}
		for seed := int64(0); seed < 50; seed++ {
			victims := quorumVictims(names, seed)
			left := n - len(victims)
			if quorum := n/2 + 1; left != quorum-1 {
				t.Errorf("n=%d seed=%d: %v killed, %d left, want %d (one short of the quorum %d)", n, seed, victims, left, quorum-1, quorum)
			}
			survivor := names[seeded(seed, n)]
			if slices.Contains(victims, survivor) {
				t.Errorf("n=%d seed=%d: victims %v include the survivor %s", n, seed, victims, survivor)
			}
			if len(slices.Compact(slices.Sorted(slices.Values(victims)))) != len(victims) {
				t.Errorf("n=%d seed=%d: victims %v repeat a node", n, seed, victims)
			}
			if again := quorumVictims(names, seed); !slices.Equal(again, victims) {
				t.Errorf("n=%d seed=%d: %v then %v for the same seed", n, seed, victims, again)
			}
			survivors[survivor] = true
		}
		if len(survivors) < 2 {
			t.Errorf("n=%d: 50 seeds spared only %v", n, survivors)
		}
	}
}
