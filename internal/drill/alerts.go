package drill

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/drill-sre/drill/internal/alerts"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/objectives"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// alertPoll is how often the drill asks Prometheus whether its expected
// alerts fire or resolved; alertProgress how often it says so.
const (
	alertPoll     = 5 * time.Second
	alertProgress = 30 * time.Second
)

// NamespaceVar in an expected alert's label value stands for the drill's
// namespace; see scenarios.NamespaceVar.
const NamespaceVar = scenarios.NamespaceVar

// alertsSpec is the drill's alerts objectives with NamespaceVar expanded.
func (r *run) alertsSpec() *scenarios.Alerts {
	spec := r.sc.Objectives.Alerts
	if spec == nil {
		return nil
	}
	ns := r.env.RecordsNamespace
	if r.env.App != nil {
		ns = r.env.App.Namespace
	}
	out := *spec
	out.Expect = make([]scenarios.ExpectedAlert, len(spec.Expect))
	for i, e := range spec.Expect {
		if len(e.Labels) > 0 {
			labels := make(map[string]string, len(e.Labels))
			for k, v := range e.Labels {
				labels[k] = strings.ReplaceAll(v, NamespaceVar, ns)
			}
			e.Labels = labels
		}
		out.Expect[i] = e
	}
	return &out
}

// checkAlertRules makes sure, before anything is broken, that a drill
// which declares alerts has a Prometheus to read them from and that every
// alert it expects has a rule there: otherwise it could only wait for
// nothing.
func (r *run) checkAlertRules(ctx context.Context) error {
	spec := r.alertsSpec()
	if spec == nil {
		return nil
	}
	if r.env.Alerts == nil {
		return fmt.Errorf("objectives.alerts is declared, but the drill has no Prometheus to read alerts from: deploy drill's monitoring or give the URL of yours")
	}
	var names []string
	for _, e := range spec.Expect {
		names = append(names, e.Name)
	}
	missing, err := r.env.Alerts.MissingRules(ctx, names)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("objectives.alerts.expect: no alerting rule named %s is loaded in Prometheus %s",
			strings.Join(missing, ", "), r.env.Alerts.PrometheusURL)
	}
	return nil
}

// alertGrace is how long after a declared bound the drill keeps waiting
// for an alert, so that one that comes late is measured late rather than
// not at all: two evaluations and a scrape.
func (r *run) alertGrace() time.Duration {
	return 2*r.env.Alerts.EvaluationInterval + r.env.Alerts.ScrapeInterval + 15*time.Second
}

// awaitFiring holds the fault until every expected alert fires, or until
// its firingWithin (plus grace) has passed since the injection. It only
// decides how long the fault stays in place: what is judged comes from
// the ALERTS series afterwards.
func (r *run) awaitFiring(ctx context.Context) {
	spec := r.alertsSpec()
	if spec == nil || len(spec.Expect) == 0 || r.env.Alerts == nil {
		return
	}
	for _, e := range spec.Expect {
		deadline := r.d.Fault.Injected.Add(e.FiringWithin + r.alertGrace())
		r.await(ctx, deadline, "fire", func(ctx context.Context) (bool, string, error) {
			return r.env.Alerts.Active(ctx, e.Name, e.Labels)
		})
	}
}

// awaitResolved keeps the drill watching after the revert until no
// expected alert with a resolvedWithin fires, or until that bound (plus
// grace) has passed since the revert ended.
func (r *run) awaitResolved(ctx context.Context) {
	spec := r.alertsSpec()
	if spec == nil || r.env.Alerts == nil || r.d.Fault.Reverted.IsZero() {
		return
	}
	for _, e := range spec.Expect {
		if e.ResolvedWithin == 0 {
			continue
		}
		deadline := r.d.Fault.Reverted.Add(e.ResolvedWithin + r.alertGrace())
		r.await(ctx, deadline, "resolve", func(ctx context.Context) (bool, string, error) {
			firing, desc, err := r.env.Alerts.Active(ctx, e.Name, e.Labels)
			return !firing && err == nil, desc, err
		})
	}
}

// await polls cond until it holds, deadline passes or ctx ends, saying
// what it sees every alertProgress.
func (r *run) await(ctx context.Context, deadline time.Time, what string, cond func(context.Context) (bool, string, error)) {
	var said time.Time
	for ctx.Err() == nil && time.Now().Before(deadline) {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ok, desc, err := cond(qctx)
		cancel()
		if err != nil {
			desc = err.Error()
		}
		if ok {
			r.logf("alerts: %s (%s)", desc, what+"d")
			return
		}
		if time.Since(said) >= alertProgress {
			r.logf("alerts: waiting up to %s for it to %s: %s", time.Until(deadline).Round(time.Second), what, desc)
			said = time.Now()
		}
		_ = faults.Hold(ctx, alertPoll)
	}
}

