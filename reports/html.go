package reports

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/redact"
)

// WriteHTML writes r as one self-contained page for people to read: the
// game day's verdict at the top (id="verdict", data-verdict pass, fail or
// error), a table of the drills (id="drills", a row per drill with data-drill,
// its RTO and RPO against their bounds and a link to its section), where
// the game day's time went, then a section per drill (section.drill,
// id="drill-SLUG", data-verdict) with its timeline (drawTimeline: a
// figure.timeline with data-drill holding one SVG), its fault, objectives,
// measurements, findings, preflight, alerts, unavailability and where its
// time went.
//
// The page loads nothing: no script, font or stylesheet from elsewhere, so
// it opens as well from a CI artifact as from disk. It reads on a phone
// (wide tables and the timeline scroll inside their own box) and prints
// (the timeline scales to the page, each drill starts a page). Credentials
// are redacted (redact.Value) and every recorded text reaches the page
// through html/template, as text: none becomes markup.
func WriteHTML(w io.Writer, r Report) error {
	return writeHTMLPage(w, redact.Value(r))
}

// writeHTMLPage is WriteHTML of a report already redacted.
func writeHTMLPage(w io.Writer, r Report) error {
	page, err := newHTMLPage(r)
	if err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	if err := htmlTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

// GameDayVerdict sums the drills' verdicts up: Fail when any drill failed,
// else Error when any could not measure (or had another verdict, or none
// ran), else Pass.
func (r Report) GameDayVerdict() Verdict {
	if len(r.Drills) == 0 {
		return Error
	}
	v := Pass
	for _, d := range r.Drills {
		switch d.Verdict {
		case Pass:
		case Fail:
			return Fail
		default:
			v = Error
		}
	}
	return v
}

// verdictClass is the page's class of a verdict: pass, fail, error, or
// other for anything else.
func verdictClass(v Verdict) string {
	switch v {
	case Pass, Fail, Error:
		return string(v)
	}
	return "other"
}

// htmlPage is what the page's template shows. Every string in it is
// recorded or computed text, escaped by html/template; the only
// template.HTML is gonum's SVG of each timeline (package svgplot).
type htmlPage struct {
	Title     string
	Cluster   string
	Verdict   string
	Summary   string
	Started   string
	Finished  string
	Wall      string
	Drills    []htmlDrill
	TimeHead  []string
	TimeRows  [][]string
	TimeSpan  string
	HasPhases bool
}

// htmlDrill is a drill's row in the summary and its section.
type htmlDrill struct {
	// Verdict is as recorded; Class is pass, fail or error (anything but
	// pass or fail is an error here).
	Name, Slug, Verdict   string
	Class                 string
	Description           string
	FaultType, Target     string
	File, Sampled, Host   string
	Duration              string
	RTO, RPO              []htmlObjective
	Failures              []string
	Timeline              timeline
	Origin                string
	FaultEvents           []faultEvent
	Objectives            []htmlObjective
	Measurements          []htmlMeasurement
	Findings              []string
	Preflight             []htmlCheck
	Alerts                *htmlAlerts
	Outages               []htmlOutage
	TimeRows              [][]string
	TimeWall, TimeSummary string
}

// htmlObjective is an objective with its gauge.
type htmlObjective struct {
	Name, Bound, Measured, Verdict, Detail string
	// Class is the verdict's (verdictClass).
	Class string
	Gauge *htmlGauge
}

// htmlGauge is a small bar of a measured value against its bound: the
// bound at two thirds of the width, the bar clamped at the width.
type htmlGauge struct {
	Width, Bound string
	Title        string
}

type htmlMeasurement struct{ Name, Value, Detail string }

type htmlCheck struct{ Name, Status, Class, Detail string }

type htmlAlerts struct {
	Source string
	Rows   []htmlAlert
}

type htmlAlert struct {
	Name, Severity, Pending, Firing, Notified, NotifiedResolved string
}

// htmlOutage sums up one locator's unavailability.
type htmlOutage struct {
	Locator, Count, Down, Longest, Open, Message string
}

// Sizes of a gauge, in its viewBox.
const (
	gaugeWidth = 60.0
	gaugeBound = 40.0
)

func newHTMLPage(r Report) (htmlPage, error) {
	p := htmlPage{
		Title:    "Drill report",
		Cluster:  r.Cluster,
		Verdict:  string(r.GameDayVerdict()),
		Summary:  verdictCount(r),
		Started:  timestamp(r.Started),
		Finished: timestamp(r.Finished),
		Wall:     wallTime(r.Started, r.Finished),
	}
	if r.Cluster != "" {
		p.Title += ": " + oneLine(r.Cluster)
	}
	if total := r.Time(); total.Wall > 0 {
		p.HasPhases = true
		p.TimeSpan = fmt.Sprintf("From %s to %s: every second in exactly one bucket, the innermost phase's.", timestamp(total.From), timestamp(total.To))
		p.TimeHead = append([]string{"", "Wall"}, bucketNames()...)
		p.TimeRows = append(p.TimeRows, append([]string{"game day"}, breakdownCells(total)...))
		for _, d := range r.Drills {
			if len(d.Phases) > 0 {
				p.TimeRows = append(p.TimeRows, append([]string{d.Name}, breakdownCells(d.Time())...))
			}
		}
	}
	slugs := drillSlugs(r.Drills)
	for i, d := range r.Drills {
		hd, err := newHTMLDrill(d, slugs[i])
		if err != nil {
			return htmlPage{}, err
		}
		p.Drills = append(p.Drills, hd)
	}
	return p, nil
}

func newHTMLDrill(d Drill, slug string) (htmlDrill, error) {
	tl, err := drawTimeline(d)
	if err != nil {
		return htmlDrill{}, err
	}
	origin := cmp.Or(d.Fault.Injected, d.Started)
	h := htmlDrill{
		Name:        d.Name,
		Slug:        slug,
		Verdict:     orDash(string(d.Verdict)),
		Class:       verdictClass(d.Verdict),
		Description: strings.TrimSpace(d.Description),
		FaultType:   orDash(d.Fault.Type),
		Target:      orDash(d.Fault.Target),
		File:        d.File,
		Duration:    drillDuration(d),
		Failures:    d.Failures,
		Timeline:    tl,
		Origin:      tl.Origin,
		FaultEvents: faultEvents(d, origin),
		Findings:    d.Findings,
		Outages:     htmlOutages(d.Intervals, origin),
	}
	if h.Class == "other" {
		h.Class = string(Error)
	}
	h.Sampled = fmt.Sprintf("%s to %s (%s)", timestamp(d.Started), timestamp(d.Finished), drillDuration(d))
	if d.SamplingInterval > 0 {
		h.Sampled += ", every " + d.SamplingInterval.String()
	}
	if d.Host != nil {
		h.Host = d.Host.String()
	}
	for _, o := range d.Objectives {
		ho := htmlObjective{Name: o.Name, Bound: orDash(o.Bound), Measured: orDash(o.Measured), Verdict: orDash(string(o.Verdict)), Detail: o.Detail, Class: verdictClass(o.Verdict), Gauge: gauge(o)}
		h.Objectives = append(h.Objectives, ho)
		switch {
		case o.Name == "rto" || strings.HasPrefix(o.Name, "rto."):
			h.RTO = append(h.RTO, ho)
		case o.Name == "rpo" || strings.HasPrefix(o.Name, "rpo."):
			h.RPO = append(h.RPO, ho)
		}
	}
	for _, m := range d.Measurements {
		h.Measurements = append(h.Measurements, htmlMeasurement{m.Name, value(m.Value, m.Unit), m.Detail})
	}
	for _, c := range d.Preflight {
		class := "other"
		switch c.Status {
		case "ok":
			class = "pass"
		case "failed":
			class = "fail"
		}
		h.Preflight = append(h.Preflight, htmlCheck{c.Name, orDash(c.Status), class, c.Detail})
	}
	if a := d.Alerts; a != nil {
		h.Alerts = htmlAlertsOf(*a, origin)
	}
	if len(d.Phases) > 0 {
		t := d.Time()
		h.TimeWall = durationShort(t.Wall)
		h.TimeSummary = breakdownText(t)
		names := bucketNames()
		for i, c := range breakdownCells(t)[1:] {
			h.TimeRows = append(h.TimeRows, []string{names[i], c})
		}
	}
	return h, nil
}

// gauge draws o's measured value against its bound, when both are numbers
// in its unit (ParseBound) and it was measured.
func gauge(o Objective) *htmlGauge {
	b, ok := ParseBound(o.Bound, o.Unit)
	if !ok || o.Verdict == Error || math.IsNaN(o.Value) || math.IsInf(o.Value, 0) || o.Value < 0 || b < 0 {
		return nil
	}
	var w, at float64
	switch {
	case b == 0 && o.Value == 0:
		w, at = 0, 1
	case b == 0:
		w, at = gaugeWidth, 1
	default:
		w, at = math.Min(o.Value/b*gaugeBound, gaugeWidth), gaugeBound
	}
	return &htmlGauge{
		Width: strconv.FormatFloat(w, 'f', 1, 64),
		Bound: strconv.FormatFloat(at, 'f', 1, 64),
		Title: fmt.Sprintf("%s: measured %s against %s (%s)", o.Name, orDash(o.Measured), orDash(o.Bound), orDash(string(o.Verdict))),
	}
}

// htmlAlertsOf is the alert table: where the alerts were read and a row
// per alert, offsets from origin.
func htmlAlertsOf(a Alerts, origin time.Time) *htmlAlerts {
	src := fmt.Sprintf("Read from Prometheus %s (scrape every %s, rules evaluated every %s: each time below is known to within both)",
		oneLine(a.Prometheus), orDash(durationText(a.ScrapeInterval)), a.EvaluationInterval)
	if a.Receiver != "" {
		src += "; notifications measured at the webhook receiver " + oneLine(a.Receiver)
	} else {
		src += "; notifications not measured (no receiver)"
	}
	out := &htmlAlerts{Source: src + "."}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return offset(t, origin)
	}
	spans := func(ss []Span) string {
		parts := make([]string, 0, len(ss))
		for _, s := range ss {
			end := offset(s.To, origin)
			if s.Open {
				end = "end (still active)"
			}
			parts = append(parts, offset(s.From, origin)+" to "+end)
		}
		return orDash(strings.Join(parts, ", "))
	}
	for _, al := range a.Seen {
		labels := maps.Clone(al.Labels)
		delete(labels, "severity")
		out.Rows = append(out.Rows, htmlAlert{
			Name: al.Name + tlLabels(labels), Severity: orDash(al.Severity()),
			Pending: spans(al.Pending), Firing: spans(al.Firing),
			Notified: at(al.Notified), NotifiedResolved: at(al.NotifiedResolved),
		})
	}
	return out
}

