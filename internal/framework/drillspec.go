package framework

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// DrillSpecInput is what drill specs run against.
type DrillSpecInput struct {
	Provider   cluster.Provider
	RESTConfig *rest.Config
	Clientset  kubernetes.Interface
	// ReportDir receives each drill's report.
	ReportDir string
}

// DrillSpecs declares one serial, disruptive spec per shipped drill whose
// fault runs in suite (faults.Spec.Suite, the suite's directory under
// suites/), labelled with its fault and target. Each spec runs the drill
// (RunScenario), registers its revert with DeferCleanup before the
// injection, so that it runs after a pass, a failure, a timeout or an
// interrupt, attaches the measured figures with AddReportEntry, and fails
// with the drill's failures unless it passed. With DRILL_DRY_RUN set each
// spec plans its drill instead (PlanDrillSpec). It panics when no fault runs
// in suite.
func DrillSpecs(suite string, input func() DrillSpecInput) {
	if !slices.ContainsFunc(faults.Specs(), func(s faults.Spec) bool { return s.Suite == suite }) {
		panic(fmt.Sprintf("framework: no fault runs its drills in suite %q", suite))
	}
	all, err := scenarios.Shipped()
	if err != nil {
		panic(fmt.Sprintf("framework: shipped drills: %v", err))
	}
	for _, sc := range all {
		if spec, ok := faults.Lookup(sc.Fault.Type); !ok || spec.Suite != suite {
			continue
		}
		labels := SpecLabels(FaultLabel(sc.Fault.Type), TargetLabel(sc), LabelDisruptive, LabelSerial)
		plannedSpecs.Store(sc.Name, true)
		timeout := sc.Objectives.MaxDuration + 15*time.Minute
		ginkgo.It(sc.Name, labels, ginkgo.Serial, ginkgo.NodeTimeout(timeout), func(ctx ginkgo.SpecContext) {
			in := input()
			if DryRunFromEnv() {
				PlanDrillSpec(ctx, in, sc)
				return
			}
			d, err := RunScenario(ctx, RunScenarioInput{
				Provider: in.Provider, RESTConfig: in.RESTConfig, Clientset: in.Clientset,
				Scenario: sc, ReportDir: in.ReportDir, Logger: cluster.NewWriterLogger(ginkgo.GinkgoWriter, 0),
				JournalDir: JournalDir(),
				Register: func(revert func(context.Context) error) {
					ginkgo.DeferCleanup(func(ctx context.Context) error { return revert(ctx) }, ginkgo.NodeTimeout(10*time.Minute))
				},
			})
			gomega.Expect(err).NotTo(gomega.HaveOccurred(), "run drill %s", sc.Name)
			if len(d.Failures) == 1 && strings.HasPrefix(d.Failures[0], notRun) {
				ginkgo.Skip(d.Failures[0])
			}
			AddDrillReportEntries(d)
			gomega.Expect(d.Verdict).To(gomega.Equal(reports.Pass), "drill %s: %s", sc.Name, strings.Join(d.Failures, "\n"))
		})
	}
}

// plannedSpecs are the texts of the specs DrillSpecs declared, which plan
// their drill in a dry run.
var plannedSpecs sync.Map

// skipUnlessDryRunSpec skips, in a dry run (DRILL_DRY_RUN), every spec
// but the drill specs, which plan their drills, and those labelled
// LabelDryRun: the others act on the cluster.
func skipUnlessDryRunSpec() {
	if !DryRunFromEnv() {
		return
	}
	r := ginkgo.CurrentSpecReport()
	if _, ok := plannedSpecs.Load(r.LeafNodeText); ok || slices.Contains(r.Labels(), LabelDryRun) {
		return
	}
	ginkgo.Skip("DRILL_DRY_RUN is set: this spec acts on the cluster")
}

// PlanDrillSpec is a drill spec's dry run (DRILL_DRY_RUN): it plans the
// drill (PlanScenario), writes the plan to the spec's output, attaches its
// target, changes and revert with AddReportEntry, and fails when the drill
// cannot be planned.
func PlanDrillSpec(ctx context.Context, in DrillSpecInput, sc *scenarios.Scenario) {
	plan, err := PlanScenario(ctx, RunScenarioInput{
		Provider: in.Provider, RESTConfig: in.RESTConfig, Clientset: in.Clientset,
		Scenario: sc, Logger: cluster.NewWriterLogger(ginkgo.GinkgoWriter, 0), JournalDir: JournalDir(),
	})
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "plan drill %s", sc.Name)
	gomega.Expect(plan.Write(ginkgo.GinkgoWriter)).To(gomega.Succeed())
	ginkgo.AddReportEntry("dry run: target", plan.Target)
	ginkgo.AddReportEntry("dry run: changes", strings.Join(plan.Changes, "\n"))
	ginkgo.AddReportEntry("dry run: revert", strings.Join(plan.Revert, "\n"))
}

// AddDrillReportEntries attaches a drill's target, objectives and
// measurements to the running spec's report.
func AddDrillReportEntries(d reports.Drill) {
	ginkgo.AddReportEntry("target", d.Fault.Target)
	for _, o := range d.Objectives {
		ginkgo.AddReportEntry("objective "+o.Name, fmt.Sprintf("%s: measured %s, bound %s. %s", o.Verdict, o.Measured, o.Bound, o.Detail))
	}
	for _, m := range d.Measurements {
		ginkgo.AddReportEntry(m.Name, strings.TrimSpace(fmt.Sprintf("%g %s %s", m.Value, m.Unit, m.Detail)))
	}
}

// Env returns an environment variable or a default.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
