package reports

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseBound reads an objective's Bound as a number in unit, for drawing it
// beside the figure (the history's trend charts, report.html's gauges and
// deadlines); ok is false when unsure. The bounds drill writes are
// read:
//
//   - in seconds (unit "s"), a Go duration, after "within" and before "of
//     the revert" ("20.0s", "5m", "within 480.0s", "within 180.0s of the
//     revert": an alert's resolution is measured from the revert too);
//   - in any other unit, a number alone or followed by the unit, maybe
//     qualified by one word ("0 writes", "0 corrupted records", "3"), and
//     a floor of Ready pods ("≥ 2 Ready", in pods).
//
// Anything else ("declared", "none of: …", "0 writes acknowledged before
// the backup lost") is not read.
func ParseBound(bound, unit string) (float64, bool) {
	b := strings.TrimSpace(bound)
	for _, p := range []string{"within ", "≥", "≤", ">=", "<=", "<", ">"} {
		b = strings.TrimSpace(strings.TrimPrefix(b, p))
	}
	first, rest, _ := strings.Cut(b, " ")
	rest = strings.TrimSpace(rest)
	if unit == "s" {
		if rest != "" && rest != "of the revert" {
			return 0, false
		}
		d, err := time.ParseDuration(first)
		if err != nil {
			return 0, false
		}
		return d.Seconds(), true
	}
	v, err := strconv.ParseFloat(first, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	words := strings.Fields(rest)
	switch {
	case len(words) == 0,
		unit != "" && len(words) <= 2 && words[len(words)-1] == unit,
		unit == "pods" && rest == "Ready":
		return v, true
	}
	return 0, false
}
