package alerts

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// Input is what Judge judges.
type Input struct {
	Spec *scenarios.Alerts
	// Seen is the window's alert history (History), with notifications
	// (AddNotifications) when a receiver listened.
	Seen []reports.Alert
	// Injected is the origin of every time to pending, firing and
	// notification; Reverted (zero if the revert failed) the origin of
	// every time to resolve; End the end of the window.
	Injected, Reverted, End time.Time
	// Scrape and Eval are Prometheus' intervals, the resolution of every
	// time measured here.
	Scrape, Eval time.Duration
	// Notifications: a receiver listened, so notification is judged.
	Notifications bool
	// MissingRules are expected alerts no loaded rule defines.
	MissingRules []string
	// NoData maps an expected alert to the series its rule reads of which
	// Prometheus had no sample during the window.
	NoData map[string][]string
	// APIUnavailable, when set, says how long the API was unavailable
	// between from and to, as the drill's samplers measured it.
	APIUnavailable func(from, to time.Time) time.Duration
}

// Result is what Judge found.
type Result struct {
	Objectives   []reports.Objective
	Measurements []reports.Measurement
	Findings     []string
}

// Judge judges each expected alert (did it fire in time, did Alertmanager
// deliver it, did it resolve in time after the revert) and the forbidden
// ones.
func Judge(in Input) Result {
	var r Result
	if in.Spec == nil {
		return r
	}
	for _, e := range in.Spec.Expect {
		r.expected(in, e)
	}
	if in.Spec.Forbid != nil {
		r.Objectives = append(r.Objectives, forbidden(in))
	}
	return r
}

func (r *Result) expected(in Input, e scenarios.ExpectedAlert) {
	name := "alerts." + e.Name
	fire := reports.Objective{Name: name + ".firing", Bound: "within " + secs(e.FiringWithin), Unit: "s"}
	defer func() { r.Objectives = append(r.Objectives, fire) }()
	which := e.Name + labelText(e.Labels)
	if slices.Contains(in.MissingRules, e.Name) {
		fire.Measured, fire.Verdict = "no rule", reports.Error
		fire.Detail = fmt.Sprintf("no alerting rule named %s is loaded in Prometheus: it cannot fire", e.Name)
		return
	}
	var matching []reports.Alert
	for _, a := range in.Seen {
		if Matches(a, e.Name, e.Labels) {
			matching = append(matching, a)
		}
	}
	if a, s, ok := activeAt(matching, in.Injected); ok {
		fire.Measured, fire.Verdict = "already active", reports.Error
		fire.Detail = fmt.Sprintf("%s was already active before the injection (since %s ago): the drill cannot tell what fired it",
			a.Name+labelText(a.Labels), secs(in.Injected.Sub(s.From)))
		return
	}
	firing, fired := firstFiring(matching, in.Injected)
	if !fired {
		fire.Measured, fire.Verdict = "did not fire", reports.Fail
		fire.Detail = fmt.Sprintf("%s did not fire in the %s after the injection", which, secs(in.End.Sub(in.Injected)))
		if p := pendingAfter(matching, in.Injected); len(p) > 0 {
			fire.Detail += fmt.Sprintf("; it was pending %d time(s), first at +%s for %s: its `for` restarts whenever the expression stops matching",
				len(p), secs(p[0].From.Sub(in.Injected)), secs(p[0].To.Sub(p[0].From)))
		}
		if nd := in.NoData[e.Name]; len(nd) > 0 {
			fire.Detail += fmt.Sprintf("; no data: its rule reads %s, of which Prometheus had no series during the drill, and no data is not a pass",
				strings.Join(nd, ", "))
		}
		return
	}
	toFire := firing.From.Sub(in.Injected)
	fire.Measured, fire.Value, fire.Verdict = secs(toFire), toFire.Seconds(), verdict(toFire <= e.FiringWithin)
	var parts []string
	if p, ok := pendingBefore(matching, firing.From, in.Injected); ok {
		toPend := p.Sub(in.Injected)
		parts = append(parts, "pending at +"+secs(toPend))
		r.measure("alert "+e.Name+" time to pending", toPend, "from the injection")
	}
	parts = append(parts, "firing at +"+secs(toFire), fmt.Sprintf("resolution: scrape %s, evaluation %s", secs(in.Scrape), secs(in.Eval)))
	fire.Detail = strings.Join(parts, ", ")

	if in.Notifications {
		r.Objectives = append(r.Objectives, notified(in, e, matching))
	}
	if e.ResolvedWithin > 0 {
		r.Objectives = append(r.Objectives, resolved(in, e, matching))
	}
	if e.Finding != "" {
		r.Findings = append(r.Findings, finding(in, e, matching))
	}
}

