package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Annotations of the Lease the harness and the agent share.
const (
	// AnnotationRevert, set to "true" by the harness, asks the agent to
	// revert.
	AnnotationRevert = "drill.sre/revert"
	// AnnotationState is where the agent says where it is ("injected
	// isolate", "reverted: the harness stopped renewing its lease").
	AnnotationState = "drill.sre/agent-state"
	// AnnotationStateAt is when the agent last wrote AnnotationState.
	AnnotationStateAt = "drill.sre/agent-state-at"
)

// Lease is Control over a coordination.k8s.io Lease: the harness renews
// its spec.renewTime and sets AnnotationRevert; the agent writes
// AnnotationState.
type Lease struct {
	Client          kubernetes.Interface
	Namespace, Name string
}

var _ Control = Lease{}

// Read implements Control.
func (l Lease) Read(ctx context.Context) (time.Time, bool, error) {
	le, err := l.Client.CoordinationV1().Leases(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read lease %s/%s: %w", l.Namespace, l.Name, err)
	}
	return Renewed(le), le.Annotations[AnnotationRevert] == "true", nil
}

// Renewed is when the lease was last renewed: its renewTime, else its
// acquireTime, else zero.
func Renewed(le *coordinationv1.Lease) time.Time {
	switch {
	case le.Spec.RenewTime != nil:
		return le.Spec.RenewTime.Time
	case le.Spec.AcquireTime != nil:
		return le.Spec.AcquireTime.Time
	}
	return time.Time{}
}

// Report implements Control, as a merge patch of the two annotations.
func (l Lease) Report(ctx context.Context, state string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		AnnotationState:   state,
		AnnotationStateAt: time.Now().UTC().Format(time.RFC3339Nano),
	}}})
	if err != nil {
		return err
	}
	if _, err := l.Client.CoordinationV1().Leases(l.Namespace).Patch(ctx, l.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("report %q on lease %s/%s: %w", state, l.Namespace, l.Name, err)
	}
	return nil
}
