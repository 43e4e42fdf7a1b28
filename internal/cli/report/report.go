// Package report implements `drill report`: gather the drills of a game day
// into one report and render it as JSON, Markdown, HTML, JUnit, Prometheus
// metrics, a short Markdown summary and a terminal table; or, with
// --history, build the history site of every run kept (package history).
package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/atomicfile"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history"
	"github.com/drill-sre/drill/reports/metrics"
)

// Files written by `drill report`, in the report directory.
const (
	JSONFile     = "report.json"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	JUnitFile    = "junit-drills.xml"
	// PrometheusFile holds the report's metrics (package metrics), for
	// node-exporter's textfile collector, which reads *.prom.
	PrometheusFile = "report.prom"
	// SummaryFile is the short Markdown summary, for a CI job summary or a
	// pull request comment.
	SummaryFile = "summary.md"
)

// Formats of what `drill report` prints on stdout.
const (
	FormatTable      = "table"
	FormatPrometheus = "prometheus"
	FormatSummary    = "summary"
)

// DefaultDir is where drills write their reports unless told otherwise.
const DefaultDir = "_output/runs/latest"

// HistoryDir is where --history writes the site unless --out says
// otherwise, under the runs directory.
const HistoryDir = "history"

type flagpole struct {
	Dir  string
	From string
	// DirSet says --dir was given, as opposed to defaulted.
	DirSet bool
	// History is the runs directory to build the history of; Out where
	// to write it.
	History, Out     string
	FailOnRegression bool
	// Format is what to print on stdout; Link where the summary says the
	// full report is.
	Format, Link string
}

