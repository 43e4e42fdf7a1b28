package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/drill-sre/drill/internal/timing"
)

// Duration is how long the drill sampled: Finished - Started, or zero when
// either is unknown.
func (d Drill) Duration() time.Duration {
	if d.Started.IsZero() || d.Finished.Before(d.Started) {
		return 0
	}
	return d.Finished.Sub(d.Started)
}

// NotPassed returns the drills whose verdict is not Pass, in report order.
func (r Report) NotPassed() []Drill {
	var out []Drill
	for _, d := range r.Drills {
		if d.Verdict != Pass {
			out = append(out, d)
		}
	}
	return out
}

// failingObjectives returns the objectives of d whose verdict is not Pass.
func failingObjectives(d Drill) []Objective {
	var out []Objective
	for _, o := range d.Objectives {
		if o.Verdict != Pass {
			out = append(out, o)
		}
	}
	return out
}

// describeObjective says what an objective measured against its bound, for
// failure messages: "rto.api: measured 31.2s, bound 20s (fail)".
func describeObjective(o Objective) string {
	s := fmt.Sprintf("%s: measured %s, bound %s (%s)", o.Name, orDash(o.Measured), orDash(o.Bound), o.Verdict)
	if o.Detail != "" {
		s += ": " + o.Detail
	}
	return s
}

// seconds formats a duration in seconds with one decimal: "11.3s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// drillDuration formats how long d ran, or "-" when unknown.
func drillDuration(d Drill) string {
	if d.Started.IsZero() || d.Finished.IsZero() || d.Finished.Before(d.Started) {
		return "-"
	}
	return seconds(d.Duration())
}

// offset formats t relative to origin: "+2.1s", "-0.5s".
func offset(t, origin time.Time) string {
	d := t.Sub(origin)
	if d < 0 {
		return "-" + seconds(-d)
	}
	return "+" + seconds(d)
}

// value formats a measured number with its unit: seconds with one decimal
// ("11.3s"), other numbers to at most three decimals ("2 count").
func value(v float64, unit string) string {
	switch unit {
	case "s":
		return fmt.Sprintf("%.1fs", v)
	case "":
		return number(v)
	case "ms":
		return number(v) + unit
	default:
		return number(v) + " " + unit
	}
}

// number formats v to at most three decimals, without trailing zeros.
func number(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip shortens s to at most n runes, marking a cut with "…", and folds it
// onto one line.
func clip(s string, n int) string {
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine folds line breaks, tabs and other control characters into single
// spaces.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// timestamp formats t for people, in UTC, or "-" when zero.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// trimLines removes the spaces tabwriter leaves at the end of lines whose
// last cells are empty.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// breakdownText sums a breakdown up in one line: "wall 6m12s: declared
// waits 3m10s (51%), ...", with the time no phase covered last.
func breakdownText(b timing.Breakdown) string {
	if b.Wall <= 0 {
		return "not recorded"
	}
	parts := make([]string, 0, len(timing.Buckets)+1)
	for _, k := range timing.Buckets {
		parts = append(parts, fmt.Sprintf("%s %s (%s)", k, durationShort(b.Buckets[k]), percent(b.Share(b.Buckets[k]))))
	}
	if b.Unattributed > 0 {
		parts = append(parts, fmt.Sprintf("not attributed %s (%s)", durationShort(b.Unattributed), percent(b.Share(b.Unattributed))))
	}
	return fmt.Sprintf("wall %s: %s", durationShort(b.Wall), strings.Join(parts, ", "))
}

// durationShort rounds d to the second ("6m12s"), or to the tenth below a
// minute.
func durationShort(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func percent(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

// bucketNames are the columns of a time breakdown: each bucket of package
// timing, then the time no phase covered.
func bucketNames() []string {
	names := make([]string, 0, len(timing.Buckets)+1)
	for _, k := range timing.Buckets {
		names = append(names, string(k))
	}
	return append(names, "not attributed")
}

// breakdownCells are a breakdown's wall time, then each bucket's time and
// share as bucketNames orders them ("15s (8%)").
func breakdownCells(t timing.Breakdown) []string {
	c := []string{durationShort(t.Wall)}
	for _, k := range timing.Buckets {
		c = append(c, fmt.Sprintf("%s (%s)", durationShort(t.Buckets[k]), percent(t.Share(t.Buckets[k]))))
	}
	return append(c, fmt.Sprintf("%s (%s)", durationShort(t.Unattributed), percent(t.Share(t.Unattributed))))
}
