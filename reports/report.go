// Package reports is the model of what a game day measured, and its
// renderers.
//
// A Report holds one Drill per drill run: the fault with the times it was
// injected, took effect and was reverted, every interval the samplers
// recorded, the figures measured from them, and each declared objective with
// its measured value and verdict. It is written as report.json under a
// versioned schema (SchemaVersion), as JUnit for CI, and summed up as a
// terminal table and a Markdown page.
//
// report.html (WriteHTML) is the page people read: the game day's verdict,
// a table of the drills with their RTO and RPO against their bounds, and
// per drill a timeline drawn from its Drill alone (drawTimeline: the
// samplers' outages, Ready pods and the PDB, the fault and its steps, the
// alerts, the objectives' deadlines, each with its recorded message as a
// tooltip) above its tables. It loads nothing and runs no script.
//
// Each drill writes its own file (WriteDrill) as soon as it ends, so that a
// game day cut short still leaves evidence; Collect gathers them into one
// Report.
package reports

import (
	"slices"
	"time"

	"github.com/drill-sre/drill/internal/hostload"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/timing"
)

// SchemaVersion names the shape of report.json. It changes whenever a field
// changes meaning or goes away; added fields keep it.
const SchemaVersion = "drill.sre/report/v1"

// Report is a game day: every drill that ran, in the order they ran.
type Report struct {
	SchemaVersion string `json:"schemaVersion"`
	// Cluster names the cluster the drills ran against.
	Cluster string `json:"cluster,omitempty"`
	// Started and Finished bound the drills (the earliest start, the latest
	// finish).
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Drills   []Drill   `json:"drills"`
	// Phases are the game day's time outside its drills: the cluster
	// brought up, images loaded, journals recovered (WritePhases).
	Phases []timing.Phase `json:"phases,omitempty"`
}

// Time gives the game day's wall time, from its first phase to its last
// (the cluster's bring-up to the last drill's judging), out to the buckets
// of package timing; what no phase covers (between drills, compiling the
// suites) is Unattributed.
func (r Report) Time() timing.Breakdown {
	all := slices.Clone(r.Phases)
	for _, d := range r.Drills {
		all = append(all, d.Phases...)
	}
	return timing.Whole(all)
}

// Verdict is the outcome of an objective or of a whole drill.
type Verdict string

// Verdicts.
const (
	// Pass: measured and within the objective.
	Pass Verdict = "pass"
	// Fail: measured and outside the objective, or (for a drill) any
	// objective failed or the fault did not take effect.
	Fail Verdict = "fail"
	// Error: the drill could not measure, for example because the cluster
	// was not healthy before injection or the fault could not be injected.
	Error Verdict = "error"
)

// Drill is one drill run.
type Drill struct {
	// Name is the scenario's name; File the scenario file it came from.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	File        string `json:"file,omitempty"`
	// Verdict sums the drill up: Pass when the fault took effect, every
	// objective passed and the revert succeeded.
	Verdict Verdict `json:"verdict"`
	// Failures says why the verdict is not Pass, one reason per line.
	Failures []string `json:"failures,omitempty"`
	// Started is when sampling began, Finished when it stopped.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// SamplingInterval is the samplers' period.
	SamplingInterval time.Duration `json:"samplingInterval"`
	Fault            Fault         `json:"fault"`
	Objectives       []Objective   `json:"objectives"`
	// Measurements are the figures measured beside the objectives: leader
	// changes, lease takeovers, rejoin time, refused evictions, restarts.
	Measurements []Measurement `json:"measurements,omitempty"`
	// Intervals are everything the samplers and the fault recorded, ordered
	// by From.
	Intervals []monitor.Interval `json:"intervals"`
	// Samplers are each sampler's statistics.
	Samplers []monitor.Stats `json:"samplers,omitempty"`
	// Alerts is what Prometheus' alerts did during the drill; nil when the
	// drill had no alert source.
	Alerts *Alerts `json:"alerts,omitempty"`
	// Findings are what the drill showed that its objectives do not say
	// on their own, in plain words ("the seed's ClusterDown fired while
	// the API served").
	Findings []string `json:"findings,omitempty"`
	// Preflight is what was checked of the cluster before the drill began;
	// a failed check stopped it before anything was injected.
	Preflight []Check `json:"preflight,omitempty"`
	// Journal is the ID of the fault's journal, which drill recover reads
	// when the harness stopped before the revert finished.
	Journal string `json:"journal,omitempty"`
	// Phases are where the drill's time went, from its setup to its
	// judging (package timing); Time sums them up in buckets.
	Phases []timing.Phase `json:"phases,omitempty"`
	// Host is how starved the machine running drill was during the
	// drill; nil when not recorded.
	Host *hostload.Summary `json:"host,omitempty"`
}

