package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/drill-sre/drill/internal/kube"
)

// HarnessIdentity is the Lease's holder: the harness renews it.
const HarnessIdentity = "drill-harness"

// Handle is the harness's side of one agent: its lease and its pod.
type Handle struct {
	client kubernetes.Interface
	in     PodInput
	// Poll is how often the handle looks at the lease. Default 2 s.
	Poll time.Duration
}

// Start sets up what an agent needs (its namespace, service account and
// role, each kept if there), creates its lease, renewed now, and its pod,
// and waits up to timeout for the agent to report the fault injected (for
// isolate, about to be: an isolated node cannot report). An
// agent that reports a failure, or a pod that ends first, is an error.
func Start(ctx context.Context, cs kubernetes.Interface, in PodInput, timeout time.Duration) (*Handle, error) {
	pod, err := Pod(in)
	if err != nil {
		return nil, err
	}
	if err := ensureAccess(ctx, cs); err != nil {
		return nil, err
	}
	now := metav1.NewMicroTime(time.Now())
	holder := HarnessIdentity
	secs := int32((in.Hold + in.Margin) / time.Second)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: in.Lease, Namespace: Namespace, Labels: kube.ManagedLabels(nil)},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: &holder, AcquireTime: &now, RenewTime: &now, LeaseDurationSeconds: &secs,
		},
	}
	if _, err := cs.CoordinationV1().Leases(Namespace).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("agent on %s: create lease %s/%s: %w", in.Node, Namespace, in.Lease, err)
	}
	if _, err := cs.CoreV1().Pods(Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("agent on %s: create pod %s/%s: %w", in.Node, Namespace, pod.Name, err)
	}
	h := &Handle{client: cs, in: in}
	// An isolated node cannot say it is: its "injecting" is the last word
	// until the hold ends.
	cutOff := in.Fault == "isolate"
	err = h.await(ctx, timeout, func(state string) (bool, error) {
		switch {
		case strings.HasPrefix(state, "injected"), cutOff && strings.HasPrefix(state, "injecting"):
			return true, nil
		case strings.HasPrefix(state, "reverted"), strings.HasPrefix(state, "revert failed"):
			return false, fmt.Errorf("the agent did not inject: %s", state)
		}
		return false, nil
	})
	if err != nil {
		return h, fmt.Errorf("agent on %s: %w", in.Node, err)
	}
	return h, nil
}

// Attach returns the handle of an agent started earlier, maybe by another
// process (drill recover), from its node and lease as journalled.
func Attach(cs kubernetes.Interface, node, lease string) *Handle {
	return &Handle{client: cs, in: PodInput{Node: node, Lease: lease}}
}

// ErrNoLease is Revert's error when the agent's lease is gone: nobody can
// ask that agent anything any more.
var ErrNoLease = errors.New("the agent's lease is gone")

// ErrGone is the error of a wait for an agent whose pod ended, or is gone,
// without the answer waited for.
var ErrGone = errors.New("the agent is gone")

// ErrRevertFailed is Revert's error when the agent said its revert failed:
// another agent may try again (Restore).
var ErrRevertFailed = errors.New("the agent's revert failed")

// Restore starts an agent that only reverts in.Fault on in.Node
// (RevertOnly), in place of one that is gone without saying it reverted,
// and waits up to timeout for it to say it did. It returns the agent's
// handle, to Remove, and its last state.
func Restore(ctx context.Context, cs kubernetes.Interface, in PodInput, timeout time.Duration) (*Handle, string, error) {
	in.RevertOnly = true
	pod, err := Pod(in)
	if err != nil {
		return nil, "", err
	}
	if err := ensureAccess(ctx, cs); err != nil {
		return nil, "", err
	}
	h := &Handle{client: cs, in: in}
	// What the gone agent left first: a lease and a pod of the same name.
	if err := h.Remove(ctx); err != nil {
		return nil, "", err
	}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: in.Lease, Namespace: Namespace, Labels: kube.ManagedLabels(nil)}}
	if _, err := cs.CoordinationV1().Leases(Namespace).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		return nil, "", fmt.Errorf("restoring agent on %s: create lease %s/%s: %w", in.Node, Namespace, in.Lease, err)
	}
	if err := createPod(ctx, cs, pod); err != nil {
		return h, "", fmt.Errorf("restoring agent on %s: %w", in.Node, err)
	}
	var last string
	err = h.await(ctx, timeout, func(state string) (bool, error) {
		last = state
		if strings.HasPrefix(state, "revert failed") {
			return false, fmt.Errorf("the restoring agent's revert failed: %s", state)
		}
		return strings.HasPrefix(state, "reverted"), nil
	})
	if err != nil {
		return h, last, fmt.Errorf("restoring agent on %s: %w", in.Node, err)
	}
	return h, last, nil
}

// createPod creates pod, waiting out the deletion of an earlier one of the
// same name (its grace period runs its revert).
func createPod(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod) error {
	return wait.PollUntilContextTimeout(ctx, 2*time.Second, revertTimeout+30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Pods(Namespace).Create(ctx, pod, metav1.CreateOptions{})
		switch {
		case err == nil:
			return true, nil
		case apierrors.IsAlreadyExists(err):
			return false, nil
		}
		return false, fmt.Errorf("create pod %s/%s: %w", Namespace, pod.Name, err)
	})
}

