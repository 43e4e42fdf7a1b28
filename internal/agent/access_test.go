package agent

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/internal/rbac/rbactest"
)

// The harness's side of an agent (its namespace, service account, Role,
// lease and pod) needs only drill-node-faults with the classes every drill
// needs; the agent's own calls (read and annotate its lease) are what the
// harness grants it, which the API lets it grant only if it holds them.
func TestHarnessNeedsOnlyNodeFaultsAccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := PodInput{Node: "cp-2", Fault: "services", Hold: time.Minute, Margin: 30 * time.Second, Lease: LeaseName("services", "cp-2")}
		cs := fake.NewClientset()
		done := make(chan Outcome, 1)
		go playAgent(t.Context(), t, cs, in, Services{Poll: time.Second}, newNode(), done)
		h, err := Start(t.Context(), cs, in, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		go h.Renew(ctx, 5*time.Second)
		time.Sleep(20 * time.Second)
		if _, err := h.Revert(t.Context(), time.Minute); err != nil {
			t.Fatal(err)
		}
		stop()
		<-done
		if err := h.Remove(t.Context()); err != nil {
			t.Fatal(err)
		}
		rbactest.Granted(t, "the node agent's harness", cs.Actions(), rbac.With(rbac.NodeFaults)...)
	})
}
