package monitor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/drill-sre/drill/internal/safe"
)

// EtcdMembers probes the etcd cluster's membership: the names of its
// members, sorted and joined with ",". A member added but not started yet
// has no name and reads as "(unstarted)".
func EtcdMembers(cli *clientv3.Client) Probe {
	return func(ctx context.Context) (string, error) {
		resp, err := cli.MemberList(ctx)
		if err != nil {
			return "", fmt.Errorf("etcd member list: %w", err)
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
		list, err := cli.MemberList(ctx)
		if err != nil {
			return "", fmt.Errorf("etcd member list: %w", err)
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
