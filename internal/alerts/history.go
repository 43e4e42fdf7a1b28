// Package alerts measures what Prometheus' alerts did during a drill and
// judges it against the drill's alerts objectives.
//
// Prometheus records every active alert in its ALERTS series, one sample per
// rule evaluation, labelled alertstate="pending" or "firing". History turns
// the raw samples of a window into stretches of each state; Judge compares
// them, and the notifications the webhook Receiver got from Alertmanager,
// with the expected and forbidden alerts. Both are pure functions. Source
// reads Prometheus: the window's samples, the rules an alert comes from and
// whether the series they read exist, because an alert whose input has no
// data never fires, and that is not a pass.
package alerts

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/drill-sre/drill/reports"
)

// The labels Prometheus gives the ALERTS series beside the alert's own.
const (
	labelName  = "alertname"
	labelState = "alertstate"
	statePend  = "pending"
	stateFire  = "firing"
)

// gapFactor: samples of one state further apart than this many evaluation
// intervals belong to two stretches (a missed evaluation or two on a busy
// Prometheus do not split one).
const gapFactor = 2.5

// Quiet is how long after a window's end its History must be read, when
// what was active at the end is not known (active nil), for the stretches
// that ended near the end to be told from those still open: a stretch is
// then open when its last sample is within this of the time read.
func Quiet(eval time.Duration) time.Duration {
	return time.Duration(float64(eval)*gapFactor) + time.Second
}

// History turns the raw ALERTS samples of a window ending at end (the
// answer to ALERTS[window] evaluated at end) into one Alert per alertname
// and label set, ordered by their first activity. eval is the rule
// evaluation interval: a stretch ends one evaluation after its last
// sample, when the next evaluation found the alert in another state.
//
// active is the answer to the instant query ALERTS at end: the series
// active at the last evaluation before end (Prometheus marks a series
// stale at the evaluation that finds it inactive). A series' last stretch
// is Open, until end, when active holds it and its last sample is within
// gapFactor evaluations of end; one active but not in m (it began between
// the two reads) is Open from one evaluation before end. So History can be
// read as soon as the window ends. With active nil, what was active is
// guessed from timing alone (the last sample within gapFactor evaluations
// of end), which needs the read to wait Quiet after the window's end. No
// stretch ends after end.
func History(m model.Matrix, eval time.Duration, end time.Time, active model.Vector) []reports.Alert {
	gap := time.Duration(float64(eval) * gapFactor)
	var still map[string]bool
	if active != nil {
		still = make(map[string]bool, len(active))
		for _, s := range active {
			still[seriesKey(s.Metric)] = true
		}
	}
	byKey := map[string]*reports.Alert{}
	var keys []string
	add := func(metric model.Metric, spans []reports.Span) {
		labels := map[string]string{}
		for k, v := range metric {
			if k != labelName && k != labelState && k != model.MetricNameLabel {
				labels[string(k)] = string(v)
			}
		}
		name := string(metric[labelName])
		key := name + model.LabelSet(toLabelSet(labels)).String()
		a := byKey[key]
		if a == nil {
			a = &reports.Alert{Name: name, Labels: labels}
			byKey[key] = a
			keys = append(keys, key)
		}
		switch string(metric[labelState]) {
		case statePend:
			a.Pending = append(a.Pending, spans...)
		case stateFire:
			a.Firing = append(a.Firing, spans...)
		}
	}
	inRange := map[string]bool{}
	for _, ss := range m {
		if len(ss.Values) == 0 {
			continue
		}
		k := seriesKey(ss.Metric)
		inRange[k] = true
		// Active at the end, and sampled lately: a series active in the
		// instant query but last sampled long ago is one Prometheus never
		// marked stale (it was stopped meanwhile), not an open alert.
		open := func(last time.Time) bool { return end.Sub(last) <= gap && (still == nil || still[k]) }
		add(ss.Metric, stretches(ss.Values, eval, end, open))
	}
	// A series active at the end that the window's samples lack began at
	// an evaluation between the two reads: it is open since about then.
	for _, s := range active {
		if k := seriesKey(s.Metric); !inRange[k] {
			inRange[k] = true
			add(s.Metric, []reports.Span{{From: end.Add(-eval), To: end, Open: true}})
		}
	}
	out := make([]reports.Alert, 0, len(keys))
	for _, k := range keys {
		a := byKey[k]
		bySpanStart := func(x, y reports.Span) int { return x.From.Compare(y.From) }
		slices.SortFunc(a.Pending, bySpanStart)
		slices.SortFunc(a.Firing, bySpanStart)
		if len(a.Labels) == 0 {
			a.Labels = nil
		}
		out = append(out, *a)
	}
	slices.SortStableFunc(out, func(x, y reports.Alert) int {
		return cmp.Or(firstActive(x).Compare(firstActive(y)), cmp.Compare(x.Name, y.Name))
	})
	return out
}

func toLabelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		ls[model.LabelName(k)] = model.LabelValue(m[k])
	}
	return ls
}

// seriesKey names an ALERTS series by its labels, alertstate included.
func seriesKey(m model.Metric) string {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		if k != model.MetricNameLabel {
			ls[k] = v
		}
	}
	return ls.String()
}

// stretches splits one state's samples into spans; the last is open, to
// end, when open says so of its last sample.
func stretches(vs []model.SamplePair, eval time.Duration, end time.Time, open func(last time.Time) bool) []reports.Span {
	gap := time.Duration(float64(eval) * gapFactor)
	var out []reports.Span
	var cur *reports.Span
	var last time.Time
	for _, v := range vs {
		t := v.Timestamp.Time()
		if cur != nil && t.Sub(last) > gap {
			cur.To = last.Add(eval)
			out = append(out, *cur)
			cur = nil
		}
		if cur == nil {
			cur = &reports.Span{From: t}
		}
		last = t
	}
	if cur != nil {
		cur.To = last.Add(eval)
		if open(last) || cur.To.After(end) {
			// Open, or closed by an evaluation after the end: it lasted
			// to the end at least.
			cur.To, cur.Open = end, open(last)
		}
		out = append(out, *cur)
	}
	return out
}

// firstActive is when a became pending or firing first.
func firstActive(a reports.Alert) time.Time {
	var t time.Time
	for _, s := range append(slices.Clone(a.Pending), a.Firing...) {
		if t.IsZero() || s.From.Before(t) {
			t = s.From
		}
	}
	return t
}

// Matches reports whether a is the alert name with at least labels.
func Matches(a reports.Alert, name string, labels map[string]string) bool {
	if a.Name != name {
		return false
	}
	for k, v := range labels {
		if a.Labels[k] != v {
			return false
		}
	}
	return true
}

// AddNotifications sets each alert's Notified and NotifiedResolved from the
// receiver's notifications: the first that carried it firing, and the
// first after that which carried it resolved.
func AddNotifications(seen []reports.Alert, ns []Notification) {
	for i := range seen {
		a := &seen[i]
		for _, n := range ns {
			for _, na := range n.Alerts {
				if !sameAlert(*a, na.Labels) {
					continue
				}
				switch {
				case na.Status == stateFire && a.Notified.IsZero():
					a.Notified = n.Received
				case na.Status == "resolved" && !a.Notified.IsZero() && a.NotifiedResolved.IsZero():
					a.NotifiedResolved = n.Received
				}
			}
		}
	}
}

// sameAlert: a notification's labels carry a's name and labels (they may
// carry more: Prometheus adds its external labels to what it sends).
func sameAlert(a reports.Alert, labels map[string]string) bool {
	if labels[labelName] != a.Name {
		return false
	}
	for k, v := range a.Labels {
		if labels[k] != v {
			return false
		}
	}
	return true
}
