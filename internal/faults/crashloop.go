package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var crashloopPodsSpec = Register(Spec{
	Type:           scenarios.FaultCrashloopPods,
	Params:         func() scenarios.FaultParams { return &scenarios.CrashloopPodsParams{} },
	Measurable:     []scenarios.Objective{scenarios.ObjectiveRTOApp, scenarios.ObjectiveAvailability, scenarios.ObjectivePDB, scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts},
	Access:         workloadAccess,
	Target:         "deployment",
	Suite:          "workloads",
	ClusterJournal: true,
	New:            newWith(newCrashloopPods),
})

// crashloopPods rolls out a pod template whose containers exit at start
// (the probe app's PROBE_APP_CRASH=exit), holds the pods in
// CrashLoopBackOff, and reverts by restoring the template it saved.
type crashloopPods struct {
	env       Env
	sc        *scenarios.Scenario
	p         *scenarios.CrashloopPodsParams
	namespace string

	mu       sync.Mutex
	saved    *corev1.PodTemplateSpec
	injected bool
	restarts map[string]int32 // crashing pod → restarts, last seen
}

var _ interface {
	Fault
	EffectChecker
	Holder
	Measurer
	Journaled
	Planner
} = (*crashloopPods)(nil)

// crashloopPodsJournal is what restoring the Deployment needs.
type crashloopPodsJournal struct {
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	// Template is the pod template saved before the injection.
	Template *corev1.PodTemplateSpec `json:"template,omitempty"`
	// Injected: the crashing template was rolled out, or is about to be.
	Injected bool `json:"injected,omitempty"`
}

// JournalState implements Journaled.
func (f *crashloopPods) JournalState() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return crashloopPodsJournal{Namespace: f.namespace, Deployment: f.p.Deployment, Template: f.saved.DeepCopy(), Injected: f.injected}
}

// RestoreJournal implements Journaled.
func (f *crashloopPods) RestoreJournal(state json.RawMessage) error {
	var js crashloopPodsJournal
	if err := restoreJournal(state, &js); err != nil {
		return err
	}
	if js.Namespace == "" || js.Deployment != f.p.Deployment {
		return fmt.Errorf("restore journal: deployment %s/%s, but the drill crashes %s", js.Namespace, js.Deployment, f.p.Deployment)
	}
	f.mu.Lock()
	f.namespace, f.saved, f.injected = js.Namespace, js.Template, js.Injected
	f.mu.Unlock()
	return nil
}

func newCrashloopPods(env Env, sc *scenarios.Scenario, p *scenarios.CrashloopPodsParams) (Fault, error) {
	ns := p.Namespace
	if ns == "" {
		ns = env.workloadNamespace()
	}
	if ns == "" {
		return nil, fmt.Errorf("crashloop-pods: deployment %s has no namespace and the drill deployed no workload", p.Deployment)
	}
	return &crashloopPods{env: env, sc: sc, p: p, namespace: ns, restarts: map[string]int32{}}, nil
}

func (f *crashloopPods) deployment(ctx context.Context) (*appsv1.Deployment, error) {
	d, err := f.env.Clientset.AppsV1().Deployments(f.namespace).Get(ctx, f.p.Deployment, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get deployment %s/%s: %w", f.namespace, f.p.Deployment, err)
	}
	return d, nil
}

// describe describes the Deployment d and, when known, its pods.
func (f *crashloopPods) describe(d *appsv1.Deployment, pods []string) string {
	var names []string
	for _, c := range d.Spec.Template.Spec.Containers {
		names = append(names, c.Name)
	}
	desc := fmt.Sprintf("deployment %s/%s, containers %s", f.namespace, f.p.Deployment, strings.Join(names, ", "))
	if pods != nil {
		desc += ", pods " + strings.Join(pods, ", ")
	}
	return desc
}

func (f *crashloopPods) Target(ctx context.Context) (string, error) {
	d, err := f.deployment(ctx)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.saved = d.Spec.Template.DeepCopy()
	f.mu.Unlock()
	return f.describe(d, nil), nil
}

// planned says whether the Deployment is the drill's workload, which a dry
// run has not deployed.
func (f *crashloopPods) planned() bool { return f.namespace == DryRunNamespace }

// Plan implements Planner: the Deployment and its pods, or in a dry run
// the drill's workload that would be deployed.
func (f *crashloopPods) Plan(ctx context.Context) (Plan, error) {
	what := "deployment " + f.namespace + "/" + f.p.Deployment
	plan := Plan{
		Changes: []string{
			fmt.Sprintf("set %s=%s in every container of the pod template of %s: its new pods exit at start", probeapp.EnvCrash, probeapp.CrashExit, what),
			fmt.Sprintf("hold %s once a pod is in %s", f.p.HoldFor, f.p.Until),
		},
		Revert: []string{
			"restore the pod template saved before the change, and wait for the rollout",
		},
	}
	if f.planned() {
		if f.sc.Workload == nil {
			return Plan{}, fmt.Errorf("crashloop-pods: deployment %s has no namespace and the drill declares no workload", f.p.Deployment)
		}
		plan.Target = fmt.Sprintf("deployment %s of the drill's workload: %s", f.p.Deployment, plannedWorkload(f.sc))
		return plan, nil
	}
	d, err := f.deployment(ctx)
	if err != nil {
		return Plan{}, err
	}
	sel := metav1.FormatLabelSelector(d.Spec.Selector)
	list, err := f.env.Clientset.CoreV1().Pods(f.namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return Plan{}, fmt.Errorf("list pods %s: %w", sel, err)
	}
	pods := []string{}
	for _, p := range list.Items {
		pods = append(pods, p.Name)
	}
	slices.Sort(pods)
	plan.Target = f.describe(d, pods)
	return plan, nil
}

