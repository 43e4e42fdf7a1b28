package probeapp

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MemHogCommand is the first argument that runs the probe app as a memory
// hog (see MemHog) instead of a server.
const MemHogCommand = "memhog"

// DefaultMaxStall is the hog's guard (MemHogConfig.MaxStall), in %: 10%
// of the time with every task stalled on memory is a machine thrashing.
const DefaultMaxStall = 10

// MemHogLine starts the log line the hog writes at every change; the rest
// is "used=0.931 held=12884901888": the fraction of the machine's memory in
// use after the change, and the bytes the hog holds; " stall=12.50" follows
// when it gave memory back because the machine stalled. Faults read it from
// the pod's log.
const MemHogLine = "memhog:"

// MemHogConfig says what MemHog holds and how carefully.
type MemHogConfig struct {
	// Used is the fraction of the machine's memory to keep in use.
	Used float64
	// Meminfo is the meminfo file to read (a container sees its machine's
	// /proc/meminfo).
	Meminfo string
	// Pressure is the memory pressure (PSI) file, /proc/pressure/memory;
	// empty, or a file that cannot be read, turns the guard off (said in
	// the log unless the file does not exist).
	Pressure string
	// MaxStall is the guard: when the share of time every task stalled
	// on memory over the last 10 s ("full avg10", in %) goes above it,
	// the machine is thrashing, and the hog gives memory back instead of
	// taking the control plane down with it. Zero turns the guard off.
	MaxStall float64
	// Cooldown is how long the hog takes nothing more after backing off.
	Cooldown time.Duration
	// Tick is how often it reads the files.
	Tick time.Duration
}

// MemHog keeps the machine's memory in use at a fraction of its total:
// every tick it reads meminfo, and while less than Used is in use (1 -
// MemAvailable / MemTotal) it allocates and touches another chunk of at
// most 256 MiB; when more than Used+slack is, because something else grew,
// it gives the newest chunk back. When the machine stalls on memory beyond
// MaxStall, it gives the newest chunk back and waits Cooldown before taking
// more: it says so with stall= in its line. It runs until ctx is done.
func MemHog(ctx context.Context, cfg MemHogConfig, log io.Writer) error {
	used := cfg.Used
	if used <= 0 || used >= 1 {
		return fmt.Errorf("used %v: want a fraction between 0 and 1", used)
	}
	const (
		maxChunk = 256 << 20
		slack    = 0.02
		page     = 4096
	)
	var (
		chunks    [][]byte
		held      int64
		calmAfter time.Time
	)
	report := func(frac, stall float64) {
		line := fmt.Sprintf("%s used=%.3f held=%d", MemHogLine, frac, held)
		if stall > 0 {
			line += fmt.Sprintf(" stall=%.2f", stall)
		}
		fmt.Fprintln(log, line) // one write: a reader takes whole lines
	}
	release := func() int64 {
		last := chunks[len(chunks)-1]
		chunks, held = chunks[:len(chunks)-1], held-int64(len(last))
		debug.FreeOSMemory()
		return int64(len(last))
	}
	guard := cfg.MaxStall > 0 && cfg.Pressure != ""
	t := time.NewTicker(cfg.Tick)
	defer t.Stop()
	for {
		total, avail, err := readMeminfo(cfg.Meminfo)
		if err != nil {
			return err
		}
		frac := 1 - float64(avail)/float64(total)
		stall := -1.0
		if guard {
			if stall, err = readFullStall(cfg.Pressure); err != nil {
				guard, stall = false, -1
				if !errors.Is(err, os.ErrNotExist) { // not existing: no PSI on this kernel
					fmt.Fprintf(log, "memhog guard off: %v\n", err)
				}
			}
		}
		switch {
		case stall > cfg.MaxStall:
			calmAfter = time.Now().Add(cfg.Cooldown)
			if len(chunks) > 0 {
				n := release()
				report(frac-float64(n)/float64(total), stall)
			}
		case frac < used && time.Now().After(calmAfter):
			n := min(int64((used-frac)*float64(total)), maxChunk)
			if n >= page {
				b := make([]byte, n)
				for i := 0; i < len(b); i += page {
					b[i] = 1
				}
				chunks, held = append(chunks, b), held+n
				report(frac+float64(n)/float64(total), 0)
			}
		case frac > used+slack && len(chunks) > 0:
			n := release()
			report(frac-float64(n)/float64(total), 0)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// readFullStall reads "full avg10" of a PSI file: the share of the last
// 10 s, in %, during which every non-idle task stalled.
func readFullStall(path string) (float64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "full" {
			continue
		}
		for _, f := range fields[1:] {
			if v, ok := strings.CutPrefix(f, "avg10="); ok {
				return strconv.ParseFloat(v, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no full avg10", path)
}

// readMeminfo returns MemTotal and MemAvailable, in bytes.
func readMeminfo(path string) (total, avail int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "MemTotal:":
			total = kb << 10
		case "MemAvailable:":
			avail = kb << 10
		}
	}
	if total == 0 || avail == 0 {
		return 0, 0, fmt.Errorf("%s: no MemTotal or MemAvailable", path)
	}
	return total, avail, sc.Err()
}

// MemHogState is what a MemHogLine says.
type MemHogState struct {
	// Used is the fraction of the machine's memory in use after the change.
	Used float64
	// Held is the bytes the hog holds.
	Held int64
	// Stall, when not zero, is the memory stall ("full avg10", %) that made
	// the hog give memory back.
	Stall float64
}

// ParseMemHogLine reads a MemHogLine. ok is false for any other line.
func ParseMemHogLine(line string) (s MemHogState, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(line), MemHogLine)
	if !found {
		return s, false
	}
	var err1, err2, err3 error
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "used":
			s.Used, err1 = strconv.ParseFloat(v, 64)
		case "held":
			s.Held, err2 = strconv.ParseInt(v, 10, 64)
		case "stall":
			s.Stall, err3 = strconv.ParseFloat(v, 64)
		}
	}
	return s, err1 == nil && err2 == nil && err3 == nil
}

// memHogMain runs `probe-app memhog --used F`.
func memHogMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe-app memhog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	used := fs.Float64("used", 0.93, "fraction of the machine's memory to keep in use")
	tick := fs.Duration("tick", 500*time.Millisecond, "how often to read /proc/meminfo")
	maxStall := fs.Float64("max-stall", DefaultMaxStall, "give memory back when every task stalled on memory more than this % of the last 10 s (/proc/pressure/memory full avg10); 0: never")
	cooldown := fs.Duration("cooldown", 30*time.Second, "how long to take no more memory after giving some back under stall")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg := MemHogConfig{Used: *used, Meminfo: "/proc/meminfo", Pressure: "/proc/pressure/memory", MaxStall: *maxStall, Cooldown: *cooldown, Tick: *tick}
	if err := MemHog(ctx, cfg, stderr); err != nil {
		slog.New(slog.NewTextHandler(stderr, nil)).Error("memhog failed", "err", err)
		return 1
	}
	return 0
}