// NewCommand returns the `report` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Args:  cobra.NoArgs,
		Use:   "report",
		Short: "Gather the drills' results into one report",
		Long: `Gather the drills' results into one report.

Every drill writes DIR/drills/NAME.json when it ends. report collects them,
in the order they ran, into DIR/report.json, renders DIR/report.md,
DIR/report.html (one self-contained page: the game day's verdict, a row per
drill, and per drill its timeline, objectives, measurements, findings and
alerts), DIR/junit-drills.xml, DIR/report.prom (Prometheus metrics) and
DIR/summary.md (a short summary for CI), and prints a summary table. With
--from, an existing report.json is rendered instead: the other files are
written beside it, or to --dir if given.

--format says what is printed on stdout, the files being written alike:

  table       (the default) a table of the drills and their objectives
  prometheus  report.prom: the metrics below, in Prometheus' text
              exposition format, without sample timestamps, for piping to
              a Pushgateway (drill report --format prometheus | curl
              --data-binary @- http://pushgateway:9091/metrics/job/drill).
              For node-exporter's textfile collector, copy report.prom
              into its directory after each run (cp to a temporary name
              there, then mv: it must appear whole); the runs' latest link
              moves to a new run, with no report.prom yet, as it starts
  summary     summary.md: a short Markdown summary sized for a CI job
              summary or a pull request comment (the verdict, a row per
              drill with its RTOs and RPOs against their bounds, why the
              others failed, and --link to the full report), kept under
              60000 bytes: past that, failures and then rows are left out
              and it says so (drill report --format summary >>
              "$GITHUB_STEP_SUMMARY")

The metrics (all gauges, labelled drill and objective):

  drill_objective_value_<unit>   each measured objective's value, in its
                                 base unit; left out when not measured
  drill_objective_bound_<unit>   its bound, when the bound is a number
  drill_objective_pass           1 passed, 0 failed or not measured
  drill_drill_pass               1 the drill passed, else 0
  drill_drill_verdict            1 for the drill's verdict label (pass,
                                 fail or error), 0 for the other two
  drill_report_finished_timestamp_seconds   when the last drill finished

Units become Prometheus base units: s (and ms, min, h) seconds, % ratio;
count and none no suffix; any other (writes, pods, records, alerts) names
itself: drill_objective_value_seconds{drill="kill-apiserver",
objective="rto.api"} 11.3.

The command fails when any drill's verdict is not pass, after writing
every file and printing its output.

With --history RUNS (the directory that keeps one directory per run,
_output/runs), report builds the history of every run under RUNS instead,
from each run's report.json or else its drills/, into --out, by default
RUNS/history (which is not mistaken for a run):

  index.html        a grid of runs x drills, runs as columns with the newest
                    first (on the left): each cell the drill's verdict and
                    its first objective's measured value, empty where it did
                    not run; each drill's pass rate and a flaky badge; the
                    regressions listed at the top and marked in their cells
  drill-NAME.html   per drill, a trend chart of each objective across runs,
                    oldest on the left, with its bound where it is a number

A figure (an objective's measured value) regresses when it is worse than
the P95 of the same drill's previous 10 runs that measured it (the P5, and
smaller, for a floor such as Ready pods) by more than 1 in its unit or 20%,
whichever is more, once there are 5 such runs; it can regress while
passing its objective. A drill is flaky when its verdict flipped between
pass and not pass in the last 10 runs. The pages load nothing from
elsewhere and open offline. A summary (runs, drills, pass rates, flaky
drills, regressions) is printed. The command then fails only with
--fail-on-regression, when the newest run has a regression.`,
		RunE: func(c *cobra.Command, _ []string) error {
			flags.DirSet = c.Flags().Changed("dir")
			if flags.History != "" {
				if flags.DirSet || flags.From != "" || c.Flags().Changed("format") || c.Flags().Changed("link") {
					return fmt.Errorf("--history builds the history of every run: it takes no --dir, --from, --format or --link")
				}
				return runHistory(logger, streams, flags)
			}
			if c.Flags().Changed("out") || flags.FailOnRegression {
				return fmt.Errorf("--out and --fail-on-regression go with --history")
			}
			switch flags.Format {
			case FormatTable, FormatPrometheus, FormatSummary:
			default:
				return fmt.Errorf("--format %q: want %s, %s or %s", flags.Format, FormatTable, FormatPrometheus, FormatSummary)
			}
			return runE(logger, streams, flags)
		},
	}
	c.Flags().StringVar(&flags.Dir, "dir", DefaultDir, "the report directory: drills are read from DIR/drills, reports written to DIR")
	c.Flags().StringVar(&flags.From, "from", "", "render this report.json instead of collecting DIR/drills")
	c.Flags().StringVar(&flags.History, "history", "", "build the history site of every run under this runs directory (_output/runs)")
	c.Flags().StringVar(&flags.Out, "out", "", "with --history, where to write the site (default RUNS/"+HistoryDir+")")
	c.Flags().BoolVar(&flags.FailOnRegression, "fail-on-regression", false, "with --history, fail when the newest run has a regression")
	c.Flags().StringVar(&flags.Format, "format", FormatTable, "what to print on stdout: "+FormatTable+", "+FormatPrometheus+" (report.prom) or "+FormatSummary+" (summary.md)")
	c.Flags().StringVar(&flags.Link, "link", "", "the URL of the full report, for the summary to link to (e.g. where drill publish puts the run)")
	return c
}

// runHistory builds the history site of the runs under flags.History and
// prints its summary.
func runHistory(logger log.Logger, streams cmd.IOStreams, flags *flagpole) error {
	logger.V(1).Infof("Reading the runs in %s", flags.History)
	h, err := history.Load(flags.History)
	if err != nil {
		return err
	}
	if len(h.Runs) == 0 {
		return fmt.Errorf("no runs in %s: no directory under it holds a %s or a %s/ with drills",
			flags.History, history.ReportFile, reports.DrillsDir)
	}
	out := flags.Out
	if out == "" {
		out = filepath.Join(flags.History, HistoryDir)
	}
	a := history.Analyze(h, history.DefaultThresholds(), history.DefaultFlakyRule())
	// Each run's column links to its report.html, where there is one.
	written, err := history.WriteSite(out, a, history.RunReports(func(id string) string {
		page := filepath.Join(flags.History, id, HTMLFile)
		if _, err := os.Stat(page); err != nil {
			return ""
		}
		absOut, err1 := filepath.Abs(out)
		absPage, err2 := filepath.Abs(page)
		rel, err := filepath.Rel(absOut, absPage)
		if err1 != nil || err2 != nil || err != nil {
			return ""
		}
		return filepath.ToSlash(rel)
	}))
	if err != nil {
		return err
	}
	logger.V(0).Infof("Wrote the history of %d runs to %s (%d pages)", len(h.Runs), written[0], len(written))
	if err := history.WriteSummary(streams.Out, a); err != nil {
		return err
	}
	if !flags.FailOnRegression {
		return nil
	}
	if regs := a.NewestRegressions(); len(regs) > 0 {
		names := make([]string, len(regs))
		for i, r := range regs {
			names[i] = r.Drill + " " + r.Figure
		}
		return fmt.Errorf("the newest run %s regressed: %s", regs[0].Point.RunID, strings.Join(names, ", "))
	}
	return nil
}

