package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/redact"
)

// WriteMarkdown writes a Markdown summary of r: a title, the cluster, when
// the drills started and finished and the wall time between, an overview
// table with one row per drill, then a section per drill with its
// description, the fault's timeline, its objectives, measurements and
// failures, and the unavailability (intervals of Level Error) the samplers
// recorded. Offsets are from the fault's injection.
func WriteMarkdown(w io.Writer, r Report) error {
	r = redact.Value(r)
	var b bytes.Buffer
	b.WriteString("# Drill report\n\n")
	if r.Cluster != "" {
		fmt.Fprintf(&b, "- Cluster: `%s`\n", inlineCode(r.Cluster))
	}
	fmt.Fprintf(&b, "- Started: %s\n", timestamp(r.Started))
	fmt.Fprintf(&b, "- Finished: %s\n", timestamp(r.Finished))
	fmt.Fprintf(&b, "- Wall time: %s\n", wallTime(r.Started, r.Finished))
	fmt.Fprintf(&b, "- Verdicts: %s\n", verdictCount(r))
	writeTimeMarkdown(&b, r)

	b.WriteString("\n## Overview\n\n")
	if len(r.Drills) == 0 {
		b.WriteString("No drills ran.\n")
	} else {
		table(&b, []string{"Drill", "Fault", "Target", "Verdict", "Duration"}, func(row func(...string)) {
			for _, d := range r.Drills {
				row(d.Name, d.Fault.Type, d.Fault.Target, verdictCell(d.Verdict), drillDuration(d))
			}
		})
	}
	for _, d := range r.Drills {
		writeDrillMarkdown(&b, d)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

// writeTimeMarkdown writes where the game day's time went: the buckets of
// the whole span and of each drill (package timing).
func writeTimeMarkdown(b *bytes.Buffer, r Report) {
	total := r.Time()
	if total.Wall <= 0 {
		return
	}
	b.WriteString("\n## Where the time went\n\n")
	fmt.Fprintf(b, "From %s to %s: every second in exactly one bucket, the innermost phase's.\n\n",
		timestamp(total.From), timestamp(total.To))
	head := append([]string{"", "Wall"}, bucketNames()...)
	table(b, head, func(row func(...string)) {
		row(append([]string{"game day"}, breakdownCells(total)...)...)
		for _, d := range r.Drills {
			if len(d.Phases) > 0 {
				row(append([]string{d.Name}, breakdownCells(d.Time())...)...)
			}
		}
	})
}

// writeDrillMarkdown writes the section of one drill.
func writeDrillMarkdown(b *bytes.Buffer, d Drill) {
	fmt.Fprintf(b, "\n## %s\n\n", line(d.Name))
	if d.Description != "" {
		fmt.Fprintf(b, "%s\n\n", text(strings.TrimSpace(d.Description)))
	}
	fmt.Fprintf(b, "- Verdict: %s\n", verdictCell(d.Verdict))
	fmt.Fprintf(b, "- Fault: `%s` on %s\n", inlineCode(orDash(d.Fault.Type)), line(orDash(d.Fault.Target)))
	if d.File != "" {
		fmt.Fprintf(b, "- File: `%s`\n", inlineCode(d.File))
	}
	fmt.Fprintf(b, "- Sampled: %s to %s (%s)", timestamp(d.Started), timestamp(d.Finished), drillDuration(d))
	if d.SamplingInterval > 0 {
		fmt.Fprintf(b, ", every %s", d.SamplingInterval)
	}
	b.WriteString("\n")
	if len(d.Phases) > 0 {
		fmt.Fprintf(b, "- Time: %s\n", breakdownText(d.Time()))
	}
	if d.Host != nil {
		fmt.Fprintf(b, "- Host: %s\n", line(d.Host.String()))
	}

	origin, originName := d.Fault.Injected, "injection"
	if origin.IsZero() {
		origin, originName = d.Started, "the start of sampling (the fault was not injected)"
	}

	fmt.Fprintf(b, "\n### Fault timeline\n\nOffsets are from %s.\n\n", originName)
	table(b, []string{"Event", "At", "Detail"}, func(row func(...string)) {
		for _, e := range faultEvents(d, origin) {
			row(e.Event, e.At, e.Detail)
		}
	})

	b.WriteString("\n### Objectives\n\n")
	if len(d.Objectives) == 0 {
		b.WriteString("No objectives declared.\n")
	} else {
		table(b, []string{"Objective", "Bound", "Measured", "Verdict", "Detail"}, func(row func(...string)) {
			for _, o := range d.Objectives {
				row(o.Name, o.Bound, o.Measured, verdictCell(o.Verdict), o.Detail)
			}
		})
	}

	if len(d.Measurements) > 0 {
		b.WriteString("\n### Measurements\n\n")
		table(b, []string{"Measurement", "Value", "Detail"}, func(row func(...string)) {
			for _, m := range d.Measurements {
				row(m.Name, value(m.Value, m.Unit), m.Detail)
			}
		})
	}

	if len(d.Findings) > 0 {
		b.WriteString("\n### Findings\n\n")
		for _, f := range d.Findings {
			fmt.Fprintf(b, "- %s\n", line(f))
		}
	}

	writeAlertsMarkdown(b, d, origin)

	if len(d.Failures) > 0 {
		b.WriteString("\n### Failures\n\n")
		for _, f := range d.Failures {
			fmt.Fprintf(b, "- %s\n", line(f))
		}
	}

	b.WriteString("\n### Unavailability\n\n")
	var outages []monitor.Interval
	for _, i := range d.Intervals {
		if i.Level == monitor.Error {
			outages = append(outages, i)
		}
	}
	if len(outages) == 0 {
		b.WriteString("None recorded.\n")
		return
	}
	slices.SortStableFunc(outages, func(a, b monitor.Interval) int { return a.From.Compare(b.From) })
	table(b, []string{"Locator", "From", "Duration", "Open", "Message"}, func(row func(...string)) {
		for _, i := range outages {
			open := "no"
			if i.Open {
				open = "yes"
			}
			row(i.Locator, offset(i.From, origin), seconds(i.Duration()), open, i.Message)
		}
	})
}

// table writes a Markdown table with the header cells and the rows that
// rows adds; every cell is escaped.
func table(b *bytes.Buffer, header []string, rows func(row func(...string))) {
	row := func(cells ...string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + cell(c) + " |")
		}
		b.WriteString("\n")
	}
	row(header...)
	b.WriteString("|" + strings.Repeat(" --- |", len(header)) + "\n")
	rows(row)
}

