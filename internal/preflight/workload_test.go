package preflight

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// deployment is drill-x/probe wanting 3 replicas, with status as given.
func deployment(generation int64, status appsv1.DeploymentStatus) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "drill-x", Name: "probe", Generation: generation},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(3))},
		Status:     status,
	}
}

func TestCheckWorkload(t *testing.T) {
	probe := &Workload{Namespace: "drill-x", Deployment: "probe"}
	rolledOut := appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
	tests := []struct {
		name      string
		workload  *Workload
		objs      []runtime.Object
		transient int // API errors before the real answer
		want      Check
	}{
		{
			name: "no workload", workload: nil,
			want: Check{Name: CheckWorkload, Status: StatusNotChecked, Detail: "no workload given"},
		},
		{
			name: "rolled out", workload: probe, objs: []runtime.Object{deployment(2, rolledOut)},
			want: Check{Name: CheckWorkload, Status: StatusOK, Detail: "deployment drill-x/probe: every replica updated, Ready and available"},
		},
		{
			name: "rolled out, after a transient API error", workload: probe, objs: []runtime.Object{deployment(2, rolledOut)}, transient: 1,
			want: Check{Name: CheckWorkload, Status: StatusOK, Detail: "deployment drill-x/probe: every replica updated, Ready and available"},
		},
		{
			name: "a replica not Ready", workload: probe,
			objs: []runtime.Object{deployment(2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2})},
			want: Check{Name: CheckWorkload, Status: StatusFailed, Detail: "deployment drill-x/probe not rolled out: 3 updated, 2 ready, 3 total of 3"},
		},
		{
			name: "a rollout under way", workload: probe,
			objs: []runtime.Object{deployment(2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 4, AvailableReplicas: 4})},
			want: Check{Name: CheckWorkload, Status: StatusFailed, Detail: "deployment drill-x/probe not rolled out: 1 updated, 4 ready, 4 total of 3"},
		},
		{
			name: "a new spec not yet observed", workload: probe,
			objs: []runtime.Object{deployment(3, rolledOut)},
			want: Check{Name: CheckWorkload, Status: StatusFailed, Detail: "deployment drill-x/probe not rolled out: 3 updated, 3 ready, 3 total of 3"},
		},
		{
			name: "no such deployment", workload: probe,
			want: Check{Name: CheckWorkload, Status: StatusFailed, Detail: `get deployment drill-x/probe: deployments.apps "probe" not found`},
		},
		{
			name: "no name", workload: &Workload{Namespace: "drill-x"},
			want: Check{Name: CheckWorkload, Status: StatusFailed, Detail: `workload "drill-x"/"": namespace and deployment are both required`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(tt.objs...)
			calls := 0
			cs.PrependReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
				calls++
				if calls <= tt.transient {
					return true, nil, apierrors.NewTooManyRequests("slow down", 0)
				}
				return false, nil, nil
			})
			if got := checkWorkload(t.Context(), cs, tt.workload); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestCheckJournals(t *testing.T) {
	list := func(journals []string, err error) func(context.Context) ([]string, error) {
		return func(context.Context) ([]string, error) { return journals, err }
	}
	tests := []struct {
		name string
		open func(context.Context) ([]string, error)
		want Check
	}{
		{"no source", nil, Check{Name: CheckJournals, Status: StatusNotChecked, Detail: "no journal source given"}},
		{"none open", list(nil, nil), Check{Name: CheckJournals, Status: StatusOK, Detail: "no journal open"}},
		{"one open", list([]string{"node-stop drill-control-plane2 (drill etcd-leader, 12:03:04)"}, nil),
			Check{Name: CheckJournals, Status: StatusFailed, Detail: "1 journal open: node-stop drill-control-plane2 (drill etcd-leader, 12:03:04)"}},
		{"two open", list([]string{"node-stop drill-worker", "network-partition drill-worker2"}, nil),
			Check{Name: CheckJournals, Status: StatusFailed, Detail: "2 journals open: node-stop drill-worker; network-partition drill-worker2"}},
		{"some unreadable, one open", list([]string{"node-stop drill-worker"}, errors.New("read j2.json: unexpected end of JSON input")),
			Check{Name: CheckJournals, Status: StatusFailed, Detail: "1 journal open: node-stop drill-worker; list open journals: read j2.json: unexpected end of JSON input"}},
		{"unreadable: an open journal cannot be ruled out", list(nil, errors.New("open /var/lib/drill/journals: permission denied")),
			Check{Name: CheckJournals, Status: StatusFailed, Detail: "list open journals: open /var/lib/drill/journals: permission denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkJournals(t.Context(), tt.open); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
