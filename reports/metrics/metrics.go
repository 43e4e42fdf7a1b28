// Package metrics renders a game day's report as Prometheus metrics in the
// text exposition format (version 0.0.4), for node-exporter's textfile
// collector or a Pushgateway: each objective's measured value and bound in
// its unit's base unit, each objective's and drill's verdict, and when the
// game day finished.
//
// The metrics, all gauges, none with a sample timestamp (a textfile
// collector and a Pushgateway stamp samples themselves):
//
//	drill_objective_value_<unit>{drill,objective}   the measured value
//	drill_objective_bound_<unit>{drill,objective}   the declared bound, when it is a number
//	drill_objective_pass{drill,objective}           1 passed, 0 failed or not measured
//	drill_drill_pass{drill}                         1 passed, 0 did not
//	drill_drill_verdict{drill,verdict}              1 for the drill's verdict (pass, fail
//	                                                or error), 0 for the other two
//	drill_report_finished_timestamp_seconds         when the last drill finished (Unix time)
//
// An objective's value is left out when it was not measured: its verdict
// is error, or it failed without a number ("did not fire"); the same rule
// as the history's figures (history.Figures). Units are named as
// Prometheus names them (BaseUnit): an objective in "s" goes to
// drill_objective_value_seconds, one in writes to
// drill_objective_value_writes, and so on.
package metrics

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/drill-sre/drill/internal/redact"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history"
)

// Prefix begins the name of every metric drill writes.
const Prefix = "drill_"

// Label names.
const (
	LabelDrill     = "drill"
	LabelObjective = "objective"
	LabelVerdict   = "verdict"
)

// BaseUnit maps the unit an objective is measured in (reports.Objective's
// Unit) to the base unit Prometheus names metrics by, and the factor that
// converts a value to it:
//
//	s, sec, second, seconds           seconds    x 1
//	ms, millisecond(s)                seconds    x 0.001
//	min, minute(s)                    seconds    x 60
//	h, hour(s)                        seconds    x 3600
//	%, percent                        ratio      x 0.01
//	B, byte(s)                        bytes      x 1
//	"", count, 1                      (none)     x 1
//
// Any other unit names itself, lower case, with every run of characters
// other than a-z and 0-9 made one underscore: writes, pods, records and
// alerts stay as they are. The name is "" for a unit without one: the
// metric is then drill_objective_value, with no suffix.
func BaseUnit(unit string) (name string, factor float64) {
	switch strings.TrimSpace(unit) {
	case "s", "sec", "second", "seconds":
		return "seconds", 1
	case "ms", "millisecond", "milliseconds":
		return "seconds", 0.001
	case "min", "minute", "minutes":
		return "seconds", 60
	case "h", "hour", "hours":
		return "seconds", 3600
	case "%", "percent":
		return "ratio", 0.01
	case "B", "byte", "bytes":
		return "bytes", 1
	case "", "count", "1":
		return "", 1
	}
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(unit) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if underscore && b.Len() > 0 {
				b.WriteByte('_')
			}
			underscore = false
			b.WriteRune(r)
			continue
		}
		underscore = true
	}
	return b.String(), 1
}

// Name returns the name of the metric of kind ("value" or "bound") for an
// objective measured in unit: drill_objective_value_seconds.
func Name(kind, unit string) string {
	name := Prefix + "objective_" + kind
	if base, _ := BaseUnit(unit); base != "" {
		name += "_" + base
	}
	return name
}

// Write writes r's metrics to w in the text exposition format, families
// sorted by name and samples by drill, then objective. A drill that
// appears twice in r, or an objective twice in a drill, counts once,
// first, as in the history. Recorded text in label values is redacted
// (redact.Value) and escaped as the format wants.
func Write(w io.Writer, r reports.Report) error {
	for _, mf := range Families(r) {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return fmt.Errorf("write prometheus metrics: %w", err)
		}
	}
	return nil
}

