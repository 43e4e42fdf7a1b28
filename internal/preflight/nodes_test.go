package preflight

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// Fixtures are built inside a synctest bubble, where time.Now starts at
// 2000-01-01 and only moves when every goroutine waits: ages are exact.

// testNode is a Ready node with an InternalIP; opts change it.
func testNode(name, ip string, opts ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status",
					LastHeartbeatTime: metav1.NewTime(time.Now().Add(-2 * time.Minute))},
			},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}},
		},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func controlPlane(n *corev1.Node) { n.Labels["node-role.kubernetes.io/control-plane"] = "" }
func cordoned(n *corev1.Node)     { n.Spec.Unschedulable = true }

// notReady sets the node's Ready condition, with a heartbeat that long ago.
func notReady(status corev1.ConditionStatus, reason, message string, heartbeat time.Duration) func(*corev1.Node) {
	return func(n *corev1.Node) {
		for i, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				n.Status.Conditions[i] = corev1.NodeCondition{Type: corev1.NodeReady, Status: status, Reason: reason, Message: message,
					LastHeartbeatTime: metav1.NewTime(time.Now().Add(-heartbeat))}
			}
		}
	}
}

func noReadyCondition(n *corev1.Node) { n.Status.Conditions = n.Status.Conditions[:1] }

// nodeLease is a kubelet's lease, renewed that long ago.
func nodeLease(node string, renewed time.Duration) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: nodeLeaseNamespace, Name: node},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(node),
			LeaseDurationSeconds: ptr.To(int32(40)),
			RenewTime:            ptr.To(metav1.NewMicroTime(time.Now().Add(-renewed))),
		},
	}
}

// haCluster is kind's HA layout: three control-plane nodes and two workers,
// all Ready with fresh leases, then the objects in more (same-named nodes
// and leases replace the healthy ones).
func haCluster(more ...runtime.Object) []runtime.Object {
	objs := []runtime.Object{
		testNode("drill-control-plane", "172.18.0.3", controlPlane),
		testNode("drill-control-plane2", "172.18.0.4", controlPlane),
		testNode("drill-control-plane3", "172.18.0.5", controlPlane),
		testNode("drill-worker", "172.18.0.6"),
		testNode("drill-worker2", "172.18.0.7"),
	}
	for _, n := range []string{"drill-control-plane", "drill-control-plane2", "drill-control-plane3", "drill-worker", "drill-worker2"} {
		objs = append(objs, nodeLease(n, 3*time.Second))
	}
	for _, o := range more {
		m := o.(metav1.Object)
		for i, old := range objs {
			if om := old.(metav1.Object); om.GetName() == m.GetName() && om.GetNamespace() == m.GetNamespace() {
				objs[i] = o
				m = nil
				break
			}
		}
		if m != nil {
			objs = append(objs, o)
		}
	}
	return objs
}