// Inject rolls out the crashing template, journalled before and after (the
// saved template is in the journal since Target).
func (f *crashloopPods) Inject(ctx context.Context) error {
	f.mu.Lock()
	f.injected = true
	f.mu.Unlock()
	what := "deployment " + f.namespace + "/" + f.p.Deployment
	if err := f.env.step(ctx, "making the pods of "+what+" crash"); err != nil {
		return err
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := f.deployment(ctx)
		if err != nil {
			return err
		}
		for i := range d.Spec.Template.Spec.Containers {
			c := &d.Spec.Template.Spec.Containers[i]
			c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == probeapp.EnvCrash })
			c.Env = append(c.Env, corev1.EnvVar{Name: probeapp.EnvCrash, Value: probeapp.CrashExit})
		}
		_, err = f.env.Clientset.AppsV1().Deployments(f.namespace).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	return f.env.step(ctx, "the pods of "+what+" crash")
}

// crashing returns the pods with a container waiting in CrashLoopBackOff,
// and notes their restarts.
func (f *crashloopPods) crashing(ctx context.Context) ([]string, error) {
	d, err := f.deployment(ctx)
	if err != nil {
		return nil, err
	}
	sel := metav1.FormatLabelSelector(d.Spec.Selector)
	pods, err := f.env.Clientset.CoreV1().Pods(f.namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list pods %s: %w", sel, err)
	}
	var out []string
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason == string(f.p.Until) {
				out = append(out, fmt.Sprintf("%s (%d restarts)", p.Name, cs.RestartCount))
			}
			if cs.RestartCount > 0 {
				f.restarts[p.Name] = max(f.restarts[p.Name], cs.RestartCount)
			}
		}
	}
	return out, nil
}

func (f *crashloopPods) Effect(ctx context.Context) ([]string, error) {
	var facts []string
	err := waitFor(ctx, f.env.Timeout, "a pod of "+f.p.Deployment+" to reach "+string(f.p.Until), func(ctx context.Context) (bool, string, error) {
		pods, err := f.crashing(ctx)
		if err != nil {
			return false, "", err
		}
		if len(pods) == 0 {
			return false, "no pod in " + string(f.p.Until), nil
		}
		facts = append(facts, string(f.p.Until)+": "+strings.Join(pods, ", "))
		return true, "", nil
	})
	return facts, err
}

func (f *crashloopPods) Hold(ctx context.Context) error {
	if err := declaredHold(ctx, "holdFor", f.p.HoldFor); err != nil {
		return err
	}
	_, err := f.crashing(ctx) // the restarts at the end of the hold
	return err
}

// Revert restores the saved pod template and waits for the rollout.
func (f *crashloopPods) Revert(ctx context.Context) error {
	f.mu.Lock()
	saved, injected := f.saved, f.injected
	f.mu.Unlock()
	if saved == nil || !injected {
		return nil // nothing was changed: later edits of the template stay
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := f.deployment(ctx)
		if err != nil {
			return err
		}
		d.Spec.Template = *saved.DeepCopy()
		_, err = f.env.Clientset.AppsV1().Deployments(f.namespace).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("restore the pod template of %s/%s: %w", f.namespace, f.p.Deployment, err)
	}
	if err := f.env.step(ctx, "pod template of deployment "+f.namespace+"/"+f.p.Deployment+" restored"); err != nil {
		return err
	}
	rollout := monitor.DeploymentRollout(f.env.Clientset, f.namespace, f.p.Deployment)
	return waitFor(ctx, f.env.Timeout, "deployment "+f.p.Deployment+" to roll back", func(ctx context.Context) (bool, string, error) {
		st, err := rollout(ctx)
		return st == monitor.RolloutComplete, st, err
	})
}

func (f *crashloopPods) Measure(r Record) []reports.Measurement {
	f.mu.Lock()
	var total int32
	var pods []string
	for p, n := range f.restarts {
		total += n
		pods = append(pods, fmt.Sprintf("%s: %d", p, n))
	}
	f.mu.Unlock()
	slices.Sort(pods)
	ms := []reports.Measurement{count("container restarts", int(total), strings.Join(pods, ", "))}
	if r.RevertStarted.IsZero() {
		return ms
	}
	// Every pod Ready again: the rollout sampler reads complete after the
	// template was restored.
	for _, c := range monitor.Changes(r.Intervals, monitor.LocatorRollout) {
		if c.At.After(r.RevertStarted) && c.Value == monitor.RolloutComplete {
			return append(ms, seconds("all pods Ready after revert", c.At.Sub(r.RevertStarted), "rollout of the restored template complete"))
		}
	}
	return append(ms, reports.Measurement{Name: "all pods Ready after revert", Unit: "s", Detail: "not seen before sampling stopped"})
}
