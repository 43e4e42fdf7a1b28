// Package kube holds the waits and readiness readings that drill's
// installers (the monitoring stack, Velero) share: a poll that reports
// progress and quotes the last state it saw when it times out, and what
// "ready" means for a Deployment, a DaemonSet and their pods.
package kube

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Poll calls cond every interval until it reports done or returns an error
// (which ends the wait and is returned as is), or until timeout. cond
// describes what it saw; each new description goes to progress (when not
// nil), so that a long wait shows progress, and a timeout quotes the last
// one. A cond that cannot read the state returns a description of why, not
// an error: the next poll tries again.
func Poll(ctx context.Context, interval, timeout time.Duration, what string, progress func(desc string), cond func(ctx context.Context) (done bool, desc string, err error)) error {
	var last string
	var stopped error
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		done, desc, err := cond(ctx)
		if err != nil {
			stopped = err
			return false, err
		}
		if ctx.Err() != nil {
			return false, nil // what cond saw is the deadline, not the state
		}
		if desc != "" && desc != last {
			if progress != nil {
				progress(desc)
			}
			last = desc
		}
		return done, nil
	})
	switch {
	case err == nil:
		return nil
	case stopped != nil:
		return stopped
	default:
		if last == "" {
			last = "nothing observed yet"
		}
		return fmt.Errorf("waiting %s for %s: %w (last seen: %s)", timeout, what, err, last)
	}
}

// DeploymentReady tells whether a Deployment's rollout is complete and all
// its replicas are available, and describes it.
func DeploymentReady(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	desc := fmt.Sprintf("%d/%d replicas available, %d updated", s.AvailableReplicas, want, s.UpdatedReplicas)
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			desc += "; " + c.Message
		}
	}
	if s.ObservedGeneration < d.Generation {
		return false, desc + "; the new spec is not yet observed"
	}
	return s.UpdatedReplicas == want && s.AvailableReplicas == want && s.Replicas == want, desc
}

// DaemonSetReady tells whether a DaemonSet runs an up-to-date, ready pod on
// every node it should, and describes it.
func DaemonSetReady(ds *appsv1.DaemonSet) (bool, string) {
	s := ds.Status
	desc := fmt.Sprintf("%d/%d pods ready, %d updated", s.NumberReady, s.DesiredNumberScheduled, s.UpdatedNumberScheduled)
	if s.ObservedGeneration < ds.Generation {
		return false, desc + "; the new spec is not yet observed"
	}
	want := s.DesiredNumberScheduled
	return want > 0 && s.NumberReady == want && s.UpdatedNumberScheduled == want && s.NumberAvailable == want, desc
}

// PodProblems describes why pods are not ready: unschedulable, a container
// waiting (an image that is not on the node, a crash loop) or restarted,
// with the end of its last message. imageHint, when not empty, is added to
// an image problem (where the images should have come from).
func PodProblems(pods []corev1.Pod, imageHint string) []string {
	var out []string
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
				out = append(out, fmt.Sprintf("pod %s unschedulable: %s", p.Name, c.Message))
			}
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "PodInitializing" && w.Reason != "ContainerCreating" {
				msg := fmt.Sprintf("pod %s (node %s) container %s: %s", p.Name, p.Spec.NodeName, cs.Name, w.Reason)
				if w.Message != "" {
					msg += ": " + w.Message
				}
				if imageHint != "" && strings.Contains(w.Reason, "Image") {
					msg += " (" + imageHint + ")"
				}
				out = append(out, msg)
			}
			if t := cs.LastTerminationState.Terminated; t != nil && cs.RestartCount > 0 {
				msg := fmt.Sprintf("pod %s container %s restarted %d times, last exit %d (%s)", p.Name, cs.Name, cs.RestartCount, t.ExitCode, t.Reason)
				if m := strings.TrimSpace(t.Message); m != "" {
					msg += ": " + lastLines(m, 3)
				}
				out = append(out, msg)
			}
		}
	}
	return out
}

// lastLines returns the last n lines of s, joined with " | ".
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// Warnings passes each distinct API server warning (HTTP warning code 299)
// to Say once: a rest.Config's WarningHandlerWithContext.
type Warnings struct {
	Say  func(message string)
	mu   sync.Mutex
	seen map[string]bool
}

// HandleWarningHeaderWithContext implements rest.WarningHandlerWithContext.
func (w *Warnings) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, message string) {
	if code != 299 || message == "" || w.Say == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if !w.seen[message] {
		w.seen[message] = true
		w.Say(message)
	}
}