func TestCheckNodes(t *testing.T) {
	tests := []struct {
		name   string
		objs   func() []runtime.Object // called in the bubble
		status Status
		detail string // the whole detail
	}{
		{
			name:   "all Ready and schedulable",
			objs:   func() []runtime.Object { return haCluster() },
			status: StatusOK,
			detail: "5 nodes (3 control-plane), all Ready and schedulable",
		},
		{
			name:   "a cordoned worker",
			objs:   func() []runtime.Object { return haCluster(testNode("drill-worker2", "172.18.0.7", cordoned)) },
			status: StatusFailed,
			detail: "drill-worker2 is cordoned; 4 of 5 nodes Ready and schedulable",
		},
		{
			name: "a stopped control-plane node: Ready Unknown, lease stale",
			objs: func() []runtime.Object {
				return haCluster(
					testNode("drill-control-plane2", "172.18.0.4", controlPlane,
						notReady(corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", 4*time.Minute)),
					nodeLease("drill-control-plane2", 90*time.Second))
			},
			status: StatusFailed,
			detail: "drill-control-plane2 is NotReady (Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting node status.; " +
				"kubelet lease last renewed 1m30s ago); 4 of 5 nodes Ready and schedulable",
		},
		{
			name: "NotReady without a lease: the condition's heartbeat",
			objs: func() []runtime.Object {
				objs := haCluster(testNode("drill-worker", "172.18.0.6",
					notReady(corev1.ConditionFalse, "KubeletNotReady", "container runtime network not ready: NetworkReady=false", 5*time.Second)))
				return objs[:len(objs)-2] // without the workers' leases
			},
			status: StatusFailed,
			detail: "drill-worker is NotReady (Ready=False, KubeletNotReady: container runtime network not ready: NetworkReady=false; " +
				"last heartbeat 5s ago); 4 of 5 nodes Ready and schedulable",
		},
		{
			name:   "a node without a Ready condition",
			objs:   func() []runtime.Object { return haCluster(testNode("drill-worker3", "172.18.0.8", noReadyCondition)) },
			status: StatusFailed,
			detail: "drill-worker3 has no Ready condition (no heartbeat recorded); 5 of 6 nodes Ready and schedulable",
		},
		{
			name: "NotReady and cordoned, a control-plane node first",
			objs: func() []runtime.Object {
				return haCluster(
					testNode("drill-worker", "172.18.0.6", cordoned),
					testNode("drill-control-plane3", "172.18.0.5", controlPlane, cordoned,
						notReady(corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", time.Hour)),
					nodeLease("drill-control-plane3", 10*time.Minute))
			},
			status: StatusFailed,
			detail: "drill-control-plane3 is NotReady (Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting node status.; " +
				"kubelet lease last renewed 10m0s ago) and is cordoned; drill-worker is cordoned; 3 of 5 nodes Ready and schedulable",
		},
		{
			name: "Ready but the kubelet's lease expired: stopped within the grace period",
			objs: func() []runtime.Object {
				return haCluster(nodeLease("drill-control-plane", 45*time.Second))
			},
			status: StatusFailed,
			detail: "drill-control-plane is Ready but its kubelet lease expired: kubelet lease last renewed 45s ago, lease duration 40s; " +
				"4 of 5 nodes Ready and schedulable",
		},
		{
			name:   "Ready with a late but unexpired lease",
			objs:   func() []runtime.Object { return haCluster(nodeLease("drill-control-plane", 39*time.Second)) },
			status: StatusOK,
			detail: "5 nodes (3 control-plane), all Ready and schedulable",
		},
		{
			name:   "no nodes",
			objs:   func() []runtime.Object { return nil },
			status: StatusFailed,
			detail: "no nodes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cs := fake.NewClientset(tt.objs()...)
				got := checkNodes(readNodes(t.Context(), cs), time.Now())
				want := Check{Name: CheckNodes, Status: tt.status, Detail: tt.detail}
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
			})
		})
	}
}

// TestReadNodesRetriesTransientErrors checks that a transient API error is
// retried briefly and any other is not.
func TestReadNodesRetriesTransientErrors(t *testing.T) {
	unavailable := apierrors.NewServiceUnavailable("etcdserver: leader changed")
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("RBAC: access denied"))
	tests := []struct {
		name      string
		errs      []error // answers to the node lists, in turn; then success
		wantCalls int
		detail    string // "" for the healthy cluster's
	}{
		{"no error", nil, 1, ""},
		{"one transient error", []error{unavailable}, 2, ""},
		{"two transient errors", []error{unavailable, unavailable}, 3, ""},
		{"transient errors throughout", []error{unavailable, unavailable, unavailable, unavailable}, 3,
			"list nodes: etcdserver: leader changed"},
		{"forbidden is not retried", []error{forbidden}, 1,
			"list nodes: nodes is forbidden: RBAC: access denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cs := fake.NewClientset(haCluster()...)
				calls := 0
				cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
					calls++
					if calls <= len(tt.errs) {
						return true, nil, tt.errs[calls-1]
					}
					return false, nil, nil
				})
				got := checkNodes(readNodes(t.Context(), cs), time.Now())
				want := Check{Name: CheckNodes, Status: StatusOK, Detail: "5 nodes (3 control-plane), all Ready and schedulable"}
				if tt.detail != "" {
					want = Check{Name: CheckNodes, Status: StatusFailed, Detail: tt.detail}
				}
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
				if calls != tt.wantCalls {
					t.Errorf("%d node lists, want %d", calls, tt.wantCalls)
				}
			})
		})
	}
}

// TestReadNodesWithoutLeases checks that unreadable leases leave the
// heartbeat to the Ready condition instead of failing the check.
func TestReadNodesWithoutLeases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := fake.NewClientset(haCluster(
			testNode("drill-worker", "172.18.0.6", notReady(corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", 3*time.Minute)),
			nodeLease("drill-worker", time.Minute))...)
		cs.PrependReactor("list", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "", errors.New("RBAC: access denied"))
		})
		got := checkNodes(readNodes(t.Context(), cs), time.Now())
		want := "drill-worker is NotReady (Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting node status.; last heartbeat 3m0s ago)"
		if got.Status != StatusFailed || !strings.HasPrefix(got.Detail, want+";") {
			t.Errorf("got %+v, want failed with %q", got, want)
		}
	})
}

// TestReadNodesHonoursTheContext checks that retries stop at the deadline
// and return the API's error rather than the deadline's.
func TestReadNodesHonoursTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := fake.NewClientset(haCluster()...)
		calls := 0
		cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
			calls++
			return true, nil, apierrors.NewServiceUnavailable("etcdserver: leader changed")
		})
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		s := readNodes(ctx, cs)
		if s.err == nil || s.err.Error() != "list nodes: etcdserver: leader changed" {
			t.Errorf("got error %v, want the API's", s.err)
		}
		if calls != 2 || time.Since(start) != 300*time.Millisecond {
			t.Errorf("%d calls in %s, want 2 (at 0 and after the first backoff, ~260ms) returning at the deadline", calls, time.Since(start))
		}
	})
}
