// Package agent is drill's node agent: what a short-lived privileged pod
// runs on one node of a cluster that drill reaches only through its
// kubeconfig, to put a fault on that node and take it off again.
//
// The pod runs with hostPID and hostNetwork, so the agent acts on the node
// itself: it enters the namespaces of the node's PID 1 (NSEnter) and runs
// the node's own tools there (iptables, systemctl, crictl), and moves the
// kubelet's static-pod manifests.
//
// The harness and the agent talk through one Lease (Control): the harness
// renews it while it is alive and asks for the revert there; the agent
// writes where it is. The agent puts the fault back on its own:
//   - when the harness asks (Revert requested);
//   - when the harness stopped renewing the Lease for longer than the
//     fault's declared hold plus a margin: the dead-man's switch;
//   - for a fault that cuts the node off (Isolate), when the declared hold
//     ends, on its own clock, since nobody can reach it meanwhile;
//   - when the agent is told to stop (its context ends: SIGTERM).
//
// Every step is idempotent: a revert run twice, or after a half-done
// injection, leaves the node as it was.
package agent

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Host runs a command on the node.
type Host interface {
	Run(ctx context.Context, name string, args ...string) (string, error)
}

// NSEnter runs commands in the mount, UTS, IPC, network and PID namespaces
// of the node's PID 1, which a pod with hostPID sees as its own PID 1: the
// node's binaries, its systemd, its iptables.
type NSEnter struct{}

var _ Host = NSEnter{}

// Run implements Host.
func (NSEnter) Run(ctx context.Context, name string, args ...string) (string, error) {
	argv := append([]string{"--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", name}, args...)
	out, err := exec.CommandContext(ctx, "nsenter", argv...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s on the node: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Fault is what the agent does to its node, and undoes.
type Fault interface {
	// Name says what the fault is, for the agent's state ("isolate").
	Name() string
	// Inject puts the fault on the node.
	Inject(ctx context.Context, h Host) error
	// Revert takes it off; it is idempotent, and safe after a failed or
	// partial Inject.
	Revert(ctx context.Context, h Host) error
	// Reachable says whether the harness can still reach the agent while
	// the fault is on: an isolated node cannot, and ends the fault on its
	// own clock.
	Reachable() bool
}

// Control is the Lease the harness and the agent share.
type Control interface {
	// Read returns when the harness last renewed the Lease, and whether
	// it asks for the revert.
	Read(ctx context.Context) (renewed time.Time, revert bool, err error)
	// Report records the agent's state ("injected", "reverted: ...") on
	// the Lease, for the harness and the journal.
	Report(ctx context.Context, state string) error
}

// Plan is how long the fault stays on and how the agent watches over it.
type Plan struct {
	// Hold is the fault's declared hold.
	Hold time.Duration
	// Margin is how much longer than Hold the agent waits for a harness
	// that stopped renewing the Lease before it reverts on its own.
	Margin time.Duration
	// Poll is how often the agent reads the Lease. Default 2 s.
	Poll time.Duration
	// Backstop, when positive, arms a timer in the node's own systemd that
	// reverts the fault after it, whatever became of the agent (killed,
	// out of memory, its pod deleted by force): the agent disarms it once
	// it reverted.
	Backstop time.Duration
}

// Why the agent reverted.
const (
	ReasonAsked    = "the harness asked"
	ReasonDeadMan  = "the harness stopped renewing its lease"
	ReasonHoldEnd  = "the declared hold ended"
	ReasonStopped  = "the agent was stopped"
	ReasonInjectKO = "the injection failed"
	// ReasonRestore: a second agent, started after the first one was gone
	// (its pod ended or deleted, its node restarted) without saying it
	// reverted, only reverted (RevertOnly).
	ReasonRestore = "a restoring agent reverted what an agent that is gone left"
)

// Outcome is what the agent did.
type Outcome struct {
	Injected, Reverted time.Time
	// Reason is one of the Reason* constants.
	Reason string
}

// revertTimeout bounds a revert that runs after the agent's context ended.
const revertTimeout = 2 * time.Minute

// finalReportFor bounds the tries of the agent's last report.
const finalReportFor = time.Minute

// Run injects f, watches over it by p, reverts it and reports each step on
// c. A failed injection is reverted too. Run returns once the fault is off,
// or with the error that kept it on.
func Run(ctx context.Context, h Host, f Fault, c Control, p Plan) (Outcome, error) {
	if p.Poll <= 0 {
		p.Poll = 2 * time.Second
	}
	var out Outcome
	report := func(state string) {
		// A report that does not get through (the node cut off, the API
		// gone) is not a reason to keep the fault on.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = c.Report(rctx, state)
	}
	// The last word is tried for longer: a node whose network just came
	// back (isolate) may take a few seconds to reach the API again, and the
	// harness waits for this word.
	reportFinal := func(state string) {
		deadline := time.Now().Add(finalReportFor)
		for {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := c.Report(rctx, state)
			cancel()
			if err == nil || time.Now().After(deadline) {
				return
			}
			time.Sleep(2 * time.Second)
		}
	}
	revert := func(reason string) (Outcome, error) {
		out.Reason = reason
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revertTimeout)
		defer cancel()
		if err := f.Revert(rctx, h); err != nil {
			reportFinal(fmt.Sprintf("revert failed (%s): %v", reason, err))
			return out, fmt.Errorf("revert %s (%s): %w", f.Name(), reason, err)
		}
		out.Reverted = time.Now()
		if p.Backstop > 0 {
			// Left armed, it would only revert again what is reverted.
			disarmBackstop(rctx, h, f.Name())
		}
		reportFinal("reverted: " + reason)
		return out, nil
	}

	// An agent that starts after the harness asked for the revert (its
	// pod was late: an image pulled slowly, a node not Ready) injects
	// nothing.
	if _, asked, err := c.Read(ctx); err == nil && asked {
		out.Reason = ReasonAsked
		reportFinal("reverted: " + ReasonAsked + " before the injection: nothing injected")
		return out, nil
	}
	// Said before, while the node can still say it (an isolated node's
	// "injected" never gets through), and said for sure: the harness takes
	// an agent that never said anything for one that injected nothing.
	if err := c.Report(ctx, fmt.Sprintf("injecting %s for %s", f.Name(), p.Hold)); err != nil {
		return out, fmt.Errorf("not injecting %s: %w", f.Name(), err)
	}
	if p.Backstop > 0 {
		b, ok := f.(Backstopped)
		if !ok {
			return out, fmt.Errorf("not injecting %s: it has no backstop to arm", f.Name())
		}
		if err := armBackstop(ctx, h, f.Name(), p.Backstop, b.BackstopScript()); err != nil {
			return out, fmt.Errorf("not injecting %s: %w", f.Name(), err)
		}
	}
	out.Injected = time.Now()
	if err := f.Inject(ctx, h); err != nil {
		o, rerr := revert(ReasonInjectKO)
		return o, errors.Join(fmt.Errorf("inject %s: %w", f.Name(), err), rerr)
	}
	report("injected " + f.Name())

	if !f.Reachable() {
		// Cut off: no Lease to read. The hold ends on this clock.
		t := time.NewTimer(p.Hold)
		defer t.Stop()
		select {
		case <-t.C:
			return revert(ReasonHoldEnd)
		case <-ctx.Done():
			return revert(ReasonStopped)
		}
	}
	lastRenewed := out.Injected
	tick := time.NewTicker(p.Poll)
	defer tick.Stop()
	for {
		renewed, asked, err := c.Read(ctx)
		if err == nil {
			if asked {
				return revert(ReasonAsked)
			}
			if renewed.After(lastRenewed) {
				lastRenewed = renewed
			}
		}
		// A Lease that cannot be read counts as not renewed.
		if time.Since(lastRenewed) > p.Hold+p.Margin {
			return revert(ReasonDeadMan)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return revert(ReasonStopped)
		}
	}
}

// RevertOnly takes f off the node, whatever is left of it, and reports
// that on c: what an agent started only to restore does (PodInput's
// RevertOnly), when the agent that injected is gone without saying it
// reverted.
func RevertOnly(ctx context.Context, h Host, f Fault, c Control) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revertTimeout)
	defer cancel()
	report := func(state string) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = c.Report(cctx, state)
	}
	if err := f.Revert(rctx, h); err != nil {
		report(fmt.Sprintf("revert failed (%s): %v", ReasonRestore, err))
		return fmt.Errorf("revert %s (%s): %w", f.Name(), ReasonRestore, err)
	}
	disarmBackstop(rctx, h, f.Name())
	report("reverted: " + ReasonRestore)
	return nil
}

