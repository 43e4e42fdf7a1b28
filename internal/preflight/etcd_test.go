package preflight

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
)

// fakeEtcd answers like an etcd cluster whose members answer Status as
// status says (by client URL); a URL without an entry refuses connections.
type fakeEtcd struct {
	members []*etcdserverpb.Member
	listErr error
	status  map[string]fakeStatus
}

type fakeStatus struct {
	leader uint64
	errors []string
	hang   bool // until the context ends, as a stopped machine's address does
}

func (f *fakeEtcd) MemberList(ctx context.Context, opts ...clientv3.OpOption) (*clientv3.MemberListResponse, error) {
	if !clientv3.OpGet("", opts...).IsSerializable() {
		return nil, errors.New("fake: a linearizable member list needs a quorum; read it serializably")
	}
	if f.listErr != nil {
		return nil, f.listErr
	}
	return &clientv3.MemberListResponse{Members: f.members}, nil
}

func (f *fakeEtcd) Status(ctx context.Context, endpoint string) (*clientv3.StatusResponse, error) {
	s, ok := f.status[endpoint]
	switch {
	case !ok:
		return nil, fmt.Errorf("dial %s: connect: connection refused", endpoint)
	case s.hang:
		<-ctx.Done()
		return nil, ctx.Err()
	}
	var id uint64
	for _, m := range f.members {
		for _, u := range m.ClientURLs {
			if u == endpoint {
				id = m.ID
			}
		}
	}
	return &clientv3.StatusResponse{Header: &etcdserverpb.ResponseHeader{MemberId: id}, Leader: s.leader, Errors: s.errors}, nil
}

func etcdMember(id uint64, name, ip string) *etcdserverpb.Member {
	return &etcdserverpb.Member{ID: id, Name: name, PeerURLs: []string{"https://" + ip + ":2380"}, ClientURLs: []string{"https://" + ip + ":2379"}}
}

// healthyEtcd is kind's stacked etcd on three control-plane nodes, led by
// drill-control-plane.
func healthyEtcd() *fakeEtcd {
	return &fakeEtcd{
		members: []*etcdserverpb.Member{
			etcdMember(0xc3, "drill-control-plane3", "172.18.0.5"), // unsorted on purpose
			etcdMember(0xa1, "drill-control-plane", "172.18.0.3"),
			etcdMember(0xb2, "drill-control-plane2", "172.18.0.4"),
		},
		status: map[string]fakeStatus{
			"https://172.18.0.3:2379": {leader: 0xa1},
			"https://172.18.0.4:2379": {leader: 0xa1},
			"https://172.18.0.5:2379": {leader: 0xa1},
		},
	}
}

func haNodes() nodeSnapshot {
	return nodeSnapshot{nodes: []corev1.Node{
		*testNode("drill-control-plane", "172.18.0.3", controlPlane),
		*testNode("drill-control-plane2", "172.18.0.4", controlPlane),
		*testNode("drill-control-plane3", "172.18.0.5", controlPlane),
		*testNode("drill-worker", "172.18.0.6"),
	}}
}

