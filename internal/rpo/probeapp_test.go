package rpo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/probeapp"
)

// The store writes through the real probe app and reads back what is on its
// volume, checking every checksum itself.
func TestProbeAppStore(t *testing.T) {
	dir := t.TempDir()
	app := probeapp.NewServer(probeapp.Config{DataDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(app.Handler())
	defer ts.Close()
	store := ProbeAppStore{URL: ts.URL}
	ctx := context.Background()
	for seq := int64(1); seq <= 3; seq++ {
		if err := store.Write(ctx, seq, time.Now()); err != nil {
			t.Fatalf("write %d: %v", seq, err)
		}
	}
	seqs, in, err := store.ReadBackChecked(ctx)
	if err != nil || !slices.Equal(seqs, []int64{1, 2, 3}) || in.Valid != 3 || len(in.Corrupted) != 0 {
		t.Fatalf("read back %v, %+v, %v; want 1..3 all valid", seqs, in, err)
	}

	// Flip one character of record 2 on the volume.
	path := filepath.Join(dir, probeapp.StoreFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Replace(raw, []byte("drill rpo record 2"), []byte("drill rpo record X"), 1)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	seqs, in, err = store.ReadBackChecked(ctx)
	if err != nil || !slices.Equal(seqs, []int64{1, 3}) || in.Valid != 2 || len(in.Corrupted) != 1 || !strings.Contains(in.Corrupted[0], "line 2") {
		t.Fatalf("after corrupting record 2: %v, %+v, %v; want 1 and 3 valid, line 2 corrupted", seqs, in, err)
	}

	ts.Close()
	if err := store.Write(ctx, 4, time.Now()); err == nil {
		t.Errorf("write to a stopped app: no error")
	}
}