// cell escapes s for a Markdown table cell: one line, pipes escaped, its
// lines joined with <br>, the only HTML the summary holds (text).
func cell(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = text(strings.TrimSpace(l))
	}
	return strings.ReplaceAll(strings.Join(lines, "<br>"), "|", `\|`)
}

// markupEscaper writes the characters that would start HTML, an entity, a
// link or an image as entities: recorded text never becomes markup or a
// link (a "[x](javascript:...)" in an error message stays text), and a
// backslash cannot undo an escape (a recorded `\|` stays in its cell).
var markupEscaper = strings.NewReplacer(`\`, "&#92;", "&", "&amp;", "<", "&lt;", "[", "&#91;")

// text escapes s for Markdown prose: a recorded message such as
// "error: <nil>" must show as written, not as an HTML tag that renderers
// hide (and WriteHTML passes the summary's HTML through).
func text(s string) string {
	return markupEscaper.Replace(s)
}

// line is oneLine, escaped as text.
func line(s string) string {
	return text(oneLine(s))
}

// inlineCode keeps s from closing the code span it is put in.
func inlineCode(s string) string {
	return strings.ReplaceAll(oneLine(s), "`", "'")
}

// verdictCell emphasizes verdicts other than Pass.
func verdictCell(v Verdict) string {
	switch v {
	case Pass:
		return string(v)
	case "":
		return "-"
	default:
		return "**" + string(v) + "**"
	}
}

// timestampIf is timestamp, or "" when t is zero.
func timestampIf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timestamp(t)
}

// wallTime formats the time between from and to in seconds, with minutes
// beside it when it is long: "312.4s (5m12s)".
func wallTime(from, to time.Time) string {
	if from.IsZero() || to.Before(from) {
		return "-"
	}
	d := to.Sub(from)
	if d < time.Minute {
		return seconds(d)
	}
	return fmt.Sprintf("%s (%s)", seconds(d), d.Round(time.Second))
}

