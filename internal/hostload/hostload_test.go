package hostload

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	some, full, err := Parse("some avg10=35.31 avg60=26.51 avg300=34.44 total=11193130503\nfull avg10=2.50 avg60=0.00 avg300=0.00 total=0\n")
	if err != nil || some != 35.31 || full != 2.5 {
		t.Errorf("Parse = %v, %v, %v; want 35.31, 2.5", some, full, err)
	}
	if _, _, err := Parse("full avg10=1.00 avg60=0 avg300=0 total=0"); err == nil {
		t.Error("a file without a some line parsed")
	}
	if _, _, err := Parse("some avg60=1.00"); err == nil {
		t.Error("a line without avg10 parsed")
	}
}

func write(t *testing.T, dir, name, some, full string) {
	t.Helper()
	text := "some avg10=" + some + " avg60=0.00 avg300=0.00 total=1\nfull avg10=" + full + " avg60=0.00 avg300=0.00 total=1\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSampler(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cpu", "20.00", "0.00")
	write(t, dir, "memory", "1.00", "0.50")
	s := Start(context.Background(), dir, time.Hour)
	// The first sample is taken at once; a second is taken by hand.
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := s.sum.Samples
		s.mu.Unlock()
		if n >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	write(t, dir, "cpu", "80.00", "0.00")
	write(t, dir, "memory", "3.00", "12.00")
	s.sample()
	sum := s.Stop()
	if sum.Samples != 2 || sum.CPUSome.Max != 80 || sum.CPUSome.Mean != 50 || sum.MemoryFull.Max != 12 {
		t.Fatalf("summary %+v: want 2 samples, CPU max 80 mean 50, memory full max 12", sum)
	}
	why := sum.Starved()
	if !strings.Contains(why, "waited for a CPU 50%") || !strings.Contains(why, "memory up to 12%") {
		t.Errorf("Starved() = %q: want both the CPU and the memory reason", why)
	}
}

func TestStarvedThresholds(t *testing.T) {
	cases := []struct {
		s    Summary
		want bool
	}{
		{Summary{Samples: 3, CPUSome: Stat{Mean: 49.9, Max: 100}, MemoryFull: Stat{Max: 9.9}}, false},
		{Summary{Samples: 3, CPUSome: Stat{Mean: 50}}, true},
		{Summary{Samples: 3, MemoryFull: Stat{Max: 10}}, true},
		{Summary{Samples: 0, CPUSome: Stat{Mean: 90}}, false},
	}
	for _, c := range cases {
		if got := c.s.Starved() != ""; got != c.want {
			t.Errorf("%+v: starved = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestUnavailable(t *testing.T) {
	s := Start(context.Background(), filepath.Join(t.TempDir(), "none"), time.Hour)
	sum := s.Stop()
	if sum.Samples != 0 || sum.Unavailable == "" || !strings.Contains(sum.String(), "not measured") {
		t.Errorf("summary %+v (%s): want not measured, with why", sum, sum)
	}
}
