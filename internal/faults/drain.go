package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/drain"

	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/safe"
	"github.com/drill-sre/drill/internal/timing"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var drainZoneSpec = Register(Spec{
	Type:           scenarios.FaultDrainZone,
	Params:         func() scenarios.FaultParams { return &scenarios.DrainZoneParams{} },
	Measurable:     []scenarios.Objective{scenarios.ObjectiveRTOApp, scenarios.ObjectiveAvailability, scenarios.ObjectivePDB, scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts},
	DefaultRole:    scenarios.RoleWorker,
	Access:         workloadAccess,
	Target:         string(scenarios.RoleWorker),
	Suite:          "zones",
	ClusterJournal: true,
	New:            newWith(newDrainZone),
})

// drainZone cordons the targeted nodes of a zone and drains them the way
// `kubectl drain` does, through the Eviction API: PodDisruptionBudgets
// apply, nothing is deleted directly and nothing is forced. The revert
// uncordons.
type drainZone struct {
	env Env
	sc  *scenarios.Scenario
	p   *scenarios.DrainZoneParams

	nodes []string

	mu       sync.Mutex
	cordoned []string       // nodes cordoned, or about to be: those the revert uncordons
	refused  map[string]int // pod → evictions refused with 429
	evicted  []string       // pods evicted
	cancel   context.CancelFunc
	done     chan struct{}
	drainErr error
	drained  time.Duration
}

var _ interface {
	Fault
	EffectChecker
	Holder
	Measurer
	Journaled
	Planner
} = (*drainZone)(nil)

// drainZoneJournal is what uncordoning needs.
type drainZoneJournal struct {
	// Nodes are the zone's targeted nodes.
	Nodes []string `json:"nodes"`
	// Cordoned are the nodes cordoned, or about to be.
	Cordoned []string `json:"cordoned,omitempty"`
}

// JournalState implements Journaled.
func (f *drainZone) JournalState() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return drainZoneJournal{Nodes: slices.Clone(f.nodes), Cordoned: slices.Clone(f.cordoned)}
}

// RestoreJournal implements Journaled.
func (f *drainZone) RestoreJournal(state json.RawMessage) error {
	var js drainZoneJournal
	if err := restoreJournal(state, &js); err != nil {
		return err
	}
	f.mu.Lock()
	f.nodes, f.cordoned = js.Nodes, js.Cordoned
	f.mu.Unlock()
	return nil
}

func newDrainZone(env Env, sc *scenarios.Scenario, p *scenarios.DrainZoneParams) (Fault, error) {
	return &drainZone{env: env, sc: sc, p: p, refused: map[string]int{}}, nil
}

// resolve finds the zone's targeted nodes, sorted (Target and Plan).
func (f *drainZone) resolve(ctx context.Context) ([]string, error) {
	all, err := f.env.Provider.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	if f.sc.Target.Selector != "" {
		list, err := f.env.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: f.sc.Target.Selector})
		if err != nil {
			return nil, fmt.Errorf("list nodes matching %q: %w", f.sc.Target.Selector, err)
		}
		for _, n := range list.Items {
			allowed[n.Name] = true
		}
	}
	var nodes []string
	for _, n := range all {
		if n.Zone != f.p.Zone || (f.sc.Target.Role != "" && string(n.Role) != string(f.sc.Target.Role)) ||
			(f.sc.Target.Selector != "" && !allowed[n.Name]) {
			continue
		}
		nodes = append(nodes, n.Name)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("drain-zone: no %s node in zone %q", f.sc.Target.Role, f.p.Zone)
	}
	slices.Sort(nodes)
	return nodes, nil
}

func (f *drainZone) Target(ctx context.Context) (string, error) {
	nodes, err := f.resolve(ctx)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.nodes = nodes
	f.mu.Unlock()
	return fmt.Sprintf("zone %s: %s", f.p.Zone, strings.Join(nodes, ", ")), nil
}

