package history

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/drill-sre/drill/internal/atomicfile"
	"github.com/drill-sre/drill/internal/redact"
	"github.com/drill-sre/drill/reports"
)

// IndexFile is the site's front page: the grid of runs × drills.
const IndexFile = "index.html"

// WriteSite writes the history site to dir: IndexFile, a grid with the
// runs as columns, newest first (on the left, as TestGrid has them), and a
// drill per row, and per drill a page (drill-NAME.html) with a trend chart
// of each figure, oldest run on the left. The pages load nothing: no
// script, stylesheet, font or image from elsewhere, so they open offline
// from an artifact store. Recorded text is escaped by html/template and
// redacted (redact.Value) as every report is. It returns the paths it
// wrote, the index first.
func WriteSite(dir string, a Analysis, opts ...SiteOption) ([]string, error) {
	var o siteOptions
	for _, opt := range opts {
		opt(&o)
	}
	a = redact.Value(a)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write history site: %w", err)
	}
	pages := pageNames(a.History.Drills())
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, newIndexPage(a, pages, o)); err != nil {
		return nil, fmt.Errorf("write history site: render %s: %w", IndexFile, err)
	}
	written := []string{filepath.Join(dir, IndexFile)}
	if err := atomicfile.WriteFile(written[0], buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write history site: %w", err)
	}
	for _, s := range a.Drills {
		page, err := newDrillPage(a, s)
		if err != nil {
			return nil, fmt.Errorf("write history site: drill %s: %w", s.Name, err)
		}
		buf.Reset()
		if err := drillTemplate.Execute(&buf, page); err != nil {
			return nil, fmt.Errorf("write history site: render %s: %w", pages[s.Name], err)
		}
		path := filepath.Join(dir, pages[s.Name])
		if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("write history site: %w", err)
		}
		written = append(written, path)
	}
	return written, nil
}

// SiteOption changes what WriteSite writes.
type SiteOption func(*siteOptions)

type siteOptions struct {
	runReport func(runID string) string
}

// RunReports links each run's column to its report.html, and each cell to
// its drill's section there: link gives the URL of a run's report.html
// relative to the site, "" for a run that has none.
func RunReports(link func(runID string) string) SiteOption {
	return func(o *siteOptions) { o.runReport = link }
}

// pageNames gives each drill its page's file name: drill-NAME.html, with
// any character that does not belong in a file name replaced, and made
// unique.
func pageNames(drills []string) map[string]string {
	pages := map[string]string{}
	used := map[string]bool{}
	for _, d := range drills {
		slug := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
				return r
			}
			return '-'
		}, d)
		name := "drill-" + slug + ".html"
		for i := 2; used[strings.ToLower(name)]; i++ {
			name = fmt.Sprintf("drill-%s-%d.html", slug, i)
		}
		used[strings.ToLower(name)] = true
		pages[d] = name
	}
	return pages
}

// indexPage is what the index shows.
type indexPage struct {
	// Runs are newest first; Oldest and Newest their IDs.
	Runs           []runColumn
	Oldest, Newest string
	Rows           []gridRow
	// Regressions are newest first.
	Regressions []regressionLine
	Flaky       []string
	Thresholds  Thresholds
	FlakyRule   FlakyRule
}

type runColumn struct {
	ID, Started string
	// Link is the run's report.html, "" when unknown.
	Link string
}

type gridRow struct {
	Drill, Page string
	Stats       DrillStats
	PassRate    string
	Cells       []gridCell
}

// gridCell is one drill in one run; Ran is false when it did not run.
type gridCell struct {
	Ran bool
	// Class is the verdict's class: pass, fail, error or other.
	Class, Mark, Headline, Title string
	// Link is the drill's section in its run's report.html, "" when
	// unknown.
	Link string
	// Regressions say, one each, which figure regressed and by how much.
	Regressions []string
}

type regressionLine struct {
	RunID, Drill, Page, Figure, Measured, Against, Verdict string
	Newest                                                 bool
}

