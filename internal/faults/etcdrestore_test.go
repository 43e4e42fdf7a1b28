package faults

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
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