// Plan implements Planner: the nodes, and the pods the drain would evict
// from them as kubectl's drain helper chooses them now (DaemonSet and
// mirror pods skipped); in a dry run the drill's own workload is not
// deployed yet, and the scheduler decides where its pods go.
func (f *drainZone) Plan(ctx context.Context) (Plan, error) {
	nodes, err := f.resolve(ctx)
	if err != nil {
		return Plan{}, err
	}
	h := f.helper(ctx, io.Discard, io.Discard)
	var evict, refuse []string
	for _, name := range nodes {
		list, errs := h.GetPodsForDeletion(name)
		for _, err := range errs {
			refuse = append(refuse, name+": "+err.Error())
		}
		if list == nil {
			continue
		}
		for _, p := range list.Pods() {
			if p.Spec.NodeName == name {
				evict = append(evict, p.Namespace+"/"+p.Name)
			}
		}
	}
	slices.Sort(evict)
	target := fmt.Sprintf("zone %s: %s; pods it would evict now: %s", f.p.Zone, strings.Join(nodes, ", "), strings.Join(evict, ", "))
	if len(evict) == 0 {
		target = fmt.Sprintf("zone %s: %s; no pod to evict now", f.p.Zone, strings.Join(nodes, ", "))
	}
	if len(refuse) > 0 {
		// The drain, which forces nothing, would refuse them too.
		target += "; the drain would refuse: " + strings.Join(refuse, "; ")
	}
	if f.env.Deployment == "" && f.sc.Workload != nil {
		target += "; and, wherever the scheduler places them, " + plannedWorkload(f.sc)
	}
	outcome := "wait up to " + f.p.Timeout.String() + " for the drain to complete"
	if f.p.ExpectBlocked {
		outcome = "expect the PodDisruptionBudget to refuse evictions (429) until the drain times out after " + f.p.Timeout.String()
	}
	return Plan{
		Target: target,
		Changes: []string{
			"cordon nodes " + strings.Join(nodes, ", "),
			"evict their pods through the Eviction API, PodDisruptionBudgets applying, DaemonSet pods left, nothing forced; " + outcome,
		},
		Revert: []string{
			"stop the drain if it still runs",
			"uncordon nodes " + strings.Join(nodes, ", "),
		},
	}, nil
}

// refusedEviction is how the drain helper reports an eviction the API
// refused with 429 (a PodDisruptionBudget) before it retries.
var refusedEviction = regexp.MustCompile(`error when evicting pods/"([^"]+)" -n "([^"]+)" \(will retry`)

// errWriter counts refused evictions in the drain helper's error output.
type errWriter struct {
	f   *drainZone
	buf bytes.Buffer
}

func (w *errWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line) // incomplete: keep for the next write
			return len(p), nil
		}
		if m := refusedEviction.FindStringSubmatch(line); m != nil {
			w.f.mu.Lock()
			w.f.refused[m[2]+"/"+m[1]]++
			w.f.mu.Unlock()
		}
		w.f.env.Logger.V(1).Info("drain: " + strings.TrimSpace(line))
	}
}

func (f *drainZone) helper(ctx context.Context, out, errOut io.Writer) *drain.Helper {
	grace := -1
	if f.p.GracePeriod > 0 {
		grace = int(f.p.GracePeriod.Seconds())
	}
	return &drain.Helper{
		Ctx:                  ctx,
		Client:               f.env.Clientset,
		Force:                false,
		GracePeriodSeconds:   grace,
		IgnoreAllDaemonSets:  true,
		DeleteEmptyDirData:   true, // emptyDir data goes with the pod; that is not forcing
		Timeout:              f.p.Timeout,
		EvictErrorRetryDelay: 2 * time.Second,
		Out:                  out,
		ErrOut:               errOut,
		OnPodDeletionOrEvictionFinished: func(pod *corev1.Pod, usingEviction bool, err error) {
			if err == nil && usingEviction {
				f.mu.Lock()
				f.evicted = append(f.evicted, pod.Namespace+"/"+pod.Name)
				f.mu.Unlock()
			}
		},
	}
}

// Inject cordons each node, journalled before (the revert uncordons it
// whether or not the cordon is known to have happened) and after, then
// starts the drain.
func (f *drainZone) Inject(ctx context.Context) error {
	h := f.helper(ctx, io.Discard, io.Discard)
	for _, name := range f.nodes {
		f.mu.Lock()
		if !slices.Contains(f.cordoned, name) {
			f.cordoned = append(f.cordoned, name)
		}
		f.mu.Unlock()
		if err := f.env.step(ctx, "cordoning node "+name); err != nil {
			return err
		}
		n, err := f.env.Clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("cordon %s: %w", name, err)
		}
		if err := drain.RunCordonOrUncordon(h, n, true); err != nil {
			return fmt.Errorf("cordon %s: %w", name, err)
		}
		if err := f.env.step(ctx, "node "+name+" cordoned"); err != nil {
			return err
		}
	}
	// The drain runs in the background for Hold to wait on; its context
	// outlives Inject's.
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	f.mu.Lock()
	f.cancel, f.done = cancel, done
	f.mu.Unlock()
	ew := &errWriter{f: f}
	h = f.helper(dctx, io.Discard, ew)
	safe.Go(dctx, "the drain of zone "+f.p.Zone, func() {
		defer close(done)
		start := time.Now()
		var errs []error
		for _, name := range f.nodes {
			if err := drain.RunNodeDrain(h, name); err != nil {
				errs = append(errs, fmt.Errorf("drain %s: %w", name, err))
			}
		}
		f.mu.Lock()
		f.drainErr, f.drained = errors.Join(errs...), time.Since(start)
		f.mu.Unlock()
	})
	return nil
}

func (f *drainZone) counts() (refused int, evicted []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.refused {
		refused += n
	}
	return refused, slices.Clone(f.evicted)
}