// writeAlertsMarkdown writes what the alerts did: where they were read,
// the intervals that bound their times, and one row per alert with its
// pending and firing stretches and its notifications, as offsets from
// origin.
func writeAlertsMarkdown(b *bytes.Buffer, d Drill, origin time.Time) {
	a := d.Alerts
	if a == nil {
		return
	}
	b.WriteString("\n### Alerts\n\n")
	fmt.Fprintf(b, "Read from Prometheus %s (scrape every %s, rules evaluated every %s: each time below is known to within both)",
		line(a.Prometheus), orDash(durationText(a.ScrapeInterval)), a.EvaluationInterval)
	if a.Receiver != "" {
		fmt.Fprintf(b, "; notifications measured at the webhook receiver %s", line(a.Receiver))
	} else {
		b.WriteString("; notifications not measured (no receiver)")
	}
	b.WriteString(".\n\n")
	if len(a.Seen) == 0 {
		b.WriteString("No alert was pending or firing during the drill.\n")
		return
	}
	spans := func(ss []Span) string {
		var parts []string
		for _, s := range ss {
			end := offset(s.To, origin)
			if s.Open {
				end = "end (still active)"
			}
			parts = append(parts, offset(s.From, origin)+" to "+end)
		}
		return orDash(strings.Join(parts, ", "))
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return offset(t, origin)
	}
	table(b, []string{"Alert", "Severity", "Pending", "Firing", "Notified", "Notified resolved"}, func(row func(...string)) {
		for _, al := range a.Seen {
			labels := make([]string, 0, len(al.Labels))
			for _, k := range slices.Sorted(maps.Keys(al.Labels)) {
				if k != "severity" {
					labels = append(labels, k+"="+al.Labels[k])
				}
			}
			name := al.Name
			if len(labels) > 0 {
				name += " {" + strings.Join(labels, ", ") + "}"
			}
			row(name, orDash(al.Severity()), spans(al.Pending), spans(al.Firing), at(al.Notified), at(al.NotifiedResolved))
		}
	})
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// faultEvent is a line of a drill's fault timeline: the injection, the
// effect, the revert, and the fault's own steps where they fall.
type faultEvent struct {
	Event, At, Detail string
}

// faultEvents lists d's fault timeline, offsets from origin: the fault's
// own steps where they fall (backups before the injection, restore steps
// after the revert started), the injection, the effect with its facts, the
// revert's start and its end or failure.
func faultEvents(d Drill, origin time.Time) []faultEvent {
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return offset(t, origin)
	}
	f := d.Fault
	steps := slices.Clone(f.Steps)
	slices.SortStableFunc(steps, func(a, b monitor.Interval) int { return a.From.Compare(b.From) })
	var out []faultEvent
	row := func(event, at, detail string) { out = append(out, faultEvent{event, at, detail}) }
	stepsUntil := func(t time.Time) {
		for len(steps) > 0 && (t.IsZero() || steps[0].From.Before(t)) {
			s := steps[0]
			steps = steps[1:]
			msg := s.Message
			if s.Level == monitor.Error {
				msg = "failed: " + msg
			}
			row(s.Locator, at(s.From), fmt.Sprintf("%s (%s)", msg, seconds(s.Duration())))
		}
	}
	stepsUntil(cmp.Or(f.Injected, d.Finished))
	row("Injected", at(f.Injected), cmp.Or(timestampIf(f.Injected), "not injected"))
	effective := strings.Join(f.Facts, "; ")
	if f.Effective.IsZero() {
		effective = "did not take effect"
	}
	row("Effective", at(f.Effective), effective)
	stepsUntil(f.RevertStarted)
	row("Revert started", at(f.RevertStarted), "")
	stepsUntil(time.Time{})
	reverted := ""
	switch {
	case f.RevertError != "":
		reverted = "revert failed: " + f.RevertError
	case f.Reverted.IsZero() && !f.RevertStarted.IsZero():
		reverted = "not reverted"
	}
	row("Reverted", at(f.Reverted), reverted)
	return out
}
