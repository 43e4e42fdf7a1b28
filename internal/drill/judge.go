package drill

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/objectives"
	"github.com/drill-sre/drill/internal/rpo"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// writeLoss is what the RPO writer's log and read-back say.
type writeLoss struct {
	objectives.DataLoss
	Attempts int64
	Failures int
	// Backup is the backup a restore used, nil when the fault restored
	// none; LostBeforeBackup counts the lost writes acknowledged before it
	// was taken, which it should have kept; BackupAge is its age at the
	// disaster.
	Backup           *faults.Backup
	BackupAge        time.Duration
	LostBeforeBackup int
	// Integrity is what checking the read-back records' checksums found;
	// nil for a store without checksums.
	Integrity *rpo.Integrity
}

// readBack reads the writer's records back once the API serves, deletes
// them, and compares them with the log.
func (r *run) readBack(ctx context.Context) (writeLoss, error) {
	writes := r.s.Writes()
	if writes == nil {
		return writeLoss{}, errNoWriter
	}
	acked, attempts, failures := writes.Log()
	var (
		seqs      []int64
		integrity *rpo.Integrity
		err       error
	)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		seqs, integrity, err = r.s.ReadBack(cctx)
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		_ = faults.Hold(ctx, 2*time.Second)
	}
	if err != nil {
		return writeLoss{}, err
	}
	loss := objectives.RPO(r.d.Fault.Injected, acked, seqs)
	r.logf("writes: %d attempted, %d acknowledged, %d read back, %d acknowledged lost", attempts, loss.Acknowledged, len(seqs), loss.LostCount)
	wl := writeLoss{DataLoss: loss, Attempts: attempts, Failures: failures, Integrity: integrity}
	if integrity != nil {
		r.logf("integrity: %d records valid, %d corrupted", integrity.Valid, len(integrity.Corrupted))
	}
	if b, ok := r.fault.(faults.DataLossBound); ok {
		if backup, ok := b.DataLossBound(); ok {
			wl.Backup, wl.BackupAge = &backup, r.d.Fault.Injected.Sub(backup.Taken)
			wl.LostBeforeBackup = lostBefore(acked, loss.Lost, backup.Taken)
		}
	}
	return wl, nil
}

// errorsOf returns the Error intervals of the locators that began before
// cutoff: the fault's doing, as opposed to the revert's.
func errorsOf(ivs []monitor.Interval, cutoff time.Time, locators ...string) []monitor.Interval {
	return monitor.Filter(ivs, func(i monitor.Interval) bool {
		return i.Level == monitor.Error && slices.Contains(locators, i.Locator) && i.From.Before(cutoff)
	})
}

// cutoff is when the revert started, or the end of sampling without one.
func cutoff(d reports.Drill) time.Time {
	if !d.Fault.RevertStarted.IsZero() {
		return d.Fault.RevertStarted
	}
	return d.Finished
}

// secs formats a duration as seconds with one decimal.
func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s" }

// judge evaluates each declared objective of sc against what d recorded.
// It is a pure function of its arguments.
func judge(sc *scenarios.Scenario, d reports.Drill, app *App, loss writeLoss, lossErr error) []reports.Objective {
	var out []reports.Objective
	o := sc.Objectives
	if o.RTO != nil && o.RTO.API != 0 {
		// The API's RTO is what a new client sees: a new connection per
		// request through the load balancer. A kept-alive connection can
		// stay pinned to one server (kind's haproxy keeps established
		// sessions on a server it marks down), so what it saw depends on
		// where it landed: reported beside, not judged.
		api := judgeRTO(string(scenarios.ObjectiveRTOAPI), o.RTO.API, d, monitor.LocatorAPINew)
		reused := errorsOf(d.Intervals, cutoff(d), monitor.LocatorAPIReused)
		if rto, ok := objectives.RTO(d.Fault.Injected, reused); rto > 0 {
			api.Detail += fmt.Sprintf("; a kept-alive connection (not judged) was unavailable until %s after injection", secs(rto))
			if !ok {
				api.Detail += " and had not recovered"
			}
		}
		out = append(out, api)
	}
	if o.RTO != nil && o.RTO.App != 0 {
		out = append(out, judgeRTO(string(scenarios.ObjectiveRTOApp), o.RTO.App, d, monitor.LocatorApp))
	}
	if o.RPO != nil {
		out = append(out, judgeRPO(o.RPO, loss, lossErr)...)
	}
	if o.Availability != nil {
		out = append(out, judgeMinReady(string(scenarios.ObjectiveAvailability), o.Availability.MinReady, d, "minReady"))
	}
	if o.PDB != nil && o.PDB.NeverViolated {
		want := 0
		if app != nil {
			want = app.DesiredHealthy
		}
		out = append(out, judgeMinReady(string(scenarios.ObjectivePDB), want, d, "PDB desired healthy"))
	}
	if o.MaxDuration != 0 {
		out = append(out, judgeDuration(o.MaxDuration, d))
	}
	if o.Integrity != nil && o.Integrity.MaxCorrupted != nil {
		out = append(out, judgeIntegrity(*o.Integrity.MaxCorrupted, loss, lossErr))
	}
	// Alerts are judged from Prometheus (judgeAlerts), not from the
	// samplers.
	return out
}

