package agent

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// playAgent runs the agent as its pod would once the harness created it,
// against the fake node n, and returns its outcome on done.
func playAgent(ctx context.Context, t *testing.T, cs *fake.Clientset, in PodInput, f Fault, n *node, done chan<- Outcome) {
	for {
		if _, err := cs.CoreV1().Pods(Namespace).Get(ctx, in.Lease, metav1.GetOptions{}); err == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	out, err := Run(ctx, n, f, Lease{Client: cs, Namespace: Namespace, Name: in.Lease}, Plan{Hold: in.Hold, Margin: in.Margin, Poll: time.Second})
	if err != nil {
		t.Errorf("agent: %v", err)
	}
	done <- out
}

func TestHarnessAndAgent(t *testing.T) {
	in := PodInput{Node: "cp-2", Fault: "services", Hold: time.Minute, Margin: 30 * time.Second, Lease: LeaseName("services", "cp-2")}
	t.Run("the harness asks for the revert", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cs := fake.NewClientset()
			n := newNode()
			done := make(chan Outcome, 1)
			go playAgent(t.Context(), t, cs, in, Services{Poll: time.Second}, n, done)
			h, err := Start(t.Context(), cs, in, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if n.kubelet {
				t.Fatalf("injected, yet the kubelet runs")
			}
			ctx, stop := context.WithCancel(t.Context())
			go h.Renew(ctx, 5*time.Second)
			time.Sleep(5 * time.Minute) // alive well past hold and margin
			if n.kubelet {
				t.Fatalf("reverted while the harness was alive")
			}
			state, err := h.Revert(t.Context(), time.Minute)
			stop()
			if err != nil || state != "reverted: "+ReasonAsked {
				t.Fatalf("revert: %q, %v", state, err)
			}
			if out := <-done; out.Reason != ReasonAsked || !n.kubelet {
				t.Errorf("agent %+v, kubelet %v", out, n.kubelet)
			}
			if err := h.Remove(t.Context()); err != nil {
				t.Fatal(err)
			}
			if l, _ := cs.CoordinationV1().Leases(Namespace).List(t.Context(), metav1.ListOptions{}); len(l.Items) != 0 {
				t.Errorf("leases left: %d", len(l.Items))
			}
		})
	})
	t.Run("the harness dies: the agent reverts on its own", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cs := fake.NewClientset()
			n := newNode()
			done := make(chan Outcome, 1)
			go playAgent(t.Context(), t, cs, in, Services{Poll: time.Second}, n, done)
			start := time.Now()
			h, err := Start(t.Context(), cs, in, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			ctx, die := context.WithCancel(t.Context())
			go h.Renew(ctx, 5*time.Second)
			time.Sleep(20 * time.Second)
			die() // the harness is gone: no more renewals
			out := <-done
			if out.Reason != ReasonDeadMan || !n.kubelet {
				t.Fatalf("agent %+v, kubelet %v", out, n.kubelet)
			}
			// Hold and margin after the last renewal (at 20 s at the latest).
			if got := out.Reverted.Sub(start); got < 90*time.Second || got > 20*time.Second+90*time.Second+5*time.Second {
				t.Errorf("reverted %s after the start", got)
			}
			// A later harness finds it reverted and asks for nothing.
			if state, err := h.Revert(t.Context(), time.Minute); err != nil || !strings.Contains(state, ReasonDeadMan) {
				t.Errorf("revert after: %q, %v", state, err)
			}
		})
	})
	t.Run("an agent that never answers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, err := Start(t.Context(), fake.NewClientset(), in, time.Minute)
			if err == nil || !strings.Contains(err.Error(), "no answer within 1m0s") {
				t.Errorf("start: %v", err)
			}
		})
	})
}