// Renew renews the lease every interval until ctx ends: the harness is
// alive. A renewal that fails is tried again at the next one; the agent's
// margin covers a few.
func (h *Handle) Renew(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A patch of the renewal time alone: it cannot undo the revert
		// asked meanwhile, nor conflict with it or the agent's reports.
		patch, err := json.Marshal(map[string]any{"spec": map[string]any{"renewTime": metav1.NewMicroTime(time.Now())}})
		if err != nil {
			continue
		}
		_, _ = h.client.CoordinationV1().Leases(Namespace).Patch(ctx, h.in.Lease, types.MergePatchType, patch, metav1.PatchOptions{})
	}
}

// Revert asks the agent to revert, unless it already did on its own (an
// isolated node's hold ended), and waits up to timeout for it to say so.
// It returns the agent's last state ("reverted: the harness asked").
func (h *Handle) Revert(ctx context.Context, timeout time.Duration) (string, error) {
	leases := h.client.CoordinationV1().Leases(Namespace)
	le, err := leases.Get(ctx, h.in.Lease, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("agent on %s: %w (%s/%s)", h.in.Node, ErrNoLease, Namespace, h.in.Lease)
	}
	if err != nil {
		return "", fmt.Errorf("agent on %s: ask for the revert: %w", h.in.Node, err)
	}
	if !strings.HasPrefix(le.Annotations[AnnotationState], "reverted") {
		// A patch of the one annotation: the renewals and the agent's
		// reports go on beside it.
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{AnnotationRevert: "true"}}})
		if err != nil {
			return "", err
		}
		if _, err := leases.Patch(ctx, h.in.Lease, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return "", fmt.Errorf("agent on %s: ask for the revert: %w", h.in.Node, err)
		}
	}
	var last string
	err = h.await(ctx, timeout, func(state string) (bool, error) {
		last = state
		if strings.HasPrefix(state, "revert failed") {
			return false, fmt.Errorf("%w: %s", ErrRevertFailed, state)
		}
		return strings.HasPrefix(state, "reverted"), nil
	})
	if err != nil {
		return last, fmt.Errorf("agent on %s: %w", h.in.Node, err)
	}
	return last, nil
}

// Remove deletes the agent's pod and lease; gone already is fine.
func (h *Handle) Remove(ctx context.Context) error {
	if err := h.client.CoreV1().Pods(Namespace).Delete(ctx, h.in.Lease, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("agent on %s: delete pod: %w", h.in.Node, err)
	}
	if err := h.client.CoordinationV1().Leases(Namespace).Delete(ctx, h.in.Lease, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("agent on %s: delete lease: %w", h.in.Node, err)
	}
	return nil
}

// await polls the agent's state on the lease until done says so, or it
// errs, or the pod ended, or timeout passed.
func (h *Handle) await(ctx context.Context, timeout time.Duration, done func(state string) (bool, error)) error {
	poll := h.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	var state string
	err := wait.PollUntilContextTimeout(ctx, poll, timeout, true, func(ctx context.Context) (bool, error) {
		le, err := h.client.CoordinationV1().Leases(Namespace).Get(ctx, h.in.Lease, metav1.GetOptions{})
		if err != nil {
			return false, nil // the API may be down: the fault may be why
		}
		state = le.Annotations[AnnotationState]
		if ok, err := done(state); ok || err != nil {
			return ok, err
		}
		pod, err := h.client.CoreV1().Pods(Namespace).Get(ctx, h.in.Lease, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return false, fmt.Errorf("%w: its pod was deleted, with the state %q", ErrGone, state)
		case err == nil && (pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded):
			return false, fmt.Errorf("%w: its pod ended (%s) with the state %q", ErrGone, pod.Status.Phase, state)
		}
		return false, nil
	})
	if err != nil && ctx.Err() == nil && wait.Interrupted(err) {
		return fmt.Errorf("no answer within %s (last state %q)", timeout, state)
	}
	return err
}

// ensureAccess creates the agents' namespace, service account, and the
// role that lets them read and annotate their leases, keeping any there.
func ensureAccess(ctx context.Context, cs kubernetes.Interface) error {
	create := func(what string, err error) error {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("agents: create %s: %w", what, err)
		}
		return nil
	}
	if err := create("namespace "+Namespace, func() error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, NamespaceObject(), metav1.CreateOptions{})
		return err
	}()); err != nil {
		return err
	}
	meta := metav1.ObjectMeta{Name: ServiceAccount, Namespace: Namespace, Labels: kube.ManagedLabels(nil)}
	if err := create("service account", func() error {
		_, err := cs.CoreV1().ServiceAccounts(Namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: meta}, metav1.CreateOptions{})
		return err
	}()); err != nil {
		return err
	}
	if err := create("role", func() error {
		_, err := cs.RbacV1().Roles(Namespace).Create(ctx, &rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "patch"},
		}}}, metav1.CreateOptions{})
		return err
	}()); err != nil {
		return err
	}
	return create("role binding", func() error {
		_, err := cs.RbacV1().RoleBindings(Namespace).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: meta,
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: ServiceAccount},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: ServiceAccount, Namespace: Namespace}},
		}, metav1.CreateOptions{})
		return err
	}())
}
