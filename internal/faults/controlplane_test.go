package faults

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/agent"
	"github.com/drill-sre/drill/scenarios"
)

// fakeAgent plays the agent of lease on the API: it says "injected" once
// its pod exists and "reverted" once the harness asks, and records how
// often the harness renewed the lease meanwhile.
func fakeAgent(ctx context.Context, cs kubernetes.Interface, lease string, renewals *atomic.Int32) {
	say := func(state string) {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{agent.AnnotationState: state}}})
		_, _ = cs.CoordinationV1().Leases(agent.Namespace).Patch(ctx, lease, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	injected := false
	var last time.Time
	for ctx.Err() == nil {
		time.Sleep(time.Second)
		le, err := cs.CoordinationV1().Leases(agent.Namespace).Get(ctx, lease, metav1.GetOptions{})
		if err != nil {
			continue
		}
		if r := agent.Renewed(le); r.After(last) {
			last = r
			renewals.Add(1)
		}
		pod, err := cs.CoreV1().Pods(agent.Namespace).Get(ctx, lease, metav1.GetOptions{})
		if err != nil {
			continue
		}
		if slices.Contains(pod.Spec.Containers[0].Args, "--revert-only") {
			say("reverted: " + agent.ReasonRestore)
			return
		}
		if !injected {
			say("injected services")
			injected = true
		}
		if le.Annotations[agent.AnnotationRevert] == "true" {
			say("reverted: " + agent.ReasonAsked)
			return
		}
	}
}

// In mode services the fault goes through the agent: the lease is
// journalled before the agent exists, the harness renews it while the
// fault holds, and a later process (drill recover) finds the agent by the
// journalled lease, asks it to revert and deletes it.
func TestKillControlPlaneByAgent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := testEnv()
		j := &testJournal{}
		env.Journal, env.Logger = j, log.NoopLogger{}
		p := &scenarios.KillControlPlaneParams{Mode: scenarios.KillServices, HoldFor: time.Minute, RejoinTimeout: 10 * time.Second}
		f := &killControlPlane{env: env, p: p, js: killControlPlaneJournal{Node: testNodes[3]}}
		j.f = f
		lease := agent.LeaseName("services", "cp2")
		var renewals atomic.Int32
		go fakeAgent(t.Context(), env.Clientset, lease, &renewals)

		if err := f.Inject(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantSteps := []string{"starting drill's agent drill-agents/services-cp2 on node cp2 (services)", "node cp2: services by the agent"}
		if !slices.Equal(j.steps(), wantSteps) {
			t.Errorf("journal steps %q, want %q", j.steps(), wantSteps)
		}
		var first killControlPlaneJournal
		if err := json.Unmarshal(j.states[0], &first); err != nil || !first.Killed || first.Agent != lease {
			t.Errorf("journalled before the agent started: %+v, %v; want killed, agent %s", first, err, lease)
		}
		pod, err := env.Clientset.CoreV1().Pods(agent.Namespace).Get(t.Context(), lease, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Join(pod.Spec.Containers[0].Args, " ")
		if pod.Spec.NodeName != "cp2" || !strings.Contains(args, "--fault services --hold 1m0s --margin 1m0s") {
			t.Errorf("agent pod on %q with args %q", pod.Spec.NodeName, args)
		}

		time.Sleep(30 * time.Second)
		if n := renewals.Load(); n < 5 {
			t.Errorf("the lease was renewed %d times in 30 s, want every %s", n, agentRenew)
		}
		// The harness dies here: another process reverts from the journal.
		f.agents.stop()
		g := &killControlPlane{env: env, p: p}
		j.f = g
		if err := g.RestoreJournal(j.last(t)); err != nil {
			t.Fatal(err)
		}
		err = g.Revert(t.Context())
		// The fake node never reports Ready again.
		if err == nil || !strings.Contains(err.Error(), "node cp2 to rejoin") {
			t.Errorf("revert: %v, want a timeout waiting for cp2 to rejoin", err)
		}
		if steps := j.steps(); steps[len(steps)-1] != "node cp2: the agent reverted: "+agent.ReasonAsked {
			t.Errorf("last journal step %q", steps[len(steps)-1])
		}
		if _, err := env.Clientset.CoreV1().Pods(agent.Namespace).Get(t.Context(), lease, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("the agent's pod is still there: %v", err)
		}
		if _, err := env.Clientset.CoordinationV1().Leases(agent.Namespace).Get(t.Context(), lease, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("the agent's lease is still there: %v", err)
		}
		// A third revert finds no agent: another one, started only to
		// revert, makes sure, and is deleted too.
		go fakeAgent(t.Context(), env.Clientset, lease, &renewals)
		if err := g.Revert(t.Context()); err == nil || !strings.Contains(err.Error(), "node cp2 to rejoin") {
			t.Errorf("revert with the agent gone: %v", err)
		}
		if steps := j.steps(); steps[len(steps)-1] != "node cp2: the agent reverted: "+agent.ReasonRestore {
			t.Errorf("last journal step %q, want the restoring agent's", steps[len(steps)-1])
		}
		if l, _ := env.Clientset.CoreV1().Pods(agent.Namespace).List(t.Context(), metav1.ListOptions{}); len(l.Items) != 0 {
			t.Errorf("agents' pods left: %d", len(l.Items))
		}
	})
}