func judgeRTO(name string, bound time.Duration, d reports.Drill, locators ...string) reports.Objective {
	ivs := errorsOf(d.Intervals, cutoff(d), locators...)
	rto, recovered := objectives.RTO(d.Fault.Injected, ivs)
	obj := reports.Objective{Name: name, Bound: secs(bound), Measured: secs(rto), Value: rto.Seconds(), Unit: "s", Verdict: reports.Pass}
	var parts []string
	for _, l := range locators {
		mine := monitor.Filter(ivs, monitor.IsLocator(l))
		parts = append(parts, fmt.Sprintf("%s: %d outages, %s unavailable", l, len(mine), secs(objectives.Unavailable(mine))))
	}
	obj.Detail = strings.Join(parts, "; ")
	if during := errorsOfAfter(d, locators...); len(during) > 0 {
		obj.Detail += fmt.Sprintf("; during the revert: %s unavailable (not counted)", secs(objectives.Unavailable(during)))
	}
	switch {
	case !recovered:
		obj.Verdict = reports.Fail
		obj.Detail = "still unavailable when the revert began or sampling stopped (lower bound); " + obj.Detail
	case rto > bound:
		obj.Verdict = reports.Fail
	}
	return obj
}

// errorsOfAfter returns the Error intervals that began once the revert had
// started.
func errorsOfAfter(d reports.Drill, locators ...string) []monitor.Interval {
	if d.Fault.RevertStarted.IsZero() {
		return nil
	}
	return monitor.Filter(d.Intervals, func(i monitor.Interval) bool {
		return i.Level == monitor.Error && slices.Contains(locators, i.Locator) && !i.From.Before(d.Fault.RevertStarted)
	})
}

// lostBefore counts the lost writes acknowledged before t.
func lostBefore(acked []objectives.Write, lost []int64, t time.Time) int {
	n := 0
	for _, w := range acked {
		if w.Acked.Before(t) && slices.Contains(lost, w.Seq) {
			n++
		}
	}
	return n
}

