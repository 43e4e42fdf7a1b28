package reports

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/drill-sre/drill/internal/redact"
)

// Column widths of the terminal table, in runes, chosen so that a line fits
// in 100 columns. Longer cells are cut with "…".
const (
	nameWidth    = 30
	faultWidth   = 18
	targetWidth  = 28
	itemWidth    = 26
	boundWidth   = 14
	detailWidth  = 40
	failureWidth = 80
)

// WriteTable writes a terminal summary of r: per drill one line (DRILL,
// FAULT, TARGET, VERDICT, DURATION), then indented lines for its objectives
// (name, bound, measured, verdict), its measurements (name, value, detail)
// and the reasons it failed, and a closing count of verdicts.
func WriteTable(w io.Writer, r Report) error {
	r = redact.Value(r)
	// The drill lines are aligned with each other, the lines under a drill
	// with each other: render the drill lines first, then interleave.
	var head bytes.Buffer
	tw := tabwriter.NewWriter(&head, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DRILL\tFAULT\tTARGET\tVERDICT\tDURATION")
	for _, d := range r.Drills {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n",
			clip(d.Name, nameWidth), clip(orDash(d.Fault.Type), faultWidth),
			clip(orDash(d.Fault.Target), targetWidth), orDash(string(d.Verdict)), drillDuration(d))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	lines := strings.SplitAfter(trimLines(head.String()), "\n")

	var out bytes.Buffer
	out.WriteString(lines[0])
	for i, d := range r.Drills {
		out.WriteString(lines[i+1])
		if err := writeDrillDetails(&out, d); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	out.WriteString(verdictCount(r) + "\n")
	if t := r.Time(); t.Wall > 0 {
		out.WriteString("time: " + breakdownText(t) + "\n")
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// writeDrillDetails writes the indented lines under a drill's line.
func writeDrillDetails(w *bytes.Buffer, d Drill) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, o := range d.Objectives {
		fmt.Fprintf(tw, "    objective\t%s\t%s\t%s\t%s\n", clip(o.Name, itemWidth),
			clip(orDash(o.Bound), boundWidth), clip(orDash(o.Measured), boundWidth), orDash(string(o.Verdict)))
	}
	for _, m := range d.Measurements {
		fmt.Fprintf(tw, "    measured\t%s\t%s\t%s\n", clip(m.Name, itemWidth),
			clip(value(m.Value, m.Unit), boundWidth), clip(m.Detail, detailWidth))
	}
	for _, f := range d.Failures {
		fmt.Fprintf(tw, "    failure\t%s\n", clip(f, failureWidth))
	}
	if len(d.Phases) > 0 {
		fmt.Fprintf(tw, "    time\t%s\n", breakdownText(d.Time()))
	}
	if d.Host != nil && d.Host.Starved() != "" {
		fmt.Fprintf(tw, "    host\tstarved: %s\n", d.Host.Starved())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	w.WriteString(trimLines(buf.String()))
	return nil
}

// verdictCount sums the verdicts up: "3 drills: 2 pass, 1 fail".
func verdictCount(r Report) string {
	counts := map[Verdict]int{}
	order := []Verdict{Pass, Fail, Error}
	for _, d := range r.Drills {
		if !slices.Contains(order, d.Verdict) {
			order = append(order, d.Verdict)
		}
		counts[d.Verdict]++
	}
	var parts []string
	for _, v := range order {
		if n := counts[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, orDash(string(v))))
		}
	}
	noun := "drills"
	if len(r.Drills) == 1 {
		noun = "drill"
	}
	if len(parts) == 0 {
		return fmt.Sprintf("0 %s", noun)
	}
	return fmt.Sprintf("%d %s: %s", len(r.Drills), noun, strings.Join(parts, ", "))
}