// Time gives the drill's wall time, from its first phase's start to its
// last phase's end, out to the buckets of package timing.
func (d Drill) Time() timing.Breakdown {
	return timing.Whole(d.Phases)
}

// Check is one preflight check of the cluster.
type Check struct {
	Name string `json:"name"`
	// Status is "ok", "failed" or "not checked" (it could not run here,
	// which is not a pass).
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Alerts is what the alerts did during a drill, read from Prometheus'
// ALERTS series over the drill's window, and what the webhook receiver got
// from Alertmanager.
type Alerts struct {
	// Prometheus and Alertmanager are the URLs the drill read.
	Prometheus   string `json:"prometheus"`
	Alertmanager string `json:"alertmanager,omitempty"`
	// Receiver is the webhook URL notifications were measured at, ""
	// when they were not.
	Receiver string `json:"receiver,omitempty"`
	// ScrapeInterval and EvaluationInterval bound time-to-detect: an
	// alert's times are known to within one of each.
	ScrapeInterval     time.Duration `json:"scrapeInterval,omitempty"`
	EvaluationInterval time.Duration `json:"evaluationInterval"`
	// Seen is every alert that was pending or firing during the drill,
	// expected or not.
	Seen []Alert `json:"seen"`
}

// Alert is one alert (one alertname and label set) as Prometheus'
// ALERTS series recorded it.
type Alert struct {
	Name string `json:"name"`
	// Labels are the alert's labels beside alertname and alertstate.
	Labels map[string]string `json:"labels,omitempty"`
	// Pending and Firing are the stretches the alert spent in each state.
	// From is the first evaluation that found it so; To the first that
	// did not (the last one plus the evaluation interval), or the end of
	// the window when Open.
	Pending []Span `json:"pending,omitempty"`
	Firing  []Span `json:"firing,omitempty"`
	// Notified is when the webhook receiver first got it firing, and
	// NotifiedResolved when it got it resolved; zero when it did not.
	Notified         time.Time `json:"notified,omitzero"`
	NotifiedResolved time.Time `json:"notifiedResolved,omitzero"`
}

// Severity is the alert's severity label, "" without one.
func (a Alert) Severity() string { return a.Labels["severity"] }

// Span is a stretch of time an alert spent in one state.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Open: still in that state when the window ended.
	Open bool `json:"open,omitempty"`
}

// Fault is what a drill broke and when.
type Fault struct {
	// Type is the fault type ("kill-control-plane").
	Type string `json:"type"`
	// Target says what the fault acted on ("node drill-control-plane2 (etcd
	// leader)").
	Target string `json:"target"`
	// Injected is when the injection began: the origin of every RTO.
	Injected time.Time `json:"injected"`
	// Effective is when the fact check saw the fault take effect; zero if it
	// never did.
	Effective time.Time `json:"effective,omitzero"`
	// Facts are what the fact check observed ("container exited",
	// "etcd has 2 members").
	Facts []string `json:"facts,omitempty"`
	// RevertStarted and Reverted bound the revert; Reverted is zero if the
	// revert failed (RevertError says why).
	RevertStarted time.Time `json:"revertStarted,omitzero"`
	Reverted      time.Time `json:"reverted,omitzero"`
	RevertError   string    `json:"revertError,omitempty"`
	// Steps are what the fault recorded of its own doing, for the
	// timeline: backups taken, the steps of a restore. An Error step
	// failed.
	Steps []monitor.Interval `json:"steps,omitempty"`
}

// Objective is one declared objective, judged.
type Objective struct {
	// Name is the objective as written under objectives ("rto.api").
	Name string `json:"name"`
	// Bound is the declared objective, as written ("20s", "0 writes").
	Bound string `json:"bound"`
	// Measured is the measured value, human-readable ("11.3s").
	Measured string `json:"measured"`
	// Value is the measured value in Unit, for machines.
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Verdict is Pass or Fail; Error when it could not be measured.
	Verdict Verdict `json:"verdict"`
	// Detail explains the measurement or the failure.
	Detail string `json:"detail,omitempty"`
}

// Measurement is a figure measured during a drill that is not an objective.
type Measurement struct {
	// Name says what was measured ("etcd leader change").
	Name string `json:"name"`
	// Value in Unit ("s" for seconds, "count", ...).
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Detail gives context ("drill-control-plane2 → drill-control-plane3").
	Detail string `json:"detail,omitempty"`
}
