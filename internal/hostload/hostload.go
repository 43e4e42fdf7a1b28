// Package hostload records how starved the machine running drill was while a
// drill ran: the kernel's pressure stall information (/proc/pressure/cpu and
// memory, the avg10 figures) sampled for the whole drill. A figure measured
// on a saturated machine then says so, instead of passing for the cluster's
// own behaviour.
package hostload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultDir is where Linux publishes pressure stall information.
const DefaultDir = "/proc/pressure"

// Starved thresholds: a drill whose host was above either is flagged.
const (
	// CPUSomeMeanStarved is the mean share of time (percent) some task
	// waited for a CPU.
	CPUSomeMeanStarved = 50.0
	// MemoryFullMaxStarved is the highest share of time (percent) every
	// task stalled on memory.
	MemoryFullMaxStarved = 10.0
)

// Stat is a pressure figure over the samples: avg10, in percent.
type Stat struct {
	Mean float64 `json:"mean"`
	Max  float64 `json:"max"`
}

// Summary is the host's pressure over a drill.
type Summary struct {
	Samples    int  `json:"samples"`
	CPUSome    Stat `json:"cpuSome"`
	MemorySome Stat `json:"memorySome"`
	MemoryFull Stat `json:"memoryFull"`
	// Unavailable says why nothing was measured ("" when it was).
	Unavailable string `json:"unavailable,omitempty"`
}

// Starved says why the host was too busy for the drill's figures to stand
// for the cluster alone, "" when it was not.
func (s Summary) Starved() string {
	var why []string
	if s.Samples == 0 {
		return ""
	}
	if s.CPUSome.Mean >= CPUSomeMeanStarved {
		why = append(why, fmt.Sprintf("tasks waited for a CPU %.0f%% of the time on average (at most %.0f%%; flagged from %.0f%%)", s.CPUSome.Mean, s.CPUSome.Max, CPUSomeMeanStarved))
	}
	if s.MemoryFull.Max >= MemoryFullMaxStarved {
		why = append(why, fmt.Sprintf("every task stalled on memory up to %.0f%% of the time (flagged from %.0f%%)", s.MemoryFull.Max, MemoryFullMaxStarved))
	}
	return strings.Join(why, "; ")
}

// String sums the pressure up in one line.
func (s Summary) String() string {
	if s.Samples == 0 {
		if s.Unavailable != "" {
			return "host pressure not measured: " + s.Unavailable
		}
		return "host pressure not measured"
	}
	return fmt.Sprintf("host CPU pressure (some, avg10) mean %.0f%% max %.0f%%; memory some max %.0f%%, full max %.0f%% (%d samples)",
		s.CPUSome.Mean, s.CPUSome.Max, s.MemorySome.Max, s.MemoryFull.Max, s.Samples)
}

// Parse reads one pressure file's text: its some and full avg10 figures.
// CPU pressure has no full line on older kernels; full is then 0.
func Parse(text string) (some, full float64, err error) {
	found := false
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, ok := strings.CutPrefix(f[1], "avg10=")
		if !ok {
			return 0, 0, fmt.Errorf("unexpected pressure line %q", line)
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("pressure line %q: %w", line, err)
		}
		switch f[0] {
		case "some":
			some, found = x, true
		case "full":
			full = x
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("no \"some\" line in %q", text)
	}
	return some, full, nil
}

// Sampler reads the pressure files every interval until stopped.
type Sampler struct {
	dir  string
	stop context.CancelFunc
	done chan struct{}

	mu                      sync.Mutex
	sum                     Summary
	cpuSum, memSum, fullSum float64
}

// Start samples the pressure files under dir (DefaultDir if empty) every
// interval, from now until Stop.
func Start(ctx context.Context, dir string, interval time.Duration) *Sampler {
	if dir == "" {
		dir = DefaultDir
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Sampler{dir: dir, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *Sampler) sample() {
	cpu, _, err := s.read("cpu")
	var memSome, memFull float64
	if err == nil {
		memSome, memFull, err = s.read("memory")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.sum.Samples == 0 {
			s.sum.Unavailable = err.Error()
		}
		return
	}
	s.sum.Samples++
	s.sum.Unavailable = ""
	s.cpuSum += cpu
	s.memSum += memSome
	s.fullSum += memFull
	s.sum.CPUSome.Max = max(s.sum.CPUSome.Max, cpu)
	s.sum.MemorySome.Max = max(s.sum.MemorySome.Max, memSome)
	s.sum.MemoryFull.Max = max(s.sum.MemoryFull.Max, memFull)
}

func (s *Sampler) read(name string) (some, full float64, err error) {
	path := filepath.Join(s.dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	some, full, err = Parse(string(b))
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return some, full, nil
}

// Stop ends the sampling and sums it up.
func (s *Sampler) Stop() Summary {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sum
	if n := float64(out.Samples); n > 0 {
		out.CPUSome.Mean = s.cpuSum / n
		out.MemorySome.Mean = s.memSum / n
		out.MemoryFull.Mean = s.fullSum / n
	}
	return out
}
