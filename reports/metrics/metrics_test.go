package metrics

import (
	"bytes"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/drill-sre/drill/reports"
)

var t0 = time.Date(2026, 12, 7, 3, 15, 0, 0, time.UTC)

func report() reports.Report {
	return reports.Report{
		SchemaVersion: reports.SchemaVersion,
		Cluster:       "drill",
		Started:       t0,
		Finished:      t0.Add(6*time.Minute + 500*time.Millisecond),
		Drills: []reports.Drill{
			{
				Name: "kill-apiserver", Verdict: reports.Pass,
				Objectives: []reports.Objective{
					{Name: "rto.api", Bound: "20.0s", Measured: "11.3s", Value: 11.3, Unit: "s", Verdict: reports.Pass},
					{Name: "rpo.maxLostWrites", Bound: "0 writes", Measured: "0 writes", Value: 0, Unit: "writes", Verdict: reports.Pass},
					{Name: "availability", Bound: "≥ 2 Ready", Measured: "2 Ready", Value: 2, Unit: "pods", Verdict: reports.Pass},
					// Twice: the first counts.
					{Name: "rto.api", Bound: "20.0s", Measured: "99.0s", Value: 99, Unit: "s", Verdict: reports.Fail},
				},
			},
			{
				// A name that needs escaping in a label value.
				Name: `crash"loop\pods`, Verdict: reports.Fail,
				Objectives: []reports.Objective{
					{Name: "rto.app", Bound: "10.0s", Measured: "31.2s", Value: 31.2, Unit: "s", Verdict: reports.Fail},
					{Name: "alerts.PodCrashLooping.firing", Bound: "within 480.0s", Measured: "did not fire", Unit: "s", Verdict: reports.Fail},
					{Name: "memory", Bound: "declared", Measured: "12.5 %", Value: 12.5, Unit: "%", Verdict: reports.Pass},
					{Name: "latency", Bound: "250ms", Measured: "120ms", Value: 120, Unit: "ms", Verdict: reports.Pass},
				},
			},
			{
				Name: "etcd-restore", Verdict: reports.Error,
				Objectives: []reports.Objective{
					{Name: "rpo", Bound: "declared", Measured: "not measured", Verdict: reports.Error},
					{Name: "integrity", Bound: "0 corrupted records", Measured: "not measured", Unit: "records", Verdict: reports.Error},
				},
			},
			// The same drill again: the first counts.
			{Name: "kill-apiserver", Verdict: reports.Fail},
		},
	}
}

// parse parses text with Prometheus' own parser.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", text, err)
	}
	return fams
}

