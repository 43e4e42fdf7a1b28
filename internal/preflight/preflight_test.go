package preflight

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/kubernetes/fake"
)

func TestResult(t *testing.T) {
	nodesFailed := Check{Name: CheckNodes, Status: StatusFailed, Detail: "drill-worker2 is cordoned; 4 of 5 nodes Ready and schedulable"}
	etcdOK := Check{Name: CheckEtcd, Status: StatusOK, Detail: "3 members: 3 started, 3 healthy, leader drill-control-plane"}
	etcdFailed := Check{Name: CheckEtcd, Status: StatusFailed, Detail: "member drill-control-plane2 unhealthy: context deadline exceeded"}
	journalsSkipped := Check{Name: CheckJournals, Status: StatusNotChecked, Detail: "no journal source given"}
	tests := []struct {
		name     string
		checks   []Check
		ok       bool
		problems []string
		str      string
	}{
		{
			name:   "nothing checked is not a failure",
			checks: []Check{journalsSkipped},
			ok:     true,
			str:    "preflight: ok; not checked: journals\n  journals   not checked no journal source given",
		},
		{
			name:   "all ok",
			checks: []Check{etcdOK},
			ok:     true,
			str:    "preflight: ok\n  etcd       ok          3 members: 3 started, 3 healthy, leader drill-control-plane",
		},
		{
			name:     "failures, one problem each",
			checks:   []Check{nodesFailed, etcdFailed, journalsSkipped},
			problems: []string{"nodes: drill-worker2 is cordoned; 4 of 5 nodes Ready and schedulable", "etcd: member drill-control-plane2 unhealthy: context deadline exceeded"},
			str: "preflight: failed (nodes, etcd); not checked: journals\n" +
				"  nodes      failed      drill-worker2 is cordoned; 4 of 5 nodes Ready and schedulable\n" +
				"  etcd       failed      member drill-control-plane2 unhealthy: context deadline exceeded\n" +
				"  journals   not checked no journal source given",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Result{Checks: tt.checks}
			if got := r.OK(); got != tt.ok {
				t.Errorf("OK() = %v, want %v", got, tt.ok)
			}
			if got := r.Problems(); !slices.Equal(got, tt.problems) {
				t.Errorf("Problems() = %q\nwant %q", got, tt.problems)
			}
			if got := r.String(); got != tt.str {
				t.Errorf("String() =\n%s\nwant\n%s", got, tt.str)
			}
		})
	}
}

// TestRun checks what Run wires: the order of the checks, what is not
// checked without its means (a nil *clientv3.Client included), and that
// every check is bounded by the timeout and they run at once.
func TestRun(t *testing.T) {
	hangingEtcd := func() Etcd {
		f := healthyEtcd()
		for ep := range f.status {
			f.status[ep] = fakeStatus{hang: true}
		}
		return f
	}
	waitForDeadline := func(ctx context.Context) ([]string, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tests := []struct {
		name     string
		in       func() Input // called in the bubble
		want     []Status
		ok       bool
		duration time.Duration
	}{
		{
			name: "only a clientset",
			in:   func() Input { return Input{Clientset: fake.NewClientset(haCluster()...)} },
			want: []Status{StatusOK, StatusNotChecked, StatusNotChecked, StatusNotChecked, StatusNotChecked, StatusNotChecked},
			ok:   true,
		},
		{
			name: "a nil etcd client is no etcd access",
			in: func() Input {
				var cli *clientv3.Client
				return Input{Clientset: fake.NewClientset(haCluster()...), Etcd: cli}
			},
			want: []Status{StatusOK, StatusNotChecked, StatusNotChecked, StatusNotChecked, StatusNotChecked, StatusNotChecked},
			ok:   true,
		},
		{
			name: "no clientset fails what needs one",
			in: func() Input {
				return Input{Workload: &Workload{Namespace: "drill-x", Deployment: "probe"}, OpenJournals: func(context.Context) ([]string, error) { return nil, nil }}
			},
			want: []Status{StatusFailed, StatusNotChecked, StatusNotChecked, StatusFailed, StatusOK, StatusNotChecked},
		},
		{
			name: "checks that do not answer: one default timeout in all",
			in: func() Input {
				return Input{Clientset: fake.NewClientset(haCluster()...), Etcd: hangingEtcd(), OpenJournals: waitForDeadline}
			},
			want:     []Status{StatusOK, StatusFailed, StatusNotChecked, StatusNotChecked, StatusFailed, StatusNotChecked},
			duration: DefaultTimeout,
		},
		{
			name: "checks that do not answer: a given timeout",
			in: func() Input {
				return Input{Clientset: fake.NewClientset(haCluster()...), Etcd: hangingEtcd(), OpenJournals: waitForDeadline, Timeout: 3 * time.Second}
			},
			want:     []Status{StatusOK, StatusFailed, StatusNotChecked, StatusNotChecked, StatusFailed, StatusNotChecked},
			duration: 3 * time.Second,
		},
		{
			name: "a journal source that fails",
			in: func() Input {
				return Input{Clientset: fake.NewClientset(haCluster()...), OpenJournals: func(context.Context) ([]string, error) { return nil, errors.New("boom") }}
			},
			want: []Status{StatusOK, StatusNotChecked, StatusNotChecked, StatusNotChecked, StatusFailed, StatusNotChecked},
		},
	}
	names := []string{CheckNodes, CheckEtcd, CheckAPIServers, CheckWorkload, CheckJournals, CheckAccess}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				r := Run(t.Context(), tt.in())
				if d := time.Since(start); d != tt.duration {
					t.Errorf("took %s, want %s", d, tt.duration)
				}
				var gotNames []string
				var got []Status
				for _, c := range r.Checks {
					gotNames = append(gotNames, c.Name)
					got = append(got, c.Status)
				}
				if !slices.Equal(gotNames, names) || !slices.Equal(got, tt.want) {
					t.Errorf("got %v %v, want %v %v\n%s", gotNames, got, names, tt.want, r)
				}
				if r.OK() != tt.ok {
					t.Errorf("OK() = %v, want %v\n%s", r.OK(), tt.ok, r)
				}
			})
		})
	}
}