// notifyGrace bounds how long a drill waits, after it ends, for
// Alertmanager to notify an expected alert that fired: its group_wait
// (Alertmanager's default is 30 s; drill's monitoring, 5 s) and an
// evaluation.
func (r *run) notifyGrace() time.Duration { return 30*time.Second + r.env.Alerts.EvaluationInterval }

// awaitNotified waits, up to notifyGrace, until every expected alert that
// fired since the injection has reached the receiver, adding the
// notifications to seen as they come: the history is read as soon as the
// drill ends, before Alertmanager's group_wait may have passed. Alerts
// that did not fire are not waited for.
func (r *run) awaitNotified(ctx context.Context, seen []reports.Alert, spec *scenarios.Alerts) {
	deadline := time.Now().Add(r.notifyGrace())
	for {
		var waiting []string
		for _, a := range seen {
			if !a.Notified.IsZero() || !firedSince(a, r.d.Fault.Injected) {
				continue
			}
			for _, e := range spec.Expect {
				if alerts.Matches(a, e.Name, e.Labels) {
					waiting = append(waiting, a.Name)
					break
				}
			}
		}
		if len(waiting) == 0 || ctx.Err() != nil || !time.Now().Before(deadline) {
			return
		}
		_ = faults.Hold(ctx, time.Second)
		alerts.AddNotifications(seen, r.env.Alerts.Receiver.Notifications(r.d.Started))
	}
}

// firedSince says whether a fired at or after t.
func firedSince(a reports.Alert, t time.Time) bool {
	for _, s := range a.Firing {
		if !s.To.Before(t) {
			return true
		}
	}
	return false
}

// judgeAlerts reads what the alerts did over the drill's window and judges
// the alerts objectives. Every drill with an alert source records what
// fired, whether or not it declares alerts.
func (r *run) judgeAlerts(ctx context.Context, judged bool) {
	src := r.env.Alerts
	if src == nil {
		return
	}
	// Read right away: what is active now tells an alert still open from
	// one that just resolved (alerts.History), with no wait for later
	// evaluations.
	end := time.Now()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	spec := r.alertsSpec()
	seen, err := src.History(ctx, r.d.Started, end)
	if err != nil && spec == nil {
		// Only a record: a drill that declares no alerts is not judged on it.
		r.logf("alerts: not recorded: %v", err)
		return
	}
	if err != nil {
		r.fail(reports.Error, "alerts: %v", err)
		return
	}
	if spec != nil && judged && src.Receiver != nil {
		r.awaitNotified(ctx, seen, spec)
	}
	r.d.Alerts = src.Record(seen)
	if spec == nil || !judged {
		return
	}
	in := alerts.Input{
		Spec: spec, Seen: seen, Injected: r.d.Fault.Injected, Reverted: r.d.Fault.Reverted, End: end,
		Scrape: src.ScrapeInterval, Eval: src.EvaluationInterval, Notifications: src.Receiver != nil,
		NoData: map[string][]string{}, APIUnavailable: r.apiUnavailable,
	}
	var names []string
	for _, e := range spec.Expect {
		names = append(names, e.Name)
	}
	if in.MissingRules, err = src.MissingRules(ctx, names); err != nil {
		r.fail(reports.Error, "alerts: %v", err)
		return
	}
	for _, e := range spec.Expect {
		if nd, err := src.NoData(ctx, e.Name, r.d.Started, end); err != nil {
			r.fail(reports.Error, "alerts: %v", err)
		} else if len(nd) > 0 {
			in.NoData[e.Name] = nd
		}
	}
	res := alerts.Judge(in)
	r.d.Objectives = append(r.d.Objectives, res.Objectives...)
	r.d.Measurements = append(r.d.Measurements, res.Measurements...)
	r.d.Findings = append(r.d.Findings, res.Findings...)
}

// apiUnavailable is how long the API through the load balancer (new
// connections) was unavailable between from and to.
func (r *run) apiUnavailable(from, to time.Time) time.Duration {
	var clipped []monitor.Interval
	for _, i := range r.d.Intervals {
		if i.Level != monitor.Error || i.Locator != monitor.LocatorAPINew || !i.To.After(from) || !i.From.Before(to) {
			continue
		}
		i.From, i.To = later(i.From, from), earlier(i.To, to)
		clipped = append(clipped, i)
	}
	return objectives.Unavailable(clipped)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