func newIndexPage(a Analysis, pages map[string]string, o siteOptions) indexPage {
	p := indexPage{Thresholds: a.Thresholds, FlakyRule: a.FlakyRule}
	runs := a.History.Runs
	links := make([]string, len(runs))
	for i := len(runs) - 1; i >= 0; i-- {
		if o.runReport != nil {
			links[i] = o.runReport(runs[i].ID)
		}
		p.Runs = append(p.Runs, runColumn{ID: runs[i].ID, Started: timestamp(runs[i]), Link: links[i]})
	}
	if len(runs) > 0 {
		p.Oldest, p.Newest = runs[0].ID, runs[len(runs)-1].ID
	}
	regs := map[string][]Regression{} // by drill and run
	for _, r := range a.Regressions {
		k := r.Drill + "\x00" + strconv.Itoa(r.Point.Run)
		regs[k] = append(regs[k], r)
		p.Regressions = append(p.Regressions, regressionLine{
			RunID: r.Point.RunID, Drill: r.Drill, Page: pages[r.Drill], Figure: r.Figure,
			Measured: r.Point.Measured, Against: against(r), Verdict: string(r.Point.Verdict),
			Newest: r.Point.Run == len(runs)-1,
		})
	}
	for _, s := range a.Drills {
		row := gridRow{Drill: s.Name, Page: pages[s.Name], Stats: s, PassRate: percent(s.PassRate())}
		if s.Flaky {
			p.Flaky = append(p.Flaky, s.Name)
		}
		for i := len(runs) - 1; i >= 0; i-- {
			d, ok := a.History.drill(i, s.Name)
			if !ok {
				row.Cells = append(row.Cells, gridCell{})
				continue
			}
			c := gridCell{Ran: true, Class: verdictClass(d.Verdict), Mark: verdictMark(d.Verdict)}
			if links[i] != "" {
				c.Link = links[i] + "#" + anchor(runs[i].Report.Drills, s.Name)
			}
			if len(d.Objectives) > 0 {
				c.Headline = d.Objectives[0].Measured
			}
			c.Title = fmt.Sprintf("%s in %s: %s", s.Name, runs[i].ID, orDash(string(d.Verdict)))
			if len(d.Objectives) > 0 {
				c.Title += fmt.Sprintf(", %s %s", d.Objectives[0].Name, c.Headline)
			}
			for _, r := range regs[s.Name+"\x00"+strconv.Itoa(i)] {
				c.Regressions = append(c.Regressions, fmt.Sprintf("%s %s %s", arrow(r), r.Figure, signed(r.By(), r.Unit)))
				c.Title += fmt.Sprintf("; regressed: %s %s, %s", r.Figure, r.Point.Measured, against(r))
			}
			row.Cells = append(row.Cells, c)
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

// drillPage is what a drill's page shows.
type drillPage struct {
	Name      string
	Stats     DrillStats
	PassRate  string
	Runs      int
	FlakyRule FlakyRule
	// Strip is the drill's verdict per run, newest first.
	Strip   []gridCell
	RunIDs  []string
	Figures []figureSection
}

type figureSection struct {
	Figure, Unit, Bound string
	Chart               chart
	// Rows are the points, newest first.
	Rows        []pointRow
	Regressions []string
}

type pointRow struct {
	N                               int
	RunID, Measured, Verdict, Class string
	Regressed                       bool
}

func newDrillPage(a Analysis, s DrillStats) (drillPage, error) {
	runs := a.History.Runs
	p := drillPage{Name: s.Name, Stats: s, PassRate: percent(s.PassRate()), Runs: len(runs), FlakyRule: a.FlakyRule}
	for i := len(runs) - 1; i >= 0; i-- {
		p.RunIDs = append(p.RunIDs, runs[i].ID)
		d, ok := a.History.drill(i, s.Name)
		if !ok {
			p.Strip = append(p.Strip, gridCell{Title: fmt.Sprintf("did not run in %s", runs[i].ID)})
			continue
		}
		p.Strip = append(p.Strip, gridCell{Ran: true, Class: verdictClass(d.Verdict), Mark: verdictMark(d.Verdict),
			Title: fmt.Sprintf("%s: %s", runs[i].ID, orDash(string(d.Verdict)))})
	}
	for _, ser := range a.Series {
		if ser.Drill != s.Name {
			continue
		}
		regressed := map[int]bool{}
		f := figureSection{Figure: ser.Figure, Unit: orDash(ser.Unit)}
		for _, r := range a.Regressions {
			if r.Drill == ser.Drill && r.Figure == ser.Figure && r.Unit == ser.Unit {
				regressed[r.Point.Run] = true
				f.Regressions = append(f.Regressions, fmt.Sprintf("%s: %s, %s", r.Point.RunID, r.Point.Measured, against(r)))
			}
		}
		c, err := drawChart(ser, len(runs), regressed)
		if err != nil {
			return drillPage{}, fmt.Errorf("figure %s: %w", ser.Figure, err)
		}
		f.Chart = c
		if n := len(ser.Points); n > 0 {
			f.Bound = ser.Points[n-1].Bound
		}
		for _, pt := range slices.Backward(ser.Points) {
			f.Rows = append(f.Rows, pointRow{N: pt.Run + 1, RunID: pt.RunID, Measured: pt.Measured,
				Verdict: orDash(string(pt.Verdict)), Class: verdictClass(pt.Verdict), Regressed: regressed[pt.Run]})
		}
		p.Figures = append(p.Figures, f)
	}
	return p, nil
}

// against says what a regression was compared with: "worse than P95 of
// the 10 earlier runs 12.1s (limit 14.5s) by +16.9s".
func against(r Regression) string {
	return fmt.Sprintf("worse than P%s of the %d earlier runs %s (limit %s) by %s",
		strconv.FormatFloat(r.Percentile, 'f', -1, 64), r.Compared,
		formatValue(r.Baseline, r.Unit), formatValue(r.Limit, r.Unit), signed(r.By(), r.Unit))
}

// arrow shows which way a figure regressed.
func arrow(r Regression) string {
	if r.SmallerIsWorse {
		return "▼"
	}
	return "▲"
}

// verdictClass is a verdict's class on the page, from a closed set.
func verdictClass(v reports.Verdict) string {
	switch v {
	case reports.Pass, reports.Fail, reports.Error:
		return string(v)
	}
	return "other"
}

// verdictMark shows a verdict without its colour: for print, and for
// readers who cannot tell the colours apart.
func verdictMark(v reports.Verdict) string {
	switch v {
	case reports.Pass:
		return "✓"
	case reports.Fail:
		return "✗"
	case reports.Error:
		return "!"
	}
	return "?"
}

// formatValue formats a figure in its unit: seconds with one decimal
// ("11.3s"), other numbers to at most three decimals ("2 pods").
func formatValue(v float64, unit string) string {
	switch unit {
	case "s":
		return strconv.FormatFloat(v, 'f', 1, 64) + "s"
	case "":
		return number(v)
	}
	return number(v) + " " + unit
}

// signed formats a difference with its sign: "+16.9s", "−2 pods".
func signed(v float64, unit string) string {
	if v < 0 {
		return "−" + formatValue(-v, unit)
	}
	return "+" + formatValue(v, unit)
}

func number(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

func percent(f float64) string { return strconv.FormatFloat(math.Round(100*f), 'f', 0, 64) + "%" }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// timestamp is when a run started, for people, or "" when unknown.
func timestamp(r Run) string {
	if r.Started.IsZero() {
		return ""
	}
	return r.Started.UTC().Format("2006-01-02 15:04 UTC")
}

// anchor is the id of drill name's section in the report.html of a run
// with drills.
func anchor(drills []reports.Drill, name string) string {
	ids := reports.DrillAnchors(drills)
	for i, d := range drills {
		if d.Name == name {
			return ids[i]
		}
	}
	return ""
}