// htmlOutages sums up each locator's unavailability (intervals of Level
// Error), in the order their first outage began: the timeline draws
// every one of them.
func htmlOutages(intervals []monitor.Interval, origin time.Time) []htmlOutage {
	type sum struct {
		first         monitor.Interval
		n             int
		down, longest time.Duration
		open          bool
	}
	sums := map[string]*sum{}
	var order []string
	for _, i := range intervals {
		if i.Level != monitor.Error {
			continue
		}
		s, ok := sums[i.Locator]
		if !ok {
			s = &sum{first: i}
			sums[i.Locator] = s
			order = append(order, i.Locator)
		}
		if i.From.Before(s.first.From) {
			s.first = i
		}
		s.n++
		s.down += i.Duration()
		s.longest = max(s.longest, i.Duration())
		s.open = s.open || i.Open
	}
	slices.SortStableFunc(order, func(a, b string) int { return sums[a].first.From.Compare(sums[b].first.From) })
	out := make([]htmlOutage, 0, len(order))
	for _, l := range order {
		s := sums[l]
		open := "no"
		if s.open {
			open = "yes"
		}
		out = append(out, htmlOutage{
			Locator: l, Count: strconv.Itoa(s.n), Down: seconds(s.down), Longest: seconds(s.longest), Open: open,
			Message: fmt.Sprintf("%s: %s", offset(s.first.From, origin), clip(s.first.Message, tlMessageRunes)),
		})
	}
	return out
}

// slugUnsafe are the characters a section's id leaves out.
var slugUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// DrillAnchors gives the id of each drill's section in report.html, in the
// order of drills: a link to RUN/report.html#ID opens that drill.
func DrillAnchors(drills []Drill) []string { return drillSlugs(drills) }

// drillSlugs gives each drill its section's id: "drill-" and its name,
// every run of characters other than letters, digits, "-", "_" and "."
// made one "-", and a number added when two drills would share one.
func drillSlugs(drills []Drill) []string {
	out := make([]string, len(drills))
	seen := map[string]bool{}
	for i, d := range drills {
		base := "drill-" + cmp.Or(strings.Trim(slugUnsafe.ReplaceAllString(d.Name, "-"), "-"), "unnamed")
		s := base
		for n := 2; seen[s]; n++ {
			s = fmt.Sprintf("%s-%d", base, n)
		}
		seen[s] = true
		out[i] = s
	}
	return out
}