// notified judges the first firing notification of the alert against
// firingWithin: an alert that fires but never reaches its receiver pages
// nobody.
func notified(in Input, e scenarios.ExpectedAlert, matching []reports.Alert) reports.Objective {
	o := reports.Objective{Name: "alerts." + e.Name + ".notified", Bound: "within " + secs(e.FiringWithin), Unit: "s"}
	var first time.Time
	for _, a := range matching {
		if !a.Notified.IsZero() && !a.Notified.Before(in.Injected) && (first.IsZero() || a.Notified.Before(first)) {
			first = a.Notified
		}
	}
	if first.IsZero() {
		o.Measured, o.Verdict = "not notified", reports.Fail
		o.Detail = "it fired, but Alertmanager delivered no firing notification of it to the webhook receiver during the drill"
		return o
	}
	d := first.Sub(in.Injected)
	o.Measured, o.Value, o.Verdict = secs(d), d.Seconds(), verdict(d <= e.FiringWithin)
	o.Detail = "the webhook receiver got it firing at +" + secs(d) + " (Alertmanager's group_wait included)"
	return o
}

// resolved judges when the alert stopped firing, from the end of the
// revert: every matching alert that fired must have.
func resolved(in Input, e scenarios.ExpectedAlert, matching []reports.Alert) reports.Objective {
	o := reports.Objective{Name: "alerts." + e.Name + ".resolved", Bound: "within " + secs(e.ResolvedWithin) + " of the revert", Unit: "s"}
	if in.Reverted.IsZero() {
		o.Measured, o.Verdict, o.Detail = "not reverted", reports.Error, "the revert did not complete: there is nothing to resolve from"
		return o
	}
	var end time.Time
	var notifiedResolved time.Time
	for _, a := range matching {
		for _, s := range a.Firing {
			if s.To.Before(in.Injected) {
				continue
			}
			if s.Open {
				o.Measured, o.Verdict = "still firing", reports.Fail
				o.Detail = fmt.Sprintf("%s was still firing when the drill ended, %s after the revert",
					a.Name+labelText(a.Labels), secs(in.End.Sub(in.Reverted)))
				return o
			}
			if s.To.After(end) {
				end = s.To
			}
		}
		if a.NotifiedResolved.After(notifiedResolved) {
			notifiedResolved = a.NotifiedResolved
		}
	}
	d := end.Sub(in.Reverted)
	o.Measured, o.Value, o.Verdict = secs(max(d, 0)), max(d, 0).Seconds(), verdict(d <= e.ResolvedWithin)
	if d < 0 {
		o.Detail = fmt.Sprintf("it stopped firing %s before the revert ended", secs(-d))
	} else {
		o.Detail = "it stopped firing " + secs(d) + " after the revert ended"
	}
	if !notifiedResolved.IsZero() {
		o.Detail += fmt.Sprintf("; the receiver got it resolved %s after the revert", secs(notifiedResolved.Sub(in.Reverted)))
	}
	return o
}

// finding writes an expected alert's finding with what was measured of it.
func finding(in Input, e scenarios.ExpectedAlert, matching []reports.Alert) string {
	var parts []string
	for _, a := range matching {
		for _, s := range a.Firing {
			if s.From.Before(in.Injected) {
				continue
			}
			p := fmt.Sprintf("%s fired from +%s", a.Name+labelText(a.Labels), secs(s.From.Sub(in.Injected)))
			if s.Open {
				p += " until the drill ended"
			} else {
				p += " to +" + secs(s.To.Sub(in.Injected))
			}
			if in.APIUnavailable != nil {
				p += fmt.Sprintf(", while the API through the load balancer was unavailable for %s of those %s",
					secs(in.APIUnavailable(s.From, s.To)), secs(s.To.Sub(s.From)))
			}
			parts = append(parts, p)
		}
	}
	return strings.TrimSpace(e.Finding) + " Measured: " + strings.Join(parts, "; ") + "."
}