// Families returns r's metrics, as Write writes them.
func Families(r reports.Report) []*dto.MetricFamily {
	r = redact.Value(r)
	fams := map[string]*dto.MetricFamily{}
	// units records which recorded units each value and bound family
	// gathers, for its help text.
	units := map[string][]string{}
	add := func(name, help string, value float64, labels ...string) {
		mf, ok := fams[name]
		if !ok {
			mf = &dto.MetricFamily{Name: ptr(name), Help: ptr(help), Type: dto.MetricType_GAUGE.Enum()}
			fams[name] = mf
		}
		m := &dto.Metric{Gauge: &dto.Gauge{Value: ptr(value)}}
		for i := 0; i+1 < len(labels); i += 2 {
			m.Label = append(m.Label, &dto.LabelPair{Name: ptr(labels[i]), Value: ptr(labels[i+1])})
		}
		mf.Metric = append(mf.Metric, m)
	}
	seenDrill := map[string]bool{}
	for _, d := range r.Drills {
		if seenDrill[d.Name] {
			continue
		}
		seenDrill[d.Name] = true
		add(Prefix+"drill_pass", "1 when the drill passed (the fault took effect, every objective passed and the revert succeeded), else 0.",
			bool01(d.Verdict == reports.Pass), LabelDrill, d.Name)
		for _, v := range []reports.Verdict{reports.Pass, reports.Fail, reports.Error} {
			add(Prefix+"drill_verdict", "1 for the drill's verdict (pass, fail, or error: it could not measure), 0 for the others.",
				bool01(d.Verdict == v), LabelDrill, d.Name, LabelVerdict, string(v))
		}
		measured := map[string]bool{}
		for _, o := range history.Figures(d) {
			measured[o.Name] = true
		}
		seenObjective := map[string]bool{}
		for _, o := range d.Objectives {
			if seenObjective[o.Name] {
				continue
			}
			seenObjective[o.Name] = true
			add(Prefix+"objective_pass", "1 when the objective passed, 0 when it failed or could not be measured.",
				bool01(o.Verdict == reports.Pass), LabelDrill, d.Name, LabelObjective, o.Name)
			_, factor := BaseUnit(o.Unit)
			if measured[o.Name] {
				name := Name("value", o.Unit)
				units[name] = appendOnce(units[name], o.Unit)
				add(name, "", o.Value*factor, LabelDrill, d.Name, LabelObjective, o.Name)
			}
			if b, ok := reports.ParseBound(o.Bound, o.Unit); ok {
				name := Name("bound", o.Unit)
				units[name] = appendOnce(units[name], o.Unit)
				add(name, "", b*factor, LabelDrill, d.Name, LabelObjective, o.Name)
			}
		}
	}
	if !r.Finished.IsZero() {
		add(Prefix+"report_finished_timestamp_seconds", "When the game day's last drill finished, in seconds since the Unix epoch.",
			float64(r.Finished.UnixMilli())/1000)
	}
	for name, us := range units {
		what := "An objective's measured value"
		if strings.HasPrefix(name, Prefix+"objective_bound") {
			what = "An objective's declared bound"
		}
		in := "as a plain number"
		if base, _ := BaseUnit(us[0]); base != "" {
			in = "in " + base
		}
		for i, u := range us {
			us[i] = fmt.Sprintf("%q", u)
		}
		fams[name].Help = ptr(fmt.Sprintf("%s %s, of the objectives measured in %s.", what, in, strings.Join(us, ", ")))
	}
	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, name := range slices.Sorted(maps.Keys(fams)) {
		mf := fams[name]
		slices.SortStableFunc(mf.Metric, func(a, b *dto.Metric) int {
			for i := 0; i < len(a.Label) && i < len(b.Label); i++ {
				if c := strings.Compare(a.Label[i].GetValue(), b.Label[i].GetValue()); c != 0 {
					return c
				}
			}
			return 0
		})
		out = append(out, mf)
	}
	return out
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func ptr[T any](v T) *T { return &v }
