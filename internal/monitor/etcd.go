package monitor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/drill-sre/drill/internal/safe"
)

// memberListTries is how many members MemberList asks in turn.
const memberListTries = 3

// MemberList reads etcd's member list through cli, asking up to three
// members in turn, each for a third of the time ctx leaves (a second when
// it sets no deadline): a request the client sends to a member cut off the
// network (a node isolated) hangs rather than fails, and the client sends
// the next one to another member.
func MemberList(ctx context.Context, cli *clientv3.Client) (*clientv3.MemberListResponse, error) {
	var errs []string
	for i := range memberListTries {
		per := time.Second
		if d, ok := ctx.Deadline(); ok {
			per = time.Until(d) / time.Duration(memberListTries-i)
		}
		tctx, cancel := context.WithTimeout(ctx, per)
		resp, err := cli.MemberList(tctx)
		cancel()
		if err == nil {
			return resp, nil
		}
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("etcd member list: %s", strings.Join(errs, "; "))
}

// EtcdMembers probes the etcd cluster's membership: the names of its
// members, sorted and joined with ",". A member added but not started yet
// has no name and reads as "(unstarted)".
func EtcdMembers(cli *clientv3.Client) Probe {
	return func(ctx context.Context) (string, error) {
		resp, err := MemberList(ctx, cli)
		if err != nil {
			return "", err
		}
		names := make([]string, 0, len(resp.Members))
		for _, m := range resp.Members {
			if m.Name == "" {
				names = append(names, "(unstarted)")
				continue
			}
			names = append(names, m.Name)
		}
		slices.Sort(names)
		return strings.Join(names, ","), nil
	}
}

// EtcdLeader probes which member leads: the member list is read, then the
// status of every member asked at once, and the first answer that names a
// current member as leader wins. A member that was just removed may still
// answer with a leader of its own (itself); it is not heard. No such answer
// is an error: etcd cannot serve writes.
func EtcdLeader(cli *clientv3.Client) Probe {
	return func(ctx context.Context) (string, error) {
		list, err := MemberList(ctx, cli)
		if err != nil {
			return "", err
		}
		names := map[uint64]string{}
		var eps []string
		for _, m := range list.Members {
			names[m.ID] = m.Name
			if m.Name == "" {
				names[m.ID] = fmt.Sprintf("%x", m.ID)
			}
			eps = append(eps, m.ClientURLs...)
		}
		type answer struct {
			leader uint64
			err    error
		}
		answers := make(chan answer, len(eps))
		var wg sync.WaitGroup
		for _, ep := range eps {
			wg.Add(1)
			safe.Go(ctx, "etcd status of "+ep, func() {
				defer wg.Done()
				st, err := cli.Status(ctx, ep)
				if err != nil {
					answers <- answer{err: fmt.Errorf("%s: %w", ep, err)}
					return
				}
				answers <- answer{leader: st.Leader}
			})
		}
		go func() { wg.Wait(); close(answers) }()
		var errs []string
		for a := range answers {
			switch {
			case a.err != nil:
				errs = append(errs, a.err.Error())
			case a.leader == 0:
				errs = append(errs, "a member has no leader")
			case names[a.leader] == "":
				errs = append(errs, fmt.Sprintf("a member follows %x, which is not a member", a.leader))
			default:
				return names[a.leader], nil
			}
		}
		return "", fmt.Errorf("no etcd leader: %s", strings.Join(errs, "; "))
	}
}

// EtcdEndpointHealthy checks one etcd endpoint: it answers a status request
// and knows a leader.
func EtcdEndpointHealthy(cli *clientv3.Client, endpoint string) Check {
	return func(ctx context.Context) error {
		st, err := cli.Status(ctx, endpoint)
		if err != nil {
			return fmt.Errorf("etcd %s: %w", endpoint, err)
		}
		if st.Leader == 0 {
			return fmt.Errorf("etcd %s: no leader", endpoint)
		}
		if len(st.Errors) > 0 {
			return fmt.Errorf("etcd %s: %s", endpoint, strings.Join(st.Errors, "; "))
		}
		return nil
	}
}