// Backstopped is a fault that can be reverted by a shell script on the
// node, with no agent: its backstop (Plan.Backstop).
type Backstopped interface {
	// BackstopScript is a /bin/sh script that reverts the fault,
	// idempotently, with the node's own tools.
	BackstopScript() string
}

// backstopUnit names the transient systemd unit of fault's backstop.
func backstopUnit(fault string) string { return "drill-backstop-" + fault }

// armBackstop has the node's systemd run script after d, in a transient
// timer of its own (systemd-run): it outlives the agent's pod, which the
// node's systemd knows nothing of. A timer left by an earlier agent is
// replaced.
func armBackstop(ctx context.Context, h Host, fault string, d time.Duration, script string) error {
	disarmBackstop(ctx, h, fault)
	unit := backstopUnit(fault)
	if _, err := h.Run(ctx, "systemd-run", "--unit", unit, "--description", "drill: revert "+fault+" if its agent is gone",
		fmt.Sprintf("--on-active=%ds", int(d.Round(time.Second).Seconds())), "--timer-property=AccuracySec=1s",
		"/bin/sh", "-c", script); err != nil {
		return fmt.Errorf("arm the backstop %s: %w", unit, err)
	}
	return nil
}

// disarmBackstop stops fault's backstop timer and forgets its unit; none
// there is fine.
func disarmBackstop(ctx context.Context, h Host, fault string) {
	unit := backstopUnit(fault)
	_, _ = h.Run(ctx, "systemctl", "stop", unit+".timer", unit+".service")
	_, _ = h.Run(ctx, "systemctl", "reset-failed", unit+".timer", unit+".service")
}