// Effect checks that the nodes are cordoned, then waits for the drain to
// act on a workload pod: an eviction (or, when the drill expects the
// budget to block it, a refusal).
func (f *drainZone) Effect(ctx context.Context) ([]string, error) {
	var facts []string
	for _, name := range f.nodes {
		n, err := f.env.Clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return facts, fmt.Errorf("check cordon of %s: %w", name, err)
		}
		if !n.Spec.Unschedulable {
			return facts, fmt.Errorf("node %s is not cordoned", name)
		}
		facts = append(facts, "node "+name+" cordoned")
	}
	what := "a pod to be evicted from zone " + f.p.Zone
	if f.p.ExpectBlocked {
		what = "an eviction from zone " + f.p.Zone + " to be refused"
	}
	err := waitFor(ctx, f.p.Timeout, what, func(context.Context) (bool, string, error) {
		refused, evicted := f.counts()
		select {
		case <-f.done:
			if f.p.ExpectBlocked && refused == 0 {
				return false, "", fmt.Errorf("the drain ended without a refused eviction (%d evicted)", len(evicted))
			}
		default:
		}
		if f.p.ExpectBlocked && refused > 0 {
			facts = append(facts, fmt.Sprintf("eviction refused with 429: %s", f.refusedPods()))
			return true, "", nil
		}
		if !f.p.ExpectBlocked && len(evicted) > 0 {
			facts = append(facts, "evicted "+strings.Join(evicted, ", "))
			return true, "", nil
		}
		return false, fmt.Sprintf("%d evicted, %d refused", len(evicted), refused), nil
	})
	return facts, err
}

func (f *drainZone) refusedPods() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ps []string
	for p := range f.refused {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return strings.Join(ps, ", ")
}

// Hold waits for the drain to end. Expecting a block, the drain must have
// timed out with evictions refused and none of the workload's pods evicted;
// otherwise it must have completed. Then the workload must have all its
// replicas Ready again.
func (f *drainZone) Hold(ctx context.Context) error {
	endWait := func() {}
	if f.p.ExpectBlocked {
		// A blocked drain runs until the drill file's timeout.
		endWait = timing.Start(ctx, "drain timeout", timing.Declared)
	}
	select {
	case <-ctx.Done():
		endWait()
		return ctx.Err()
	case <-f.done:
	}
	endWait()
	f.mu.Lock()
	drainErr := f.drainErr
	f.mu.Unlock()
	refused, evicted := f.counts()
	var appEvicted []string
	for _, p := range evicted {
		if strings.HasPrefix(p, f.env.Namespace+"/") {
			appEvicted = append(appEvicted, p)
		}
	}
	if f.p.ExpectBlocked {
		switch {
		case drainErr == nil:
			return fmt.Errorf("the drain completed, but the PodDisruptionBudget should have blocked it (%d evictions refused)", refused)
		case len(appEvicted) > 0:
			return fmt.Errorf("the PodDisruptionBudget should have blocked the drain, yet %s was evicted", strings.Join(appEvicted, ", "))
		}
		f.env.Logger.V(0).Infof("drain blocked as expected: %v", drainErr)
	} else if drainErr != nil {
		return fmt.Errorf("the drain did not complete (%d evictions refused): %w", refused, drainErr)
	}
	if f.env.Deployment == "" {
		return nil
	}
	rollout := monitor.DeploymentRollout(f.env.Clientset, f.env.Namespace, f.env.Deployment)
	return waitFor(ctx, f.env.Timeout, "the workload to have all its replicas Ready again", func(ctx context.Context) (bool, string, error) {
		st, err := rollout(ctx)
		return st == monitor.RolloutComplete, st, err
	})
}

// Revert stops the drain and uncordons the nodes the journal says were
// cordoned, each journalled once it is.
func (f *drainZone) Revert(ctx context.Context) error {
	f.mu.Lock()
	cordoned, cancel, done := slices.Clone(f.cordoned), f.cancel, f.done
	f.mu.Unlock()
	if len(cordoned) == 0 {
		return nil
	}
	if cancel != nil {
		cancel()
		<-done
	}
	h := f.helper(ctx, io.Discard, io.Discard)
	var errs []error
	for _, name := range cordoned {
		n, err := f.env.Clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			err = drain.RunCordonOrUncordon(h, n, false)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("uncordon %s: %w", name, err))
			continue
		}
		f.mu.Lock()
		f.cordoned = slices.DeleteFunc(f.cordoned, func(c string) bool { return c == name })
		f.mu.Unlock()
		if err := f.env.step(ctx, "node "+name+" uncordoned"); err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

func (f *drainZone) Measure(Record) []reports.Measurement {
	refused, evicted := f.counts()
	f.mu.Lock()
	drained, drainErr := f.drained, f.drainErr
	f.mu.Unlock()
	outcome := "completed"
	if drainErr != nil {
		outcome = "blocked: " + drainErr.Error()
	}
	return []reports.Measurement{
		count("evictions refused (429)", refused, f.refusedPods()),
		count("pods evicted", len(evicted), strings.Join(evicted, ", ")),
		seconds("drain", drained, outcome),
	}
}
