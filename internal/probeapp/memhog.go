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

// MemHogLine starts the log line the hog writes at every change; the rest
// is "used=0.931 held=12884901888": the fraction of the machine's memory in
// use after the change, and the bytes the hog holds. Faults read it from
// the pod's log.
const MemHogLine = "memhog:"

// MemHog keeps the machine's memory in use at a fraction of its total:
// every tick it reads meminfo (a /proc/meminfo; a container sees its
// machine's), and while less than used is in use (1 - MemAvailable /
// MemTotal) it allocates and touches another chunk of at most 256 MiB;
// when more than used+slack is, because something else grew, it gives the
// newest chunk back. It runs until ctx is done.
func MemHog(ctx context.Context, used float64, meminfo string, tick time.Duration, log io.Writer) error {
	if used <= 0 || used >= 1 {
		return fmt.Errorf("used %v: want a fraction between 0 and 1", used)
	}
	const (
		maxChunk = 256 << 20
		slack    = 0.02
		page     = 4096
	)
	var (
		chunks [][]byte
		held   int64
	)
	report := func(frac float64) {
		fmt.Fprintf(log, "%s used=%.3f held=%d\n", MemHogLine, frac, held)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		total, avail, err := readMeminfo(meminfo)
		if err != nil {
			return err
		}
		frac := 1 - float64(avail)/float64(total)
		switch {
		case frac < used:
			n := min(int64((used-frac)*float64(total)), maxChunk)
			if n >= page {
				b := make([]byte, n)
				for i := 0; i < len(b); i += page {
					b[i] = 1
				}
				chunks, held = append(chunks, b), held+n
				report(frac + float64(n)/float64(total))
			}
		case frac > used+slack && len(chunks) > 0:
			last := chunks[len(chunks)-1]
			chunks, held = chunks[:len(chunks)-1], held-int64(len(last))
			debug.FreeOSMemory()
			report(frac - float64(len(last))/float64(total))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
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

// ParseMemHogLine reads a MemHogLine: the fraction in use and the bytes
// held. ok is false for any other line.
func ParseMemHogLine(line string) (used float64, held int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(line), MemHogLine)
	if !found {
		return 0, 0, false
	}
	var err1, err2 error
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "used":
			used, err1 = strconv.ParseFloat(v, 64)
		case "held":
			held, err2 = strconv.ParseInt(v, 10, 64)
		}
	}
	return used, held, err1 == nil && err2 == nil
}

// memHogMain runs `probe-app memhog --used F`.
func memHogMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe-app memhog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	used := fs.Float64("used", 0.93, "fraction of the machine's memory to keep in use")
	tick := fs.Duration("tick", 500*time.Millisecond, "how often to read /proc/meminfo")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := MemHog(ctx, *used, "/proc/meminfo", *tick, stderr); err != nil {
		slog.New(slog.NewTextHandler(stderr, nil)).Error("memhog failed", "err", err)
		return 1
	}
	return 0
}
