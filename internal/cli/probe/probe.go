// Package probe implements `drill probe`: sample HTTP(S) endpoints until
// interrupted or for a set time, then report when each was unavailable. SREs
// use it to time the downtime of a change they make by hand.
package probe

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/objectives"
	"github.com/drill-sre/drill/internal/redact"
)

// Values of --mode and --output.
const (
	modeNew    = "new"
	modeReused = "reused"
	modeBoth   = "both"

	outputTable = "table"
	outputJSON  = "json"
)

type flags struct {
	For      time.Duration
	Interval time.Duration
	Timeout  time.Duration
	Mode     string
	Insecure bool
	Output   string
}

// NewCommand returns the `probe` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "probe URL...",
		Short: "Measure when HTTP(S) endpoints are unavailable, for example during a manual change",
		Long: `probe GETs each URL every --interval, over a new connection per request,
a kept-alive one, or both, until Ctrl-C or until --for runs out. A request
fails on a transport error, a timeout or a status other than 2xx.

It then prints, per URL and connection mode, every outage (from the start of
the first failing request to the start of the first succeeding one) and the
totals: samples, failures, time unavailable, longest outage, availability.
Outages are also reported on stderr as they begin and end.`,
		Example: `  drill probe https://127.0.0.1:6443/readyz --insecure
  drill probe http://app.example/healthz --for 5m --mode new --output json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			return runE(c.Context(), logger, streams, f, args)
		},
	}
	fs := c.Flags()
	fs.DurationVar(&f.For, "for", 0, "how long to probe (default: until interrupted)")
	fs.DurationVar(&f.Interval, "interval", monitor.DefaultInterval, "how often each URL is requested; outage edges are accurate to about this")
	fs.DurationVar(&f.Timeout, "timeout", monitor.DefaultTimeoutIntervals*monitor.DefaultInterval, "how long a request may take before it counts as failed")
	fs.StringVar(&f.Mode, "mode", modeBoth, `connections: "new" (one per request), "reused" (kept alive) or "both"`)
	fs.BoolVar(&f.Insecure, "insecure", false, "do not verify the servers' TLS certificates")
	fs.StringVarP(&f.Output, "output", "o", outputTable, `output format: "table" or "json"`)
	return c
}

func (f *flags) validate() error {
	switch {
	case f.For < 0:
		return fmt.Errorf("--for must not be negative, got %s", f.For)
	case f.Interval <= 0:
		return fmt.Errorf("--interval must be positive, got %s", f.Interval)
	case f.Timeout <= 0:
		return fmt.Errorf("--timeout must be positive, got %s", f.Timeout)
	}
	if f.Mode != modeNew && f.Mode != modeReused && f.Mode != modeBoth {
		return fmt.Errorf("--mode %q: want %q, %q or %q", f.Mode, modeNew, modeReused, modeBoth)
	}
	if f.Output != outputTable && f.Output != outputJSON {
		return fmt.Errorf("--output %q: want %q or %q", f.Output, outputTable, outputJSON)
	}
	return nil
}

// connections are the connection modes --mode selects.
func (f *flags) connections() []monitor.Connection {
	switch f.Mode {
	case modeNew:
		return []monitor.Connection{monitor.NewConnections}
	case modeReused:
		return []monitor.Connection{monitor.ReusedConnections}
	}
	return []monitor.Connection{monitor.NewConnections, monitor.ReusedConnections}
}

// probe is one URL sampled over one connection mode.
type probe struct {
	check   *monitor.HTTPCheck
	sampler *monitor.Sampler
	stats   monitor.Stats
}

func runE(ctx context.Context, logger log.Logger, streams cmd.IOStreams, f *flags, urls []string) error {
	var httpOpts []monitor.HTTPOption
	if f.Insecure {
		httpOpts = append(httpOpts, monitor.HTTPWithTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	}
	rec := monitor.NewRecorder()
	var probes []*probe
	for _, u := range urls {
		for _, conn := range f.connections() {
			check, err := monitor.NewHTTPCheck(u, conn, httpOpts...)
			if err != nil {
				return err
			}
			defer check.Close()
			s, err := monitor.NewSampler(check.Locator(), check.Check, rec,
				monitor.SamplerWithInterval(f.Interval),
				monitor.SamplerWithTimeout(f.Timeout),
				monitor.SamplerWithLogger(logger))
			if err != nil {
				return err
			}
			probes = append(probes, &probe{check: check, sampler: s})
		}
	}

	if f.For > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.For)
		defer cancel()
	}
	until := "Ctrl-C"
	if f.For > 0 {
		until = fmt.Sprintf("%s or Ctrl-C", f.For)
	}
	logger.V(0).Infof("Probing %d URL(s) every %s (timeout %s, connections %s) until %s ...",
		len(urls), f.Interval, f.Timeout, f.Mode, until)

	stops := make([]func() monitor.Stats, len(probes))
	for i, p := range probes {
		stops[i] = p.sampler.Start(ctx)
	}
	<-ctx.Done()
	for i, p := range probes {
		p.stats = stops[i]()
	}

	results := summarize(probes, rec.Intervals())
	if f.Output == outputJSON {
		return printJSON(streams.Out, f, results)
	}
	return printTable(streams.Out, results)
}

// result is what probe reports for one URL and connection mode.
type result struct {
	URL         string             `json:"url"`
	Mode        string             `json:"mode"`
	Locator     string             `json:"locator"`
	Started     time.Time          `json:"started"`
	Stopped     time.Time          `json:"stopped"`
	Samples     int                `json:"samples"`
	Failures    int                `json:"failures"`
	Skipped     int                `json:"skipped"`
	Unavailable seconds            `json:"unavailableSeconds"`
	Longest     seconds            `json:"longestOutageSeconds"`
	Available   float64            `json:"availability"`
	MaxGap      seconds            `json:"maxGapSeconds"`
	Latency     latency            `json:"latencySeconds"`
	Intervals   []monitor.Interval `json:"intervals"`
}

// seconds is a duration that marshals as seconds.
type seconds time.Duration

func (s seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(s).Seconds())
}

func (s seconds) String() string { return time.Duration(s).Round(time.Millisecond).String() }

type latency struct {
	Min  seconds `json:"min"`
	Mean seconds `json:"mean"`
	P50  seconds `json:"p50"`
	P90  seconds `json:"p90"`
	P99  seconds `json:"p99"`
	Max  seconds `json:"max"`
}

// summarize computes each probe's result from its stats and intervals.
func summarize(probes []*probe, intervals []monitor.Interval) []result {
	out := make([]result, 0, len(probes))
	for _, p := range probes {
		mine := monitor.Filter(intervals, monitor.IsLocator(p.sampler.Locator()))
		st := p.stats
		out = append(out, result{
			URL:         p.check.URL(),
			Mode:        string(p.check.Connection()),
			Locator:     p.sampler.Locator(),
			Started:     st.Started,
			Stopped:     st.Stopped,
			Samples:     st.Samples,
			Failures:    st.Failures,
			Skipped:     st.Skipped,
			Unavailable: seconds(objectives.Unavailable(mine)),
			Longest:     seconds(objectives.MaxOutage(mine)),
			Available:   objectives.Availability(st.Started, st.Stopped, mine),
			MaxGap:      seconds(st.MaxGap),
			Latency: latency{
				Min: seconds(st.Latency.Min), Mean: seconds(st.Latency.Mean),
				P50: seconds(st.Latency.P50), P90: seconds(st.Latency.P90),
				P99: seconds(st.Latency.P99), Max: seconds(st.Latency.Max),
			},
			Intervals: append([]monitor.Interval{}, mine...),
		})
	}
	return out
}

func printJSON(w io.Writer, f *flags, results []result) error {
	results = redact.Value(results) // a URL may carry its user and password
	doc := struct {
		Interval seconds  `json:"intervalSeconds"`
		Timeout  seconds  `json:"timeoutSeconds"`
		Probes   []result `json:"probes"`
	}{seconds(f.Interval), seconds(f.Timeout), results}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("print results: %w", err)
	}
	return nil
}

// printTable writes the outages of every probe, then one line of totals per
// probe.
func printTable(w io.Writer, results []result) error {
	results = redact.Value(results) // a URL may carry its user and password
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	outages := 0
	for _, r := range results {
		outages += len(r.Intervals)
	}
	if outages == 0 {
		fmt.Fprintln(tw, "No outages.")
	} else {
		fmt.Fprintln(tw, "URL\tMODE\tFROM\tTO\tDURATION\tMESSAGE")
		for _, r := range results {
			for _, i := range r.Intervals {
				to := clock(i.To)
				if i.Open {
					to += " (still down)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.URL, r.Mode, clock(i.From), to,
					seconds(i.Duration()), oneLine(i.Message, 120))
			}
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "URL\tMODE\tDURATION\tSAMPLES\tFAILURES\tUNAVAILABLE\tLONGEST\tAVAILABILITY\tLATENCY P50/P99")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%.3f%%\t%s/%s\n", r.URL, r.Mode,
			seconds(r.Stopped.Sub(r.Started)), r.Samples, r.Failures, r.Unavailable, r.Longest,
			100*r.Available, latencyString(r.Latency.P50), latencyString(r.Latency.P99))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print results: %w", err)
	}
	return nil
}

// clock formats a local time to the millisecond.
func clock(t time.Time) string { return t.Format("15:04:05.000") }

// latencyString shows a latency to the tenth of a millisecond, or "-" if
// no request succeeded.
func latencyString(s seconds) string {
	if s == 0 {
		return "-"
	}
	return time.Duration(s).Round(100 * time.Microsecond).String()
}

// oneLine shortens s to at most n bytes on one line.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n-3] + "..."
	}
	return s
}
