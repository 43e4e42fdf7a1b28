// Package run implements `drill run`: run drills against a cluster outside
// Ginkgo, with their reverts on every way out, Ctrl-C included.
package run

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	clustercli "github.com/drill-sre/drill/internal/cli/cluster"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/internal/recovery"
	"github.com/drill-sre/drill/internal/runs"
	"github.com/drill-sre/drill/internal/timing"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

type flags struct {
	clustercli.ProviderFlags
	ReportDir  string
	JournalDir string
	DryRun     bool
	Monitoring framework.MonitoringConfig
}

// NewCommand returns the `run` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "run [FILE|DIR]...",
		Short: "Run drills against the cluster and report what they measured",
		Long: `Run each drill (a drill file, or the *.yaml drills of a directory; without
arguments, the drills built into drill) against the cluster, one after the
other: deploy its workload, sample, inject the fault, check that it took
effect, revert it, and judge the objectives.

Each drill's report is written to --report-dir/drills/<name>.json as soon as
it ends; a table sums them up at the end. Ctrl-C (or SIGTERM) stops the drill
in progress: its fault is reverted before drill exits, and the drill is
reported as interrupted. A second Ctrl-C does not wait.

The cluster must be up (drill cluster up); with a kind cluster, the fixture
images are loaded into its nodes first.

With --dry-run, drill touches nothing: for each drill it runs the preflight
(read-only) and prints what the fault would act on (which node, etcd member,
pods, namespace), what it would create or change, and what its revert would
do. It creates no namespace, loads no image, writes no journal and recovers
none (it lists the open journals that a run would recover first), and
writes no report. It exits 0 when every drill could be planned.`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.ValidateNamed(c.Flags()); err != nil {
				return err
			}
			if f.Monitoring.ScrapeInterval <= 0 || f.Monitoring.EvaluationInterval <= 0 {
				return fmt.Errorf("--scrape-interval and --evaluation-interval must be positive")
			}
			return runE(c.Context(), logger, streams, f, args)
		},
	}
	f.AddFlags(c.Flags())
	c.Flags().StringVar(&f.ReportDir, "report-dir", "", "where the run's reports go (each drill's under drills/); default a new directory _output/runs/<start time>, which _output/runs/latest then points to")
	c.Flags().BoolVar(&f.DryRun, "dry-run", false, "resolve each drill's target and print what it would change and revert, touching nothing")
	c.Flags().StringVar(&f.JournalDir, "journal-dir", recovery.DefaultJournalDir, "where the journals of faults in effect are kept on this machine")
	m := &f.Monitoring
	c.Flags().StringVar(&m.PrometheusURL, "prometheus-url", "", "the cluster's own Prometheus, read for alerts instead of deploying drill's monitoring")
	c.Flags().StringVar(&m.AlertmanagerURL, "alertmanager-url", "", "the cluster's own Alertmanager, with --prometheus-url")
	c.Flags().StringVar(&m.WebhookListen, "webhook-listen", "", fmt.Sprintf("address of the webhook receiver that measures Alertmanager's notifications (default with drill's monitoring: the host's address on the cluster's network, port %d; with --prometheus-url: none)", framework.DefaultWebhookPort))
	c.Flags().DurationVar(&m.ScrapeInterval, "scrape-interval", 15*time.Second, "scrape interval of drill's monitoring")
	c.Flags().DurationVar(&m.EvaluationInterval, "evaluation-interval", 15*time.Second, "rule evaluation interval of drill's monitoring")
	return c
}

