package preflight

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/drill-sre/drill/internal/monitor"
)

// checkWorkload checks that the workload's Deployment is rolled out: its
// spec observed, and every desired replica updated, Ready and available,
// with no old replica left (monitor.DeploymentRollout).
func checkWorkload(ctx context.Context, cs kubernetes.Interface, w *Workload) Check {
	switch {
	case w == nil:
		return Check{Name: CheckWorkload, Status: StatusNotChecked, Detail: "no workload given"}
	case w.Namespace == "" || w.Deployment == "":
		return failed(CheckWorkload, []string{fmt.Sprintf("workload %q/%q: namespace and deployment are both required", w.Namespace, w.Deployment)}, "")
	case cs == nil:
		return failed(CheckWorkload, []string{"no Kubernetes client given"}, "")
	}
	name := w.Namespace + "/" + w.Deployment
	state, err := retryTransient(ctx, monitor.DeploymentRollout(cs, w.Namespace, w.Deployment))
	switch {
	case err != nil:
		return failed(CheckWorkload, []string{err.Error()}, "")
	case state != monitor.RolloutComplete:
		return failed(CheckWorkload, []string{fmt.Sprintf("deployment %s not rolled out: %s", name, strings.TrimPrefix(state, "rolling: "))}, "")
	}
	return Check{Name: CheckWorkload, Status: StatusOK,
		Detail: fmt.Sprintf("deployment %s: every replica updated, Ready and available", name)}
}

// checkJournals checks that no fault journal is open: a fault of an earlier
// drill that was injected and never reverted. A source that cannot be read
// fails the check, an open journal cannot be ruled out; the journals it did
// return are named too.
func checkJournals(ctx context.Context, open func(ctx context.Context) ([]string, error)) Check {
	if open == nil {
		return Check{Name: CheckJournals, Status: StatusNotChecked, Detail: "no journal source given"}
	}
	journals, err := open(ctx)
	var problems []string
	switch {
	case len(journals) == 1:
		problems = append(problems, "1 journal open: "+journals[0])
	case len(journals) > 1:
		problems = append(problems, fmt.Sprintf("%d journals open: %s", len(journals), strings.Join(journals, "; ")))
	}
	if err != nil {
		problems = append(problems, fmt.Sprintf("list open journals: %v", err))
	}
	if len(problems) > 0 {
		return failed(CheckJournals, problems, "")
	}
	return Check{Name: CheckJournals, Status: StatusOK, Detail: "no journal open"}
}