func runE(logger log.Logger, streams cmd.IOStreams, flags *flagpole) error {
	r, out, err := load(logger, flags)
	if err != nil {
		return err
	}
	if len(r.Drills) == 0 {
		if flags.From != "" {
			return fmt.Errorf("no drills in %s", flags.From)
		}
		return fmt.Errorf("no drills in %s: nothing matches %s",
			flags.Dir, filepath.Join(flags.Dir, reports.DrillsDir, "*.json"))
	}
	// A report read with --from is rendered, not rewritten.
	withJSON := flags.From == ""
	written, err := render(out, r, withJSON, reports.SummaryOptions{Link: flags.Link})
	if err != nil {
		return err
	}
	logger.V(0).Infof("Wrote %s to %s", strings.Join(written, ", "), out)
	switch flags.Format {
	case FormatPrometheus:
		err = metrics.Write(streams.Out, r)
	case FormatSummary:
		err = reports.WriteSummary(streams.Out, r, reports.SummaryOptions{Link: flags.Link})
	default:
		err = reports.WriteTable(streams.Out, r)
	}
	if err != nil {
		return err
	}
	return verdictError(r)
}

// load returns the report to render and the directory to write it to.
func load(logger log.Logger, flags *flagpole) (reports.Report, string, error) {
	if flags.From != "" {
		r, err := reports.Read(flags.From)
		if err != nil {
			return reports.Report{}, "", err
		}
		out := filepath.Dir(flags.From)
		if flags.DirSet {
			out = flags.Dir
		}
		return r, out, nil
	}
	logger.V(1).Infof("Collecting the drills in %s", filepath.Join(flags.Dir, reports.DrillsDir))
	r, err := reports.Collect(flags.Dir)
	return r, flags.Dir, err
}

// render writes the report's renderings to dir, and report.json when
// withJSON, and returns the names of the files it wrote. Each is written
// whole or not at all (atomicfile), so that a textfile collector never
// reads half a report.prom.
func render(dir string, r reports.Report, withJSON bool, summary reports.SummaryOptions) ([]string, error) {
	var written []string
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write reports: %w", err)
	}
	if withJSON {
		if err := reports.Write(filepath.Join(dir, JSONFile), r); err != nil {
			return nil, err
		}
		written = append(written, JSONFile)
	}
	for _, f := range []struct {
		name   string
		render func(io.Writer, reports.Report) error
	}{
		{MarkdownFile, reports.WriteMarkdown},
		{HTMLFile, reports.WriteHTML},
		{JUnitFile, reports.WriteJUnit},
		{PrometheusFile, metrics.Write},
		{SummaryFile, func(w io.Writer, r reports.Report) error { return reports.WriteSummary(w, r, summary) }},
	} {
		var buf bytes.Buffer
		if err := f.render(&buf, r); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), buf.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("write reports: %w", err)
		}
		written = append(written, f.name)
	}
	return written, nil
}

// verdictError fails when any drill did not pass: "1 of 3 drills failed:
// a".
func verdictError(r reports.Report) error {
	bad := r.NotPassed()
	if len(bad) == 0 {
		return nil
	}
	names := make([]string, len(bad))
	for i, d := range bad {
		names[i] = d.Name
	}
	return fmt.Errorf("%d of %d drills failed: %s", len(bad), len(r.Drills), strings.Join(names, ", "))
}