// A drill that never injected has no agent to ask.
func TestKillControlPlaneByAgentRevertBeforeInject(t *testing.T) {
	env := testEnv()
	f := &killControlPlane{env: env, p: &scenarios.KillControlPlaneParams{Mode: scenarios.KillIsolate, HoldFor: time.Minute, RejoinTimeout: time.Second},
		js: killControlPlaneJournal{Node: testNodes[3]}}
	if err := f.Revert(t.Context()); err != nil {
		t.Errorf("revert before inject: %v", err)
	}
	if l, _ := env.Clientset.CoordinationV1().Leases(agent.Namespace).List(t.Context(), metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("a lease was created: %+v", l.Items)
	}
}

// zone-outage starts an agent on every node of the zone, each lease
// journalled before any agent exists, and a later process asks every one
// of them to revert and deletes them.
func TestZoneOutageByAgents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := testEnv()
		j := &testJournal{}
		env.Journal, env.Logger = j, log.NoopLogger{}
		p := &scenarios.ZoneOutageParams{Zone: "zone-b", HoldFor: time.Minute, RejoinTimeout: 10 * time.Second}
		f := &zoneOutage{env: env, p: p}
		j.f = f
		if _, err := f.Target(t.Context()); err != nil {
			t.Fatal(err)
		}
		var renewals atomic.Int32
		for _, n := range []string{"cp2", "w2"} {
			go fakeAgent(t.Context(), env.Clientset, agent.LeaseName("isolate", n), &renewals)
		}
		if err := f.Inject(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantSteps := []string{"starting drill's agents on the 2 nodes of zone zone-b", "zone zone-b cut off by the agents"}
		if !slices.Equal(j.steps(), wantSteps) {
			t.Errorf("journal steps %q, want %q", j.steps(), wantSteps)
		}
		var first zoneOutageJournal
		if err := json.Unmarshal(j.states[0], &first); err != nil || len(first.Agents) != 2 {
			t.Errorf("journalled before the agents started: %+v, %v; want both agents", first, err)
		}
		for _, n := range []string{"cp2", "w2"} {
			pod, err := env.Clientset.CoreV1().Pods(agent.Namespace).Get(t.Context(), agent.LeaseName("isolate", n), metav1.GetOptions{})
			if err != nil || pod.Spec.NodeName != n || !slices.Contains(pod.Spec.Containers[0].Args, "isolate") {
				t.Errorf("agent on %s: %+v, %v", n, pod, err)
			}
		}
		f.agents.stop()
		g := &zoneOutage{env: env, p: p}
		j.f = g
		if err := g.RestoreJournal(j.last(t)); err != nil {
			t.Fatal(err)
		}
		err := g.Revert(t.Context())
		// The fake nodes never report Ready again.
		if err == nil || !strings.Contains(err.Error(), "node cp2 to rejoin") {
			t.Errorf("revert: %v, want a timeout waiting for cp2 to rejoin", err)
		}
		if l, _ := env.Clientset.CoreV1().Pods(agent.Namespace).List(t.Context(), metav1.ListOptions{}); len(l.Items) != 0 {
			t.Errorf("agents' pods left: %d", len(l.Items))
		}
		steps := j.steps()
		if !slices.Contains(steps, "node w2: the agent reverted: "+agent.ReasonAsked) || !slices.Contains(steps, "node cp2: the agent reverted: "+agent.ReasonAsked) {
			t.Errorf("journal steps %q: want both agents' reverts", steps)
		}
	})
}
