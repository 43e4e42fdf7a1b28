package probeapp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeMachine is a meminfo file whose MemAvailable follows what the hog
// holds, plus what "others" use.
type fakeMachine struct {
	t      *testing.T
	path   string
	total  int64
	mu     sync.Mutex
	wmu    sync.Mutex // one writer of the file at a time
	others int64
	held   int64
	lines  []string
}

func (m *fakeMachine) write() {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.mu.Lock()
	avail := m.total - m.others - m.held
	m.mu.Unlock()
	text := fmt.Sprintf("MemTotal:       %d kB\nMemFree:        1 kB\nMemAvailable:   %d kB\n", m.total>>10, avail>>10)
	if err := os.WriteFile(m.path+".tmp", []byte(text), 0o644); err != nil {
		m.t.Error(err)
	}
	if err := os.Rename(m.path+".tmp", m.path); err != nil {
		m.t.Error(err)
	}
}

// Write takes the hog's log: each line moves the machine's memory.
func (m *fakeMachine) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		st, ok := ParseMemHogLine(l)
		held := st.Held
		if !ok {
			m.t.Errorf("unexpected log line %q", l)
			continue
		}
		m.mu.Lock()
		m.held = held
		m.lines = append(m.lines, l)
		m.mu.Unlock()
	}
	m.write()
	return len(p), nil
}

func (m *fakeMachine) used() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return float64(m.others+m.held) / float64(m.total)
}

func TestMemHogHoldsTheMachineAtTheFraction(t *testing.T) {
	m := &fakeMachine{t: t, path: filepath.Join(t.TempDir(), "meminfo"), total: 64 << 20, others: 16 << 20}
	m.write()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- MemHog(ctx, MemHogConfig{Used: 0.9, Meminfo: m.path, Tick: time.Millisecond}, m) }()

	waitUntil(t, "the hog to fill the machine to 90%", func() bool { return m.used() >= 0.89 })
	if u := m.used(); u > 0.91 {
		t.Errorf("used %.3f after filling, want about 0.90", u)
	}
	// Something else grows by 8 MiB: the hog gives memory back.
	m.mu.Lock()
	m.others += 8 << 20
	m.mu.Unlock()
	m.write()
	waitUntil(t, "the hog to give memory back", func() bool { return m.used() <= 0.92 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestMemHogRefusesABadFraction(t *testing.T) {
	for _, used := range []float64{0, 1, -0.5, 1.5} {
		if err := MemHog(context.Background(), MemHogConfig{Used: used, Meminfo: "/nonexistent", Tick: time.Millisecond}, os.Stderr); err == nil {
			t.Errorf("used %v: no error", used)
		}
	}
}

func TestMemHogGivesMemoryBackWhenTheMachineStalls(t *testing.T) {
	m := &fakeMachine{t: t, path: filepath.Join(t.TempDir(), "meminfo"), total: 64 << 20, others: 16 << 20}
	m.write()
	psi := filepath.Join(t.TempDir(), "memory")
	setStall := func(full float64) {
		text := fmt.Sprintf("some avg10=%.2f avg60=0.00 avg300=0.00 total=1\nfull avg10=%.2f avg60=0.00 avg300=0.00 total=1\n", full*2, full)
		if err := os.WriteFile(psi+".tmp", []byte(text), 0o644); err != nil {
			t.Error(err)
		}
		if err := os.Rename(psi+".tmp", psi); err != nil {
			t.Error(err)
		}
	}
	setStall(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	cfg := MemHogConfig{Used: 0.9, Meminfo: m.path, Pressure: psi, MaxStall: 10, Cooldown: time.Hour, Tick: time.Millisecond}
	go func() { done <- MemHog(ctx, cfg, m) }()

	waitUntil(t, "the hog to fill the machine to 90%", func() bool { return m.used() >= 0.89 })
	setStall(9.5) // stalling, under the guard: the hog holds on
	time.Sleep(20 * time.Millisecond)
	if u := m.used(); u < 0.89 {
		t.Errorf("used %.3f at a stall under the guard, want the hog to hold 0.90", u)
	}
	setStall(42)
	waitUntil(t, "the hog to give everything back", func() bool { return m.used() <= 0.25+0.001 })
	setStall(0) // calm again, but in the cooldown: the hog takes nothing
	time.Sleep(20 * time.Millisecond)
	if u := m.used(); u > 0.251 {
		t.Errorf("used %.3f in the cooldown, want only the others' 0.25", u)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var backoffs int
	for _, l := range m.lines {
		if st, _ := ParseMemHogLine(l); st.Stall == 42 {
			backoffs++
		}
	}
	if backoffs == 0 {
		t.Errorf("no line says stall=42:\n%s", strings.Join(m.lines, "\n"))
	}
}

func TestMemHogWithoutPSIHoldsAnyway(t *testing.T) {
	m := &fakeMachine{t: t, path: filepath.Join(t.TempDir(), "meminfo"), total: 64 << 20, others: 16 << 20}
	m.write()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	cfg := MemHogConfig{Used: 0.9, Meminfo: m.path, Pressure: "/nonexistent/pressure/memory", MaxStall: 10, Tick: time.Millisecond}
	go func() { done <- MemHog(ctx, cfg, m) }()
	waitUntil(t, "the hog to fill the machine to 90%", func() bool { return m.used() >= 0.89 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestParseMemHogLine(t *testing.T) {
	st, ok := ParseMemHogLine("memhog: used=0.931 held=12884901888\n")
	if !ok || st != (MemHogState{Used: 0.931, Held: 12884901888}) {
		t.Errorf("got %+v %v", st, ok)
	}
	st, ok = ParseMemHogLine("memhog: used=0.850 held=1024 stall=12.50")
	if !ok || st != (MemHogState{Used: 0.85, Held: 1024, Stall: 12.5}) {
		t.Errorf("got %+v %v", st, ok)
	}
	for _, l := range []string{"", "time=... level=INFO", "memhog: used=x held=1", "memhog: used=0.9 held=1 stall=x"} {
		if _, ok := ParseMemHogLine(l); ok {
			t.Errorf("%q parsed", l)
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
