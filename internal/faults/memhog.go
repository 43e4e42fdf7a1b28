package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/kube"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var memoryHogSpec = Register(Spec{
	Type:        scenarios.FaultMemoryHog,
	Params:      func() scenarios.FaultParams { return &scenarios.MemoryHogParams{} },
	Measurable:  []scenarios.Objective{scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts},
	DefaultRole: scenarios.RoleWorker,
	Access:      workloadAccess,
	Target:      string(scenarios.RoleWorker),
	// No shipped drill: at 94% of a kind host's memory in use, the 2-core
	// CI machine's control plane failed. The examples run it.
	ClusterJournal: true,
	New:            newWith(newMemoryHog),
})

// MemoryHogPod is the name of memory-hog's pod, in the drill's namespace.
const MemoryHogPod = "drill-memory-hog"

// memoryHog runs the probe app as a memory hog (probe-app memhog) in a pod
// bound to one node, which keeps the node's memory in use at the declared
// fraction, and reverts by deleting the pod. On kind, every node sees the
// host's memory: the hog fills the host, and each node's exporter reports
// it.
type memoryHog struct {
	env       Env
	sc        *scenarios.Scenario
	p         *scenarios.MemoryHogParams
	namespace string
	node      cluster.Node

	mu      sync.Mutex
	created bool // the hog's pod was created, or was about to be
	peak    probeapp.MemHogState
	// backoffs counts the hog's lines that gave memory back because the
	// machine stalled; maxStall is the highest stall among them.
	backoffs int
	maxStall float64
}

var _ interface {
	Fault
	EffectChecker
	Holder
	Measurer
	Journaled
	Planner
} = (*memoryHog)(nil)

// memoryHogJournal is what stopping the hog needs.
type memoryHogJournal struct {
	// Namespace and Pod are the hog's pod, bound to Node.
	Namespace string       `json:"namespace"`
	Pod       string       `json:"pod"`
	Node      cluster.Node `json:"node"`
	// Created: the pod was created, or was about to be.
	Created bool `json:"created,omitempty"`
}

// JournalState implements Journaled.
func (f *memoryHog) JournalState() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return memoryHogJournal{Namespace: f.namespace, Pod: MemoryHogPod, Node: f.node, Created: f.created}
}

// RestoreJournal implements Journaled.
func (f *memoryHog) RestoreJournal(state json.RawMessage) error {
	var js memoryHogJournal
	if err := restoreJournal(state, &js); err != nil {
		return err
	}
	if js.Namespace == "" || js.Pod != MemoryHogPod {
		return fmt.Errorf("restore journal: pod %s/%s is not the memory hog's %s", js.Namespace, js.Pod, MemoryHogPod)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.namespace, f.node, f.created = js.Namespace, js.Node, js.Created
	return nil
}

func newMemoryHog(env Env, sc *scenarios.Scenario, p *scenarios.MemoryHogParams) (Fault, error) {
	ns := env.drillNamespace()
	if ns == "" {
		return nil, fmt.Errorf("memory-hog: the drill has no namespace of its own to run the hog in")
	}
	return &memoryHog{env: env, sc: sc, p: p, namespace: ns}, nil
}

// resolve picks the node, with the drill's seed (Target and Plan).
func (f *memoryHog) resolve(ctx context.Context) (cluster.Node, error) {
	role := cluster.RoleWorker
	if f.sc.Target.Role != "" {
		role = cluster.Role(f.sc.Target.Role)
	}
	nodes, err := targetNodes(ctx, f.env, f.sc.Target, role)
	if err != nil {
		return cluster.Node{}, fmt.Errorf("memory-hog: %w", err)
	}
	return nodes[seeded(f.sc.Seed, len(nodes))], nil
}

func (f *memoryHog) describe(node cluster.Node) string {
	return fmt.Sprintf("node %s (picked with seed %d), memory %.0f%% in use", node.Name, f.sc.Seed, f.p.Used*100)
}

func (f *memoryHog) Target(ctx context.Context) (string, error) {
	node, err := f.resolve(ctx)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.node = node
	f.mu.Unlock()
	return f.describe(node), nil
}

// Plan implements Planner.
func (f *memoryHog) Plan(ctx context.Context) (Plan, error) {
	node, err := f.resolve(ctx)
	if err != nil {
		return Plan{}, err
	}
	pod := "pod " + MemoryHogPod + " in " + f.namespace
	return Plan{
		Target: f.describe(node),
		Changes: []string{
			fmt.Sprintf("create %s bound to node %s, running %s %s --used=%g", pod, node.Name, fixtures.ProbeAppImage, probeapp.MemHogCommand, f.p.Used),
			fmt.Sprintf("hold %s once the node's memory in use reaches %.0f%%", f.p.HoldFor, f.p.Used*100),
		},
		Revert: []string{"delete " + pod + " and wait until it is gone"},
	}, nil
}

func (f *memoryHog) pod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: MemoryHogPod, Namespace: f.namespace,
			Labels: map[string]string{"app.kubernetes.io/name": "drill-memory-hog", kube.LabelManagedBy: kube.ManagedBy}},
		Spec: corev1.PodSpec{
			NodeName:                      f.node.Name,
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: ptr.To[int64](0),
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name:            "memhog",
				Image:           fixtures.ProbeAppImage,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Args:            []string{probeapp.MemHogCommand, fmt.Sprintf("--used=%g", f.p.Used)},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}},
			}},
		},
	}
}

