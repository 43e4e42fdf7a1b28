package framework

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/drill"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/preflight"
	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/reports"
)

// DryRunFromEnv says whether DRILL_DRY_RUN asks the suites for a dry run:
// DrillSpecs plan their drills instead of running them, and BringUpCluster
// neither creates the cluster nor loads images nor recovers journals.
func DryRunFromEnv() bool {
	v := os.Getenv("DRILL_DRY_RUN")
	return v != "" && v != "0" && v != "false"
}

// ScenarioPlan is a drill's dry run (PlanScenario): what it would act on,
// change and revert, and what the preflight found. It is not a report: no
// verdict, nothing measured.
type ScenarioPlan struct {
	Drill string `json:"drill"`
	Fault string `json:"fault"`
	// Workload describes the workload drill would deploy, "" without one.
	Workload string `json:"workload,omitempty"`
	// Preflight is the preflight's checks, as of the plan.
	Preflight []reports.Check `json:"preflight"`
	// Refused says why the guard would refuse the drill, "" when it would
	// not.
	Refused string `json:"refused,omitempty"`
	faults.Plan
}

// PlanScenario is a dry run of input.Scenario: it runs the preflight once
// (read-only; the workload, not deployed, is not checked; the access
// reviews ask and store nothing) and the fault's Plan, which resolves its
// target. It writes nothing to the cluster: no namespace, no workload, no
// monitoring, no journal, no image loaded. Of input it uses Provider,
// RESTConfig, Clientset, Scenario, Logger, JournalDir (read for the open
// journals), Access (nil asks through Clientset) and ReportDir (only
// named, where a run would keep what it produces outside the cluster). An error means the drill could
// not be planned; a failed preflight check does not prevent the plan, and
// is in the plan's Preflight.
func PlanScenario(ctx context.Context, input RunScenarioInput) (ScenarioPlan, error) {
	sc := input.Scenario
	if input.Provider == nil || input.RESTConfig == nil || input.Clientset == nil || sc == nil {
		return ScenarioPlan{}, fmt.Errorf("PlanScenario: Provider, RESTConfig, Clientset and Scenario are required")
	}
	logger := input.Logger
	if logger == nil {
		logger = log.NoopLogger{}
	}
	plan := ScenarioPlan{Drill: sc.Name, Fault: string(sc.Fault.Type)}
	if w := sc.Workload; w != nil {
		plan.Workload = fmt.Sprintf("%s, %d replicas, in namespace %s", w.Fixture, w.Replicas, faults.DryRunNamespace)
		if w.Persistent {
			plan.Workload += ", with a PersistentVolumeClaim"
		}
	}
	etcd, err := etcdClient(ctx, input.Provider)
	if err != nil {
		return plan, err
	}
	if etcd != nil {
		defer etcd.Close()
	}
	if input.Access == nil {
		input.Access = rbac.NewReviewer(input.Clientset)
	}
	env := drill.Env{Provider: input.Provider, RESTConfig: input.RESTConfig, Clientset: input.Clientset, Etcd: etcd, Logger: logger}
	res := preflight.Run(ctx, preflightInput(input, env))
	for _, c := range res.Checks {
		if c.Name == preflight.CheckWorkload && sc.Workload != nil {
			c.Detail = "not deployed in a dry run"
		}
		plan.Preflight = append(plan.Preflight, reports.Check{Name: c.Name, Status: string(c.Status), Detail: c.Detail})
	}
	plan.Refused = guardDrill(ctx, input.Clientset, sc)
	fenv := faults.Env{Provider: input.Provider, Clientset: input.Clientset, RESTConfig: input.RESTConfig, Etcd: etcd, Logger: logger}
	if input.ReportDir != "" {
		fenv.ArtifactDir = filepath.Join(input.ReportDir, "artifacts") // named, not created
	}
	if plan.Plan, err = faults.PlanOf(ctx, fenv, sc); err != nil {
		return plan, fmt.Errorf("plan drill %s: %w", sc.Name, err)
	}
	return plan, nil
}

// Write prints the plan for a person.
func (p ScenarioPlan) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "drill %s (fault %s), dry run\n", p.Drill, p.Fault)
	if p.Workload != "" {
		fmt.Fprintf(&b, "  workload it would deploy: %s\n", p.Workload)
	}
	b.WriteString("  preflight:\n")
	for _, c := range p.Preflight {
		fmt.Fprintf(&b, "    %-12s %s", c.Name, c.Status)
		if c.Detail != "" {
			fmt.Fprintf(&b, ": %s", c.Detail)
		}
		b.WriteString("\n")
	}
	if p.Refused != "" {
		fmt.Fprintf(&b, "  a run would be %s\n", p.Refused)
	}
	fmt.Fprintf(&b, "  target: %s\n", p.Target)
	list := func(title string, items []string) {
		fmt.Fprintf(&b, "  %s:\n", title)
		for i, it := range items {
			fmt.Fprintf(&b, "    %d. %s\n", i+1, it)
		}
	}
	list("it would", p.Changes)
	list("its revert would", p.Revert)
	_, err := io.WriteString(w, b.String())
	return err
}