func TestCheckEtcd(t *testing.T) {
	const cp2, cp3 = "https://172.18.0.4:2379", "https://172.18.0.5:2379"
	tests := []struct {
		name   string
		change func(f *fakeEtcd, n *nodeSnapshot)
		status Status
		detail string
	}{
		{
			name:   "three healthy members, one leader",
			change: func(*fakeEtcd, *nodeSnapshot) {},
			status: StatusOK,
			detail: "3 members: 3 started, 3 healthy, leader drill-control-plane",
		},
		{
			name: "a single-node cluster",
			change: func(f *fakeEtcd, n *nodeSnapshot) {
				f.members = f.members[1:2]
				n.nodes = n.nodes[:1]
			},
			status: StatusOK,
			detail: "1 member: 1 started, 1 healthy, leader drill-control-plane",
		},
		{
			name:   "a stopped member does not answer",
			change: func(f *fakeEtcd, _ *nodeSnapshot) { f.status[cp2] = fakeStatus{hang: true} },
			status: StatusFailed,
			detail: "member drill-control-plane2 unhealthy: context deadline exceeded; 3 members: 3 started, 2 healthy, leader drill-control-plane",
		},
		{
			name:   "a member refuses connections",
			change: func(f *fakeEtcd, _ *nodeSnapshot) { delete(f.status, cp3) },
			status: StatusFailed,
			detail: "member drill-control-plane3 unhealthy: dial https://172.18.0.5:2379: connect: connection refused; " +
				"3 members: 3 started, 2 healthy, leader drill-control-plane",
		},
		{
			name: "two members down: no quorum",
			change: func(f *fakeEtcd, _ *nodeSnapshot) {
				f.status[cp2] = fakeStatus{hang: true}
				f.status[cp3] = fakeStatus{hang: true}
			},
			status: StatusFailed,
			detail: "member drill-control-plane2 unhealthy: context deadline exceeded; member drill-control-plane3 unhealthy: context deadline exceeded; " +
				"no quorum: 1 of 3 voting members healthy, 2 needed; 3 members: 3 started, 1 healthy, leader drill-control-plane",
		},
		{
			name: "a member added but not started",
			change: func(f *fakeEtcd, n *nodeSnapshot) {
				f.members = append(f.members, &etcdserverpb.Member{ID: 0xd4, PeerURLs: []string{"https://172.18.0.8:2380"}})
				n.nodes = append(n.nodes, *testNode("drill-control-plane4", "172.18.0.8", controlPlane))
			},
			status: StatusFailed,
			detail: "member d4 (peer https://172.18.0.8:2380) is not started; 4 members: 3 started, 3 healthy, leader drill-control-plane",
		},
		{
			name:   "a learner",
			change: func(f *fakeEtcd, _ *nodeSnapshot) { f.members[0].IsLearner = true },
			status: StatusFailed,
			detail: "member drill-control-plane3 is a learner, not a voting member; 3 members: 3 started, 3 healthy, leader drill-control-plane",
		},
		{
			name:   "a 2-member etcd on three control-plane nodes",
			change: func(f *fakeEtcd, _ *nodeSnapshot) { f.members = f.members[1:] },
			status: StatusFailed,
			detail: "2 members for 3 control-plane nodes (none named drill-control-plane3); 2 members: 2 started, 2 healthy, leader drill-control-plane",
		},
		{
			name: "members not named after the nodes: counted, not named",
			change: func(f *fakeEtcd, _ *nodeSnapshot) {
				f.members = f.members[1:]
				f.members[0].Name, f.members[1].Name = "etcd-a", "etcd-b"
			},
			status: StatusFailed,
			detail: "2 members for 3 control-plane nodes; 2 members: 2 started, 2 healthy, leader etcd-a",
		},
		{
			name:   "two leaders",
			change: func(f *fakeEtcd, _ *nodeSnapshot) { f.status[cp3] = fakeStatus{leader: 0xc3} },
			status: StatusFailed,
			detail: "members disagree on the leader: drill-control-plane, drill-control-plane2 follow drill-control-plane; " +
				"drill-control-plane3 follows drill-control-plane3; 3 members: 3 started, 3 healthy",
		},
		{
			name: "no leader",
			change: func(f *fakeEtcd, _ *nodeSnapshot) {
				for ep := range f.status {
					f.status[ep] = fakeStatus{}
				}
			},
			status: StatusFailed,
			detail: "member drill-control-plane has no leader; member drill-control-plane2 has no leader; member drill-control-plane3 has no leader; " +
				"no member knows a leader; no quorum: 0 of 3 voting members healthy, 2 needed; 3 members: 3 started, 0 healthy",
		},
		{
			name: "the leader is not a member",
			change: func(f *fakeEtcd, _ *nodeSnapshot) {
				for ep := range f.status {
					f.status[ep] = fakeStatus{leader: 0xff}
				}
			},
			status: StatusFailed,
			detail: "the leader ff is not a member; 3 members: 3 started, 3 healthy",
		},
		{
			name: "a member reports an alarm",
			change: func(f *fakeEtcd, _ *nodeSnapshot) {
				f.status[cp2] = fakeStatus{leader: 0xa1, errors: []string{"alarm:NOSPACE"}}
			},
			status: StatusFailed,
			detail: "member drill-control-plane2 reports errors: alarm:NOSPACE; 3 members: 3 started, 2 healthy, leader drill-control-plane",
		},
		{
			name:   "a started member without a client URL",
			change: func(f *fakeEtcd, _ *nodeSnapshot) { f.members[2].ClientURLs = nil },
			status: StatusFailed,
			detail: "member drill-control-plane2 has no client URL; 3 members: 3 started, 2 healthy, leader drill-control-plane",
		},
		{
			name:   "the member list fails",
			change: func(f *fakeEtcd, _ *nodeSnapshot) { f.listErr = errors.New("context deadline exceeded") },
			status: StatusFailed,
			detail: "member list: context deadline exceeded",
		},
		{
			name: "control-plane nodes unknown: healthy, counts not compared",
			change: func(f *fakeEtcd, n *nodeSnapshot) {
				f.members = f.members[1:]
				*n = nodeSnapshot{err: errors.New("list nodes: connection refused")}
			},
			status: StatusOK,
			detail: "2 members: 2 started, 2 healthy, leader drill-control-plane (not compared with the control-plane nodes, which could not be read)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f, nodes := healthyEtcd(), haNodes()
				tt.change(f, &nodes)
				ctx, cancel := context.WithTimeout(t.Context(), DefaultTimeout)
				defer cancel()
				start := time.Now()
				got := checkEtcd(ctx, f, nodes)
				want := Check{Name: CheckEtcd, Status: tt.status, Detail: tt.detail}
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
				// The members are asked at once: members that do not
				// answer cost one timeout, not one each.
				if d := time.Since(start); d > DefaultTimeout {
					t.Errorf("took %s, more than one timeout (%s)", d, DefaultTimeout)
				}
			})
		})
	}
}
