package cluster

import (
	"fmt"
	"io"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/redact"
)

// step runs one long step of a provider and reports it on the logger's V(0)
// like kind's own status lines: the step's name when it starts, then ✓ or ✗
// with the time it took.
func step(logger log.Logger, name string, fn func() error) error {
	start := time.Now()
	logger.V(0).Infof(" • %s ...", name)
	err := fn()
	elapsed := time.Since(start).Round(100 * time.Millisecond)
	if err != nil {
		logger.V(0).Infof(" ✗ %s (failed after %s)", name, elapsed)
		return err
	}
	logger.V(0).Infof(" ✓ %s (%s)", name, elapsed)
	return nil
}

// WriterLogger is a kind logger that writes every message up to a verbosity
// as one line to w, unadorned like kind's own logger, with credentials
// redacted (redact.String). It is meant for tests and the suites, where
// output goes to a test writer rather than a terminal.
type WriterLogger struct {
	mu        sync.Mutex
	w         io.Writer
	verbosity log.Level
}

var _ log.Logger = (*WriterLogger)(nil)

// NewWriterLogger returns a logger writing to w messages of V-level up to
// verbosity.
func NewWriterLogger(w io.Writer, verbosity log.Level) *WriterLogger {
	return &WriterLogger{w: w, verbosity: verbosity}
}

func (l *WriterLogger) print(msg string) {
	msg = redact.String(msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(msg) == 0 || msg[len(msg)-1] != '\n' {
		msg += "\n"
	}
	_, _ = io.WriteString(l.w, msg)
}

// Warn implements log.Logger.
func (l *WriterLogger) Warn(message string) { l.print(message) }

// Warnf implements log.Logger.
func (l *WriterLogger) Warnf(format string, args ...interface{}) {
	l.Warn(fmt.Sprintf(format, args...))
}

// Error implements log.Logger.
func (l *WriterLogger) Error(message string) { l.print(message) }

// Errorf implements log.Logger.
func (l *WriterLogger) Errorf(format string, args ...interface{}) {
	l.Error(fmt.Sprintf(format, args...))
}

// V implements log.Logger.
func (l *WriterLogger) V(level log.Level) log.InfoLogger {
	return infoLogger{l: l, enabled: level <= l.verbosity}
}

type infoLogger struct {
	l       *WriterLogger
	enabled bool
}

func (i infoLogger) Enabled() bool { return i.enabled }

func (i infoLogger) Info(message string) {
	if i.enabled {
		i.l.print(message)
	}
}

func (i infoLogger) Infof(format string, args ...interface{}) {
	if i.enabled {
		i.l.print(fmt.Sprintf(format, args...))
	}
}

// StampWriter prefixes each write with the seconds since Start, for logs
// whose steps are timed by eye (the integration tests').
type StampWriter struct {
	Start time.Time
	W     io.Writer
	mu    sync.Mutex
}

func (s *StampWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.W, "[%7.1fs] %s", time.Since(s.Start).Seconds(), p)
	return len(p), nil
}