func judgeRPO(bound *scenarios.RPO, loss writeLoss, lossErr error) []reports.Objective {
	name := string(scenarios.ObjectiveRPO)
	if lossErr != nil {
		return []reports.Objective{{Name: name, Bound: "declared", Measured: "not measured", Verdict: reports.Error, Detail: lossErr.Error()}}
	}
	detail := fmt.Sprintf("%d writes attempted, %d acknowledged, %d not acknowledged, %d lost", loss.Attempts, loss.Acknowledged, loss.Failures, loss.LostCount)
	if loss.LostCount > 0 {
		detail += fmt.Sprintf(" (seq %v)", loss.Lost)
	}
	if loss.Acknowledged == 0 {
		return []reports.Objective{{Name: name, Bound: "declared", Measured: "no acknowledged write", Verdict: reports.Error,
			Detail: "the writer got no acknowledgement at all: nothing to measure RPO with; " + detail}}
	}
	var out []reports.Objective
	if bound.MaxLostWrites != nil {
		o := reports.Objective{Name: name + ".maxLostWrites", Bound: fmt.Sprintf("%d writes", *bound.MaxLostWrites),
			Measured: fmt.Sprintf("%d writes", loss.LostCount), Value: float64(loss.LostCount), Unit: "writes", Verdict: reports.Pass, Detail: detail}
		if loss.LostCount > *bound.MaxLostWrites {
			o.Verdict = reports.Fail
		}
		out = append(out, o)
	}
	if bound.MaxDataLoss != 0 {
		o := reports.Objective{Name: name + ".maxDataLoss", Bound: secs(bound.MaxDataLoss), Measured: secs(loss.Window),
			Value: loss.Window.Seconds(), Unit: "s", Verdict: reports.Pass, Detail: detail}
		if loss.Window > bound.MaxDataLoss || loss.NoneSurvived {
			o.Verdict = reports.Fail
		}
		if b := loss.Backup; b != nil {
			o.Detail += fmt.Sprintf("; restored from %s, taken %s before the disaster", b.What, secs(loss.BackupAge))
			if o.Verdict == reports.Fail && bound.MaxDataLoss < b.Interval {
				o.Detail += fmt.Sprintf("; a restore loses every write acknowledged after its backup, and with a backup every %s that is up to %s of writes:"+
					" a maxDataLoss of %s is tighter than the backup interval and cannot be met; back up at least every %s or relax the objective",
					secs(b.Interval), secs(b.Interval), secs(bound.MaxDataLoss), secs(bound.MaxDataLoss))
			}
		}
		out = append(out, o)
	}
	if b := loss.Backup; b != nil {
		// Whatever the declared bounds, a restore must keep every write
		// acknowledged before its backup was taken.
		o := reports.Objective{Name: name + ".backupKept", Bound: "0 writes acknowledged before the backup lost",
			Measured: fmt.Sprintf("%d lost", loss.LostBeforeBackup), Value: float64(loss.LostBeforeBackup), Unit: "writes", Verdict: reports.Pass,
			Detail: fmt.Sprintf("writes acknowledged before %s was taken must all be read back", b.What)}
		if loss.LostBeforeBackup > 0 {
			o.Verdict = reports.Fail
			o.Detail += fmt.Sprintf(": %d were not, so the backup does not hold what it should", loss.LostBeforeBackup)
		}
		out = append(out, o)
	}
	return out
}

func judgeIntegrity(bound int, loss writeLoss, lossErr error) reports.Objective {
	o := reports.Objective{Name: string(scenarios.ObjectiveIntegrity), Bound: fmt.Sprintf("%d corrupted records", bound), Unit: "records"}
	switch {
	case lossErr != nil:
		o.Measured, o.Verdict, o.Detail = "not measured", reports.Error, lossErr.Error()
	case loss.Integrity == nil:
		o.Measured, o.Verdict, o.Detail = "not measured", reports.Error, "the drill's records carry no checksums"
	case loss.Integrity.Valid == 0 && len(loss.Integrity.Corrupted) == 0:
		// No data is not intact data.
		o.Measured, o.Verdict, o.Detail = "no records", reports.Error, "no record was read back: nothing to check"
	default:
		n := len(loss.Integrity.Corrupted)
		o.Measured, o.Value, o.Verdict = fmt.Sprintf("%d corrupted", n), float64(n), reports.Pass
		o.Detail = fmt.Sprintf("%d records read back, each checksum checked: %d valid", loss.Integrity.Valid+n, loss.Integrity.Valid)
		if n > bound {
			o.Verdict = reports.Fail
		}
		if n > 0 {
			o.Detail += "; " + strings.Join(loss.Integrity.Corrupted[:min(n, 5)], "; ")
		}
	}
	return o
}

// minReady returns the fewest Ready pods the sampler read from the injection
// to the end of sampling.
func minReady(d reports.Drill) (int, bool) {
	changes := monitor.Changes(d.Intervals, monitor.LocatorReadyPods)
	lowest, seen := 0, false
	note := func(v string) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return
		}
		if !seen || n < lowest {
			lowest, seen = n, true
		}
	}
	if v, ok := monitor.ValueAt(changes, d.Fault.Injected); ok {
		note(v)
	}
	for _, c := range changes {
		if c.At.After(d.Fault.Injected) {
			note(c.Value)
		}
	}
	return lowest, seen
}

func judgeMinReady(name string, want int, d reports.Drill, what string) reports.Objective {
	got, ok := minReady(d)
	if !ok {
		return reports.Objective{Name: name, Bound: fmt.Sprintf("≥ %d Ready", want), Measured: "not measured", Verdict: reports.Error,
			Detail: "no sample of the workload's Ready pods"}
	}
	o := reports.Objective{Name: name, Bound: fmt.Sprintf("≥ %d Ready", want), Measured: fmt.Sprintf("%d Ready", got),
		Value: float64(got), Unit: "pods", Verdict: reports.Pass, Detail: fmt.Sprintf("fewest Ready pods sampled after injection, against %s %d", what, want)}
	if want == 0 {
		o.Verdict, o.Detail = reports.Error, "the workload has no PodDisruptionBudget to judge"
	} else if got < want {
		o.Verdict = reports.Fail
	}
	return o
}

