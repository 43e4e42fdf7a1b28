package redact

import (
	"fmt"

	"sigs.k8s.io/kind/pkg/log"
)

// Logger wraps l so that every message it prints is passed through String
// first. Unwrap returns l, for kind's status output, which wants kind's own
// logger to draw its spinner and prints nothing drill recorded.
func Logger(l log.Logger) log.Logger {
	if _, ok := l.(logger); ok {
		return l
	}
	return logger{l}
}

type logger struct{ l log.Logger }

var _ log.Logger = logger{}

// Unwrap returns the wrapped logger.
func (r logger) Unwrap() log.Logger { return r.l }

func (r logger) Warn(message string) { r.l.Warn(String(message)) }
func (r logger) Warnf(format string, args ...any) {
	r.l.Warn(String(fmt.Sprintf(format, args...)))
}
func (r logger) Error(message string) { r.l.Error(String(message)) }
func (r logger) Errorf(format string, args ...any) {
	r.l.Error(String(fmt.Sprintf(format, args...)))
}
func (r logger) V(level log.Level) log.InfoLogger { return infoLogger{r.l.V(level)} }

type infoLogger struct{ l log.InfoLogger }

func (i infoLogger) Info(message string) {
	if i.l.Enabled() {
		i.l.Info(String(message))
	}
}
func (i infoLogger) Infof(format string, args ...any) {
	if i.l.Enabled() {
		i.l.Info(String(fmt.Sprintf(format, args...)))
	}
}
func (i infoLogger) Enabled() bool { return i.l.Enabled() }