func runE(ctx context.Context, logger log.Logger, streams cmd.IOStreams, f *flags, args []string) error {
	var (
		scs []*scenarios.Scenario
		err error
	)
	if len(args) == 0 {
		scs, err = scenarios.Shipped()
	} else {
		scs, err = scenarios.LoadPaths(args...)
	}
	if err != nil {
		return err
	}
	p, err := f.Build(logger)
	if err != nil {
		return err
	}
	// Before anything is written to the cluster. A dry run writes nothing:
	// it says whether a run would be refused.
	marker, guardErr := framework.GuardCluster(ctx, p, f.Context, "--context")
	if guardErr != nil && !f.DryRun {
		return guardErr
	}
	cfg, err := cluster.RESTConfig(p.Kubeconfig())
	if err != nil {
		return err
	}
	cs, err := cluster.Clientset(p)
	if err != nil {
		return err
	}
	// One for the run: each drill asks only what an earlier one was not
	// allowed.
	access, err := rbac.NewReviewerFor(cfg)
	if err != nil {
		return err
	}
	if f.DryRun {
		if guardErr != nil {
			logger.Warnf("a run would be refused: %v", guardErr)
		} else {
			logger.V(0).Infof("cluster %s %s", p.Name(), marker)
		}
		return dryRun(ctx, logger, streams, f, p, cs, cfg, access, scs)
	}
	logger.V(0).Infof("cluster %s %s", p.Name(), marker)
	// What every drill needs, before anything is written or recovered: a
	// user bound to too little is told which rule is missing. Each drill's
	// preflight checks its fault's own.
	if err := commonAccess(ctx, access); err != nil {
		return err
	}
	// The run's time outside its drills, for drill report's breakdown.
	rec := timing.NewRecorder()
	ctx = timing.WithRecorder(ctx, rec)
	if loader, ok := p.(cluster.ImageLoader); ok {
		if _, err := loader.LoadImages(ctx, framework.FixtureImages...); err != nil {
			return err
		}
	}
	if f.ReportDir == "" {
		if f.ReportDir, err = runs.New(runs.DefaultRoot, time.Now()); err != nil {
			return err
		}
	}
	logger.V(0).Infof("reports go to %s", f.ReportDir)
	endRecover := rec.Start("recover journals", timing.Harness)
	err = framework.RecoverJournals(ctx, p, f.JournalDir, logger)
	endRecover()
	if werr := reports.WritePhases(f.ReportDir, fmt.Sprintf("run-%d", time.Now().UnixNano()), rec.Phases()); werr != nil {
		logger.Warnf("record the run's time: %v", werr)
	}
	if err != nil {
		return err
	}
	var (
		report reports.Report
		failed []string
	)
	for _, sc := range scs {
		if ctx.Err() != nil {
			break
		}
		logger.V(0).Infof("Running drill %s (%s) ...", sc.Name, sc.Fault.Type)
		d, err := framework.RunScenario(ctx, framework.RunScenarioInput{
			Provider: p, RESTConfig: cfg, Clientset: cs, Scenario: sc, ReportDir: f.ReportDir, Logger: logger,
			Monitoring: &f.Monitoring, JournalDir: f.JournalDir, Access: access,
		})
		if err != nil {
			return fmt.Errorf("drill %s: %w", sc.Name, err)
		}
		report.Drills = append(report.Drills, d)
		if d.Verdict != reports.Pass {
			failed = append(failed, sc.Name)
		}
	}
	if len(report.Drills) > 0 {
		report.Started, report.Finished = report.Drills[0].Started, report.Drills[len(report.Drills)-1].Finished
	}
	report.Cluster = p.Name()
	report.Phases = rec.Phases()
	if err := reports.WriteTable(streams.Out, report); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted after %d of %d drills; the fault in progress was reverted", len(report.Drills), len(scs))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d drills did not pass: %s", len(failed), len(scs), strings.Join(failed, ", "))
	}
	return nil
}

// commonAccess checks that the user holds the rules every drill needs
// (rbac.Common).
func commonAccess(ctx context.Context, access *rbac.Reviewer) error {
	needs, err := rbac.Needs(rbac.Common())
	if err != nil {
		return err
	}
	missing, err := access.Missing(ctx, needs)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("refusing to start: every drill needs rules this user does not hold: %s", rbac.Describe(missing))
	}
	return nil
}

// dryRun plans each drill (framework.PlanScenario) and prints the plans,
// after the open journals that a run would recover first. It writes
// nothing to the cluster nor to the run directories.
func dryRun(ctx context.Context, logger log.Logger, streams cmd.IOStreams, f *flags, p cluster.Provider, cs kubernetes.Interface, cfg *rest.Config,
	access *rbac.Reviewer, scs []*scenarios.Scenario) error {
	out := streams.Out
	fmt.Fprintf(out, "Dry run against cluster %s: nothing is created, changed, loaded or recovered.\n", p.Name())
	open, err := framework.OpenJournals(ctx, p, cs, f.JournalDir)
	if err != nil {
		fmt.Fprintf(out, "open journals: could not all be read: %v\n", err)
	}
	if len(open) == 0 {
		fmt.Fprintln(out, "open journals: none; a run would recover nothing first")
	}
	for _, o := range open {
		e := o.Journal
		fmt.Fprintf(out, "open journal %s (%s): a run would first revert drill %s's %s fault, left at %q\n", e.ID, o.From, e.Drill, e.Fault, e.Step)
	}
	reportDir := f.ReportDir // named in the plans, not created
	if reportDir == "" {
		reportDir = filepath.Join(runs.DefaultRoot, "<start time>")
	}
	var failed []string
	for _, sc := range scs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintln(out)
		plan, err := framework.PlanScenario(ctx, framework.RunScenarioInput{
			Provider: p, RESTConfig: cfg, Clientset: cs, Scenario: sc, Logger: logger, JournalDir: f.JournalDir, ReportDir: reportDir,
			Access: access,
		})
		if err != nil {
			fmt.Fprintf(out, "drill %s (fault %s), dry run: cannot be planned: %v\n", sc.Name, sc.Fault.Type, err)
			failed = append(failed, sc.Name)
			continue
		}
		if err := plan.Write(out); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d drills could not be planned: %s", len(failed), len(scs), strings.Join(failed, ", "))
	}
	return nil
}