// sample returns the value of the sample of family name with labels, and
// fails the test when there is not exactly one.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mf, ok := fams[name]
	if !ok {
		return 0, false
	}
	var found []*dto.Metric
	for _, m := range mf.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			if got[k] != v {
				match = false
			}
		}
		if match {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return 0, false
	case 1:
		if found[0].TimestampMs != nil {
			t.Errorf("%s%v has a timestamp", name, labels)
		}
		return found[0].GetGauge().GetValue(), true
	}
	t.Fatalf("%s%v: %d samples", name, labels, len(found))
	return 0, false
}

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, report()); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	fams := parse(t, text)

	obj := func(drill, objective string) map[string]string {
		return map[string]string{LabelDrill: drill, LabelObjective: objective}
	}
	const crash = `crash"loop\pods`
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"drill_objective_value_seconds", obj("kill-apiserver", "rto.api"), 11.3},
		{"drill_objective_bound_seconds", obj("kill-apiserver", "rto.api"), 20},
		{"drill_objective_pass", obj("kill-apiserver", "rto.api"), 1},
		{"drill_objective_value_writes", obj("kill-apiserver", "rpo.maxLostWrites"), 0},
		{"drill_objective_bound_writes", obj("kill-apiserver", "rpo.maxLostWrites"), 0},
		{"drill_objective_value_pods", obj("kill-apiserver", "availability"), 2},
		{"drill_objective_bound_pods", obj("kill-apiserver", "availability"), 2},
		{"drill_objective_value_seconds", obj(crash, "rto.app"), 31.2},
		{"drill_objective_pass", obj(crash, "rto.app"), 0},
		{"drill_objective_pass", obj(crash, "alerts.PodCrashLooping.firing"), 0},
		{"drill_objective_bound_seconds", obj(crash, "alerts.PodCrashLooping.firing"), 480},
		{"drill_objective_value_ratio", obj(crash, "memory"), 0.125},
		{"drill_objective_value_seconds", obj(crash, "latency"), 0.12},
		{"drill_objective_pass", obj("etcd-restore", "rpo"), 0},
		{"drill_objective_pass", obj("etcd-restore", "integrity"), 0},
		{"drill_drill_pass", map[string]string{LabelDrill: "kill-apiserver"}, 1},
		{"drill_drill_pass", map[string]string{LabelDrill: crash}, 0},
		{"drill_drill_pass", map[string]string{LabelDrill: "etcd-restore"}, 0},
		{"drill_drill_verdict", map[string]string{LabelDrill: "etcd-restore", LabelVerdict: "error"}, 1},
		{"drill_drill_verdict", map[string]string{LabelDrill: "etcd-restore", LabelVerdict: "fail"}, 0},
		{"drill_drill_verdict", map[string]string{LabelDrill: "etcd-restore", LabelVerdict: "pass"}, 0},
		{"drill_drill_verdict", map[string]string{LabelDrill: crash, LabelVerdict: "fail"}, 1},
		{"drill_report_finished_timestamp_seconds", map[string]string{}, float64(t0.Unix()) + 360.5},
	} {
		got, ok := sample(t, fams, tc.name, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}

	// Not measured: no value, however the objective's Value reads.
	for _, tc := range []struct{ name, drill, objective string }{
		{"drill_objective_value_seconds", crash, "alerts.PodCrashLooping.firing"},
		{"drill_objective_value", "etcd-restore", "rpo"},
		{"drill_objective_value_records", "etcd-restore", "integrity"},
		{"drill_objective_bound", "etcd-restore", "rpo"}, // "declared" is no number
	} {
		if v, ok := sample(t, fams, tc.name, obj(tc.drill, tc.objective)); ok {
			t.Errorf("%s{%s,%s} = %v, want none", tc.name, tc.drill, tc.objective, v)
		}
	}

	for name, mf := range fams {
		if !strings.HasPrefix(name, Prefix) || mf.GetType() != dto.MetricType_GAUGE || mf.GetHelp() == "" {
			t.Errorf("family %s: type %v, help %q", name, mf.GetType(), mf.GetHelp())
		}
		for _, m := range mf.Metric {
			if m.TimestampMs != nil {
				t.Errorf("%s has a timestamp", name)
			}
		}
	}
	// Every sample line is a name, maybe labels, and a value: no
	// timestamp after it.
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if i := strings.LastIndex(l, "}"); i >= 0 {
			l = l[i+1:]
		}
		if f := strings.Fields(l); len(f) > 2 || (strings.Contains(l, "}") && len(f) != 1) {
			t.Errorf("sample line with more than a value: %q", l)
		}
	}
	if !strings.Contains(text, `# HELP drill_objective_value_seconds An objective's measured value in seconds, of the objectives measured in "s", "ms".`) {
		t.Errorf("help of the seconds family:\n%s", text)
	}

	// The same report, the same bytes.
	var again bytes.Buffer
	if err := Write(&again, report()); err != nil || again.String() != text {
		t.Errorf("a second rendering differs (%v)", err)
	}
}

func TestWriteRedacts(t *testing.T) {
	r := report()
	r.Drills[0].Objectives[0].Name = "rto.api?token=hunter2"
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("a credential in a label value:\n%s", buf.String())
	}
}

func TestEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, reports.Report{}); err != nil || buf.Len() != 0 {
		t.Errorf("an empty report wrote %q (%v)", buf.String(), err)
	}
}

func TestBaseUnit(t *testing.T) {
	for _, tc := range []struct {
		unit, name string
		factor     float64
	}{
		{"s", "seconds", 1},
		{"ms", "seconds", 0.001},
		{"min", "seconds", 60},
		{"%", "ratio", 0.01},
		{"", "", 1},
		{"count", "", 1},
		{"writes", "writes", 1},
		{"pods", "pods", 1},
		{"records", "records", 1},
		{"alerts", "alerts", 1},
		{"Req/s", "req_s", 1},
		{"  --", "", 1},
	} {
		name, factor := BaseUnit(tc.unit)
		if name != tc.name || factor != tc.factor {
			t.Errorf("BaseUnit(%q) = %q, %v, want %q, %v", tc.unit, name, factor, tc.name, tc.factor)
		}
		if full := Name("value", tc.unit); !model.LegacyValidation.IsValidMetricName(full) {
			t.Errorf("Name(value, %q) = %q: not a valid metric name", tc.unit, full)
		}
	}
}