func judgeDuration(bound time.Duration, d reports.Drill) reports.Objective {
	o := reports.Objective{Name: string(scenarios.ObjectiveMaxDuration), Bound: secs(bound), Unit: "s", Verdict: reports.Pass}
	end := d.Fault.Reverted
	if end.IsZero() {
		o.Measured, o.Verdict, o.Detail = "not reverted", reports.Fail, "the fault was never reverted"
		return o
	}
	for _, i := range d.Intervals {
		if i.Level == monitor.Error && (i.Locator == monitor.LocatorAPINew || i.Locator == monitor.LocatorApp) &&
			i.To.After(end) {
			end = i.To
		}
	}
	took := end.Sub(d.Fault.Injected)
	o.Measured, o.Value = secs(took), took.Seconds()
	o.Detail = "from injection to the revert done and the API (new connections) and app available"
	if took > bound {
		o.Verdict = reports.Fail
	}
	return o
}

// measureName names the unavailability of a sampled service in reports.
var measureName = map[string]string{
	monitor.LocatorAPINew:    "API down, new conns",
	monitor.LocatorAPIReused: "API down, reused conn",
	monitor.LocatorApp:       "app down",
}

// measure returns the figures every drill reports beside its fault's.
func (r *run) measure(loss writeLoss) []reports.Measurement {
	d := r.d
	after := func(l string) []monitor.Interval {
		return monitor.Filter(d.Intervals, func(i monitor.Interval) bool {
			return i.Locator == l && i.Level == monitor.Error && i.To.After(d.Fault.Injected)
		})
	}
	var ms []reports.Measurement
	for _, l := range []string{monitor.LocatorAPINew, monitor.LocatorAPIReused} {
		ivs := after(l)
		ms = append(ms, reports.Measurement{Name: measureName[l], Value: objectives.Unavailable(ivs).Seconds(), Unit: "s",
			Detail: fmt.Sprintf("%d outages, longest %s", len(ivs), secs(objectives.MaxOutage(ivs)))})
	}
	seen := map[string]bool{}
	for _, i := range d.Intervals {
		if strings.HasPrefix(i.Locator, "apiserver/") && !seen[i.Locator] {
			seen[i.Locator] = true
			ivs := after(i.Locator)
			server := strings.TrimSuffix(strings.TrimPrefix(i.Locator, "apiserver/"), " path/readyz")
			ms = append(ms, reports.Measurement{Name: "apiserver " + server + " down", Value: objectives.Unavailable(ivs).Seconds(), Unit: "s",
				Detail: fmt.Sprintf("%d outages", len(ivs))})
		}
	}
	if r.env.App != nil {
		ivs := after(monitor.LocatorApp)
		ms = append(ms, reports.Measurement{Name: measureName[monitor.LocatorApp], Value: objectives.Unavailable(ivs).Seconds(), Unit: "s",
			Detail: fmt.Sprintf("%d outages, longest %s", len(ivs), secs(objectives.MaxOutage(ivs)))})
		if n, ok := minReady(d); ok {
			ms = append(ms, reports.Measurement{Name: "fewest Ready pods", Value: float64(n), Unit: "pods"})
		}
	}
	if r.s.Writes() != nil && loss.Attempts > 0 {
		ms = append(ms,
			reports.Measurement{Name: "writes acknowledged", Value: float64(loss.Acknowledged), Unit: "count", Detail: fmt.Sprintf("of %d attempted", loss.Attempts)},
			reports.Measurement{Name: "acknowledged writes lost", Value: float64(loss.LostCount), Unit: "count"},
			reports.Measurement{Name: "data loss window", Value: loss.Window.Seconds(), Unit: "s"},
		)
	}
	if !d.Fault.Effective.IsZero() {
		ms = append(ms, reports.Measurement{Name: "fact check", Value: d.Fault.Effective.Sub(d.Fault.Injected).Seconds(), Unit: "s",
			Detail: "from injection until the fact check saw the fault in effect"})
	}
	return ms
}
