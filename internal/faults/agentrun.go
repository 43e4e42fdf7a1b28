package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/drill-sre/drill/internal/agent"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/safe"
)

// The agent's timings: how long past the declared hold a harness may go
// without renewing its lease, how often it renews it, and how long the
// agent may take to start and inject.
const (
	agentMargin  = time.Minute
	agentRenew   = 5 * time.Second
	agentStartIn = 3 * time.Minute
)

// agents are the node agents (package agent) a fault of this process
// started, by lease: the faults that reach nodes through the Kubernetes API
// alone (kill-control-plane's services and isolate modes, zone-outage).
type agents struct {
	mu      sync.Mutex
	handles map[string]*agent.Handle
	stops   []context.CancelFunc
	stopped bool
}

// loadAgentImage puts the agent's image on the nodes where the provider
// can (kind), before anything is broken: a node cut off or without its
// kubelet cannot be given an image any more.
func loadAgentImage(ctx context.Context, env Env) error {
	if loader, ok := env.Provider.(cluster.ImageLoader); ok {
		if _, err := loader.LoadImages(ctx, agent.Image); err != nil {
			return fmt.Errorf("load the agent's image: %w", err)
		}
	}
	return nil
}

// start starts the agent of lease on node, for fault (agent.PodInput's)
// held for hold, and renews its lease from before the agent exists (the
// agent's dead-man's switch counts from its own injection) until stop, or
// until hold and env.Timeout passed: a harness that lost track of its fault
// stops renewing, so that the agent reverts on its own. The handle is kept
// even when the agent did not report its injection in time: the revert
// asks it.
func (a *agents) start(ctx context.Context, env Env, node, fault, lease string, hold time.Duration) error {
	rctx, stop := context.WithTimeout(context.WithoutCancel(ctx), agentStartIn+hold+env.Timeout)
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		stop()
		return fmt.Errorf("agent on %s: not started: the fault is being reverted", node)
	}
	if a.handles == nil {
		a.handles = map[string]*agent.Handle{}
	}
	renewer := agent.Attach(env.Clientset, node, lease)
	a.handles[lease] = renewer
	a.stops = append(a.stops, stop)
	a.mu.Unlock()
	safe.Go(rctx, "the agent's lease renewal", func() { renewer.Renew(rctx, agentRenew) })
	h, err := agent.Start(ctx, env.Clientset, agent.PodInput{
		Node: node, Fault: fault, Hold: hold, Margin: agentMargin, Lease: lease, Backstop: backstop(fault, hold, env),
	}, agentStartIn)
	if h != nil {
		a.mu.Lock()
		a.handles[lease] = h
		a.mu.Unlock()
	}
	return err
}

// backstop is when the node's own systemd reverts fault if its agent is
// gone (agent.Plan's Backstop): an isolated node's agent ends the fault
// when the hold ends, so a margin later; services are held by the harness,
// at most for the renewals' span (start) and a margin.
func backstop(fault string, hold time.Duration, env Env) time.Duration {
	if fault == "isolate" {
		return hold + agentMargin
	}
	return agentStartIn + hold + env.Timeout + agentMargin
}

// stop stops renewing every lease, for good: the revert has begun, or the
// harness is going away.
func (a *agents) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.stops {
		s()
	}
	a.stops, a.stopped = nil, true
}

// revert has the agent of lease on node put its fault off, or finds it
// did (on its own: the hold ended, or the harness was gone), waiting up to
// timeout, and deletes it. In a later process the agent is found by its
// journalled lease. It returns the agent's last state:
//   - an agent that is gone without saying it reverted (its pod ended or
//     was deleted, its node restarted, its lease deleted), or that said its
//     revert failed, is replaced by one that only reverts fault
//     (agent.Restore);
//   - an agent that never said a word (its pod never ran) injected nothing
//     (it says "injecting" before it does), and, asked to revert, never
//     will: it is deleted.
func (a *agents) revert(ctx context.Context, env Env, node, fault, lease string, hold, timeout time.Duration) (string, error) {
	a.mu.Lock()
	h := a.handles[lease]
	a.mu.Unlock()
	if h == nil {
		h = agent.Attach(env.Clientset, node, lease)
	}
	state, err := h.Revert(ctx, timeout)
	switch {
	case errors.Is(err, agent.ErrNoLease), errors.Is(err, agent.ErrGone), errors.Is(err, agent.ErrRevertFailed):
		env.Logger.Warnf("%v: starting an agent that only reverts %s on %s", err, fault, node)
		// In another process (drill recover) the nodes may hold another
		// build of the agent's image than the one this drill carries.
		if lerr := loadAgentImage(ctx, env); lerr != nil {
			env.Logger.Warnf("%v", lerr)
		}
		h, state, err = agent.Restore(ctx, env.Clientset, agent.PodInput{
			Node: node, Fault: fault, Hold: hold, Margin: agentMargin, Lease: lease,
		}, timeout)
	case err != nil && state == "" && ctx.Err() == nil:
		env.Logger.Warnf("%v: the agent never started, so it injected nothing: deleting it", err)
		state, err = "never started: deleted", nil
	}
	if err != nil {
		return state, err
	}
	return state, h.Remove(ctx)
}
