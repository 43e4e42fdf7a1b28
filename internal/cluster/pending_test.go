package cluster

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestAwaitImages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		pending := []string{"b"}
		building := true
		pendingNow := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(pending) }
		running := func() bool { mu.Lock(); defer mu.Unlock(); return building }
		var out strings.Builder
		logs := NewWriterLogger(&out, 0)
		// The build makes b after 2 minutes: the wait ends then, having
		// said what it waited for.
		go func() {
			time.Sleep(2 * time.Minute)
			mu.Lock()
			pending = nil
			mu.Unlock()
		}()
		start := time.Now()
		if err := awaitImages(context.Background(), logs, pendingNow, running, "bg.log", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < 2*time.Minute || waited > 2*time.Minute+5*time.Second {
			t.Errorf("waited %s, want 2m (one poll at most more)", waited)
		}
		if !strings.Contains(out.String(), "Waiting for b, which make images is building in the background") {
			t.Errorf("nothing said of the wait: %q", out.String())
		}

		// The build ends without c: an error naming c and the log.
		mu.Lock()
		pending = []string{"c"}
		mu.Unlock()
		go func() {
			time.Sleep(time.Minute)
			mu.Lock()
			building = false
			mu.Unlock()
		}()
		err := awaitImages(context.Background(), logs, pendingNow, running, "bg.log", 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), "images c are missing") || !strings.Contains(err.Error(), "bg.log") {
			t.Errorf("err %v: want c missing, naming bg.log", err)
		}

		// Nothing pending: no wait, whether or not a build runs.
		mu.Lock()
		pending = nil
		mu.Unlock()
		if err := awaitImages(context.Background(), logs, pendingNow, running, "bg.log", 5*time.Second); err != nil {
			t.Errorf("nothing pending: %v", err)
		}
	})
}

// Only what the build plans and has not made is waited for: an image it
// never makes is left to LoadImages, whatever Docker has.
func TestBackgroundBuild(t *testing.T) {
	dir := t.TempDir()
	b := &backgroundBuild{pidFile: filepath.Join(dir, "background.pid")}
	write := func(ext, text string) {
		t.Helper()
		if err := os.WriteFile(b.file(ext), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if b.running() {
		t.Error("running without a PID file")
	}
	write(".pid", strconv.Itoa(os.Getpid())+"\n")
	if !b.running() {
		t.Error("this process is not seen running")
	}
	write(".plan", "velero/velero:v1\nversity/versitygw:v1\n")
	write(".done", "velero/velero:v1\n")
	got := b.pending([]string{"velero/velero:v1", "versity/versitygw:v1", "quay.io/prometheus/prometheus:v2"})
	if !slices.Equal(got, []string{"versity/versitygw:v1"}) {
		t.Errorf("pending %q, want only versitygw (planned, not done)", got)
	}
	if b.file(".log") != filepath.Join(dir, "background.log") {
		t.Errorf("log %s", b.file(".log"))
	}
}