// Inject creates the hog's pod, journalled before and after.
func (f *memoryHog) Inject(ctx context.Context) error {
	f.mu.Lock()
	f.created = true
	f.mu.Unlock()
	what := fmt.Sprintf("pod %s/%s on node %s", f.namespace, MemoryHogPod, f.node.Name)
	if err := f.env.step(ctx, "creating the memory hog's "+what); err != nil {
		return err
	}
	_, err := f.env.Clientset.CoreV1().Pods(f.namespace).Create(ctx, f.pod(), metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	return f.env.step(ctx, "the memory hog's "+what+" created")
}

// state reads the hog's log: its latest line, and the highest use it
// reached.
func (f *memoryHog) state(ctx context.Context) (probeapp.MemHogState, error) {
	raw, err := f.env.Clientset.CoreV1().Pods(f.namespace).GetLogs(MemoryHogPod, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		return probeapp.MemHogState{}, fmt.Errorf("read pod %s's log: %w", MemoryHogPod, err)
	}
	var last probeapp.MemHogState
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backoffs, f.maxStall = 0, 0
	for sc.Scan() {
		s, ok := probeapp.ParseMemHogLine(sc.Text())
		if !ok {
			continue
		}
		last = s
		if s.Used > f.peak.Used {
			f.peak = s
		}
		if s.Stall > 0 {
			f.backoffs++
			f.maxStall = max(f.maxStall, s.Stall)
		}
	}
	return last, nil
}

// stalled describes the hog's back-offs so far, or says nothing.
func (f *memoryHog) stalled() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.backoffs == 0 {
		return ""
	}
	return fmt.Sprintf("; the hog gave memory back %d times because the machine stalled on memory (every task stalled up to %.0f%% of 10 s, guard %d%%)",
		f.backoffs, f.maxStall, probeapp.DefaultMaxStall)
}

// Effect waits until the hog has brought the node's memory in use to
// within a point of the declared fraction.
func (f *memoryHog) Effect(ctx context.Context) ([]string, error) {
	var reached probeapp.MemHogState
	err := waitFor(ctx, f.env.Timeout, fmt.Sprintf("node %s's memory in use to reach %.0f%%", f.node.Name, f.p.Used*100),
		func(ctx context.Context) (bool, string, error) {
			p, err := f.env.Clientset.CoreV1().Pods(f.namespace).Get(ctx, MemoryHogPod, metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			if p.Status.Phase != corev1.PodRunning {
				return false, "pod " + string(p.Status.Phase), nil
			}
			s, err := f.state(ctx)
			if err != nil {
				return false, "", err
			}
			reached = s
			// The hog must hold memory: a node already that full proves
			// nothing about the hog.
			return s.Held > 0 && s.Used >= f.p.Used-0.01, fmt.Sprintf("%.1f%% in use, the hog holds %s", s.Used*100, gib(s.Held)) + f.stalled(), nil
		})
	if err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("node %s's memory %.1f%% in use; the hog holds %s", f.node.Name, reached.Used*100, gib(reached.Held)) + f.stalled()}, nil
}

func (f *memoryHog) Hold(ctx context.Context) error { return declaredHold(ctx, "holdFor", f.p.HoldFor) }

// Revert deletes the hog's pod and waits until it is gone: its memory is
// the kernel's again.
func (f *memoryHog) Revert(ctx context.Context) error {
	_, _ = f.state(ctx) // the peak, for Measure, while the log is there
	pods := f.env.Clientset.CoreV1().Pods(f.namespace)
	err := pods.Delete(ctx, MemoryHogPod, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s/%s: %w", f.namespace, MemoryHogPod, err)
	}
	err = waitFor(ctx, 2*time.Minute, "pod "+MemoryHogPod+" to be gone", func(ctx context.Context) (bool, string, error) {
		_, err := pods.Get(ctx, MemoryHogPod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		return false, "still there", err
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.created = false
	f.mu.Unlock()
	return f.env.step(ctx, "the memory hog's pod "+f.namespace+"/"+MemoryHogPod+" deleted")
}

func (f *memoryHog) Measure(Record) []reports.Measurement {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.peak.Used == 0 {
		return nil
	}
	ms := []reports.Measurement{{Name: "memory in use, highest", Value: f.peak.Used * 100, Unit: "%",
		Detail: fmt.Sprintf("node %s, the hog holding %s", f.node.Name, gib(f.peak.Held))}}
	if f.backoffs > 0 {
		ms = append(ms, reports.Measurement{Name: "memory hog back-offs", Value: float64(f.backoffs), Unit: "count",
			Detail: fmt.Sprintf("memory given back as every task stalled on memory up to %.0f%% of 10 s (guard %d%%)", f.maxStall, probeapp.DefaultMaxStall)})
	}
	return ms
}

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }
