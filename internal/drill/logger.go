package drill

import (
	"fmt"
	"time"

	"sigs.k8s.io/kind/pkg/log"
)

// stampLogger prefixes every message with the wall-clock time, so that a
// drill's log lines up with its report's intervals.
type stampLogger struct{ l log.Logger }

func stamp(msg string) string { return time.Now().Format("15:04:05.000") + " " + msg }

func (s stampLogger) Warn(msg string) { s.l.Warn(stamp(msg)) }
func (s stampLogger) Warnf(format string, args ...interface{}) {
	s.l.Warn(stamp(fmt.Sprintf(format, args...)))
}
func (s stampLogger) Error(msg string) { s.l.Error(stamp(msg)) }
func (s stampLogger) Errorf(format string, args ...interface{}) {
	s.l.Error(stamp(fmt.Sprintf(format, args...)))
}
func (s stampLogger) V(level log.Level) log.InfoLogger { return stampInfo{s.l.V(level)} }

type stampInfo struct{ i log.InfoLogger }

func (s stampInfo) Info(msg string) { s.i.Info(stamp(msg)) }
func (s stampInfo) Infof(format string, args ...interface{}) {
	s.i.Info(stamp(fmt.Sprintf(format, args...)))
}
func (s stampInfo) Enabled() bool { return s.i.Enabled() }
