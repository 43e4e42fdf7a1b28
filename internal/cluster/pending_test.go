package cluster

import (
	"context"
	"os"
	"path/filepath"
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
		built := map[string]bool{"a": true}
		present := func(_ context.Context, image string) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return built[image], nil
		}
		building := true
		running := func() bool { mu.Lock(); defer mu.Unlock(); return building }
		var out syncBuffer
		logs := NewWriterLogger(&out, 0)
		// The build makes b after 2 minutes: the wait ends then, having
		// said what it waited for.
		go func() {
			time.Sleep(2 * time.Minute)
			mu.Lock()
			built["b"] = true
			mu.Unlock()
		}()
		start := time.Now()
		if err := awaitImages(context.Background(), logs, []string{"a", "b"}, present, running, "bg.log", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < 2*time.Minute || waited > 2*time.Minute+5*time.Second {
			t.Errorf("waited %s, want 2m (one poll at most more)", waited)
		}
		if !strings.Contains(out.String(), "Waiting for b, which make images is building in the background") {
			t.Errorf("nothing said of the wait: %q", out.String())
		}

		// The build ends without c: an error naming c and the log.
		go func() {
			time.Sleep(time.Minute)
			mu.Lock()
			building = false
			mu.Unlock()
		}()
		err := awaitImages(context.Background(), logs, []string{"a", "c"}, present, running, "bg.log", 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), "images c are missing") || !strings.Contains(err.Error(), "bg.log") {
			t.Errorf("err %v: want c missing, naming bg.log", err)
		}

		// No build under way: nothing to wait for, LoadImages reports.
		if err := awaitImages(context.Background(), logs, []string{"c"}, present, running, "bg.log", 5*time.Second); err != nil {
			t.Errorf("without a build: %v", err)
		}
	})
}

func TestBackgroundBuildRunning(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "background.pid")
	b := &backgroundBuild{pidFile: pidFile}
	if b.running() {
		t.Error("running without a PID file")
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !b.running() {
		t.Error("this process is not seen running")
	}
	if b.log() != filepath.Join(dir, "background.log") {
		t.Errorf("log %s", b.log())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