// forbidden judges alerts.forbid: no alert it names, and no alert of its
// severity that is not expected, began firing during the drill.
func forbidden(in Input) reports.Objective {
	f := in.Spec.Forbid
	var bound []string
	if len(f.Names) > 0 {
		bound = append(bound, strings.Join(f.Names, ", "))
	}
	if f.Severity != "" {
		bound = append(bound, "any "+f.Severity+" alert not expected")
	}
	o := reports.Objective{Name: "alerts.forbid", Bound: "none of: " + strings.Join(bound, "; "), Unit: "alerts", Verdict: reports.Pass}
	expected := map[string]bool{}
	for _, e := range in.Spec.Expect {
		expected[e.Name] = true
	}
	var bad, before []string
	for _, a := range in.Seen {
		if !(slices.Contains(f.Names, a.Name) || (f.Severity != "" && a.Severity() == f.Severity && !expected[a.Name])) {
			continue
		}
		for _, s := range a.Firing {
			switch {
			case s.From.Before(in.Injected) && s.To.After(in.Injected):
				before = append(before, a.Name+labelText(a.Labels))
			case !s.From.Before(in.Injected) && !s.From.After(in.End):
				bad = append(bad, fmt.Sprintf("%s at +%s", a.Name+labelText(a.Labels), secs(s.From.Sub(in.Injected))))
			}
		}
	}
	o.Value = float64(len(bad))
	o.Measured = strconv.Itoa(len(bad)) + " fired"
	if len(bad) > 0 {
		o.Verdict = reports.Fail
		o.Detail = "forbidden alerts fired: " + strings.Join(bad, "; ")
	} else {
		o.Detail = "none fired"
	}
	if len(before) > 0 {
		o.Detail += "; already firing before the injection (not counted): " + strings.Join(before, ", ")
	}
	return o
}

func (r *Result) measure(name string, d time.Duration, detail string) {
	r.Measurements = append(r.Measurements, reports.Measurement{Name: name, Value: d.Seconds(), Unit: "s", Detail: detail})
}

// activeAt returns a matching alert that was pending or firing at t.
func activeAt(as []reports.Alert, t time.Time) (reports.Alert, reports.Span, bool) {
	for _, a := range as {
		for _, s := range append(slices.Clone(a.Pending), a.Firing...) {
			if s.From.Before(t) && s.To.After(t) {
				return a, s, true
			}
		}
	}
	return reports.Alert{}, reports.Span{}, false
}

// firstFiring is the earliest firing span that began at or after t.
func firstFiring(as []reports.Alert, t time.Time) (reports.Span, bool) {
	var first reports.Span
	ok := false
	for _, a := range as {
		for _, s := range a.Firing {
			if !s.From.Before(t) && (!ok || s.From.Before(first.From)) {
				first, ok = s, true
			}
		}
	}
	return first, ok
}

// pendingBefore is when the pending stretch that led to firing at t
// began: the latest one that began after the injection and before t.
func pendingBefore(as []reports.Alert, t, injected time.Time) (time.Time, bool) {
	var p time.Time
	for _, a := range as {
		for _, s := range a.Pending {
			if !s.From.Before(injected) && !s.From.After(t) && s.From.After(p) {
				p = s.From
			}
		}
	}
	return p, !p.IsZero()
}

// pendingAfter returns the pending spans that began at or after t, first
// first.
func pendingAfter(as []reports.Alert, t time.Time) []reports.Span {
	var out []reports.Span
	for _, a := range as {
		for _, s := range a.Pending {
			if !s.From.Before(t) {
				out = append(out, s)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	return out
}

// labelText writes labels as {k="v", ...}, "" for none.
func labelText(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	return toLabelSet(labels).String()
}

func verdict(ok bool) reports.Verdict {
	if ok {
		return reports.Pass
	}
	return reports.Fail
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s" }
