package preflight

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Etcd is what the etcd check needs from an etcd client.
type Etcd interface {
	// MemberList lists the cluster's members.
	MemberList(ctx context.Context, opts ...clientv3.OpOption) (*clientv3.MemberListResponse, error)
	// Status asks the member at endpoint (one of its client URLs) for its
	// status.
	Status(ctx context.Context, endpoint string) (*clientv3.StatusResponse, error)
}

var _ Etcd = (*clientv3.Client)(nil)

// memberStatus is one member's answer to Status.
type memberStatus struct {
	st  *clientv3.StatusResponse
	err error
}

// checkEtcd checks that every etcd member is started, is a voting member,
// answers Status without errors, and that they all follow one leader which
// is a member; that enough members answer for a quorum; and that there are as
// many members as control-plane nodes (etcd stacked on the control plane, as
// kubeadm and kind lay it out).
//
// The member list is read serializably, from whichever member the client
// reaches: a linearizable read needs a quorum, and without one it would say
// only that it timed out, where the members' own answers say which are bad.
func checkEtcd(ctx context.Context, cli Etcd, nodes nodeSnapshot) Check {
	list, err := cli.MemberList(ctx, clientv3.WithSerializable())
	if err != nil {
		return failed(CheckEtcd, []string{fmt.Sprintf("member list: %v", err)}, "")
	}
	members := slices.Clone(list.Members)
	slices.SortFunc(members, func(a, b *etcdserverpb.Member) int {
		if (a.Name == "") != (b.Name == "") {
			if a.Name == "" {
				return 1 // unstarted last
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	names := map[uint64]string{}
	for _, m := range members {
		names[m.ID] = memberName(m)
	}

	// Ask every started member at once.
	statuses := make([]memberStatus, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		if m.Name == "" || len(m.ClientURLs) == 0 {
			continue
		}
		wg.Go(func() {
			st, err := cli.Status(ctx, m.ClientURLs[0])
			statuses[i] = memberStatus{st: st, err: err}
		})
	}
	wg.Wait()

	var problems []string
	started, healthy, voters, healthyVoters := 0, 0, 0, 0
	followers := map[uint64][]string{} // leader ID → the members that follow it
	for i, m := range members {
		name := memberName(m)
		if m.Name == "" {
			problems = append(problems, fmt.Sprintf("member %s (peer %s) is not started", name, strings.Join(m.PeerURLs, ",")))
			continue
		}
		started++
		if m.IsLearner {
			problems = append(problems, fmt.Sprintf("member %s is a learner, not a voting member", name))
		} else {
			voters++
		}
		if len(m.ClientURLs) == 0 {
			problems = append(problems, fmt.Sprintf("member %s has no client URL", name))
			continue
		}
		st := statuses[i]
		switch {
		case st.err != nil:
			problems = append(problems, fmt.Sprintf("member %s unhealthy: %v", name, st.err))
			continue
		case len(st.st.Errors) > 0:
			problems = append(problems, fmt.Sprintf("member %s reports errors: %s", name, strings.Join(st.st.Errors, "; ")))
		case st.st.Leader == 0:
			problems = append(problems, fmt.Sprintf("member %s has no leader", name))
		default:
			healthy++
			if !m.IsLearner {
				healthyVoters++
			}
		}
		if st.st.Leader != 0 {
			followers[st.st.Leader] = append(followers[st.st.Leader], name)
		}
	}

	leader := ""
	switch leaders := slices.Sorted(maps.Keys(followers)); {
	case len(leaders) == 0 && started > 0:
		problems = append(problems, "no member knows a leader")
	case len(leaders) > 1:
		var who []string
		for _, id := range leaders {
			verb := "follows"
			if len(followers[id]) > 1 {
				verb = "follow"
			}
			who = append(who, fmt.Sprintf("%s %s %s", strings.Join(followers[id], ", "), verb, leaderName(id, names)))
		}
		problems = append(problems, "members disagree on the leader: "+strings.Join(who, "; "))
	case len(leaders) == 1 && names[leaders[0]] == "":
		problems = append(problems, fmt.Sprintf("the leader %x is not a member", leaders[0]))
	case len(leaders) == 1:
		leader = names[leaders[0]]
	}
	if quorum := voters/2 + 1; voters > 0 && healthyVoters < quorum {
		problems = append(problems, fmt.Sprintf("no quorum: %d of %d voting members healthy, %d needed", healthyVoters, voters, quorum))
	}

	summary := fmt.Sprintf("%s: %d started, %d healthy", plural(len(members), "member"), started, healthy)
	if leader != "" {
		summary += ", leader " + leader
	}
	switch cps := nodes.controlPlane(); {
	case nodes.err != nil:
		summary += " (not compared with the control-plane nodes, which could not be read)"
	case len(cps) > 0 && len(cps) != len(members):
		p := fmt.Sprintf("%s for %s", plural(len(members), "member"), plural(len(cps), "control-plane node"))
		var missing []string
		for _, n := range cps {
			if !slices.ContainsFunc(members, func(m *etcdserverpb.Member) bool { return m.Name == n.Name }) {
				missing = append(missing, n.Name)
			}
		}
		if len(missing) > 0 && len(missing) < len(cps) {
			p += " (none named " + strings.Join(missing, ", ") + ")"
		}
		problems = append(problems, p)
	}
	return verdict(CheckEtcd, problems, summary)
}

// memberName is a member's name, or its ID in hex if it has not started
// (a member gets its name when it first starts).
func memberName(m *etcdserverpb.Member) string {
	if m.Name == "" {
		return fmt.Sprintf("%x", m.ID)
	}
	return m.Name
}

func leaderName(id uint64, names map[uint64]string) string {
	if n := names[id]; n != "" {
		return n
	}
	return fmt.Sprintf("%x (not a member)", id)
}
