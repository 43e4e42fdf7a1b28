package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/etcdsnap"
	"github.com/drill-sre/drill/internal/framework"
)

var _ = Describe("etcd", framework.SpecLabels(framework.LabelCluster), func() {
	It("has 3 started members and exactly one leader", func(ctx SpecContext) {
		access, ok := suite.Provider.(cluster.EtcdAccess)
		if !ok {
			Skip(fmt.Sprintf("cluster %s gives no direct etcd access", suite.Provider.Name()))
		}
		cfg, err := access.EtcdConfig(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Endpoints).To(HaveLen(3), "one endpoint per control-plane node")
		client, err := clientv3.New(cfg)
		Expect(err).NotTo(HaveOccurred(), "etcd client for %v", cfg.Endpoints)
		DeferCleanup(client.Close)

		// A control-plane node that joined last may still be promoting its
		// learner or electing: the deadline is generous, and the failure
		// names what each member and endpoint said last.
		var leader string
		Eventually(func() error {
			var err error
			leader, err = etcdLeader(ctx, client, cfg.Endpoints)
			return err
		}, intervals.Get("etcd", "wait-etcd")...).WithContext(ctx).Should(Succeed())
		AddReportEntry("etcd leader", leader)
	})

	It("gives a snapshot through the v3 client that verifies like etcdutl's", func(ctx SpecContext) {
		access, ok := suite.Provider.(cluster.EtcdAccess)
		if !ok {
			Skip(fmt.Sprintf("cluster %s gives no direct etcd access", suite.Provider.Name()))
		}
		cfg, err := access.EtcdConfig(ctx)
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		var snap etcdsnap.Snapshot
		Eventually(func(g Gomega) {
			snap, err = etcdsnap.Take(ctx, cfg, cfg.Endpoints[0], dir)
			g.Expect(err).NotTo(HaveOccurred())
		}, intervals.Get("etcd", "wait-etcd")...).WithContext(ctx).Should(Succeed())
		Expect(snap.Status.Revision).To(BeNumerically(">", 0))
		Expect(snap.Status.TotalKey).To(BeNumerically(">", 100), "a cluster's keyspace: nodes, pods, leases...")
		AddReportEntry("etcd snapshot", fmt.Sprintf("revision %d, %d keys, %d bytes, hash %08x, in %s",
			snap.Status.Revision, snap.Status.TotalKey, snap.Status.TotalSize, snap.Status.Hash, snap.Saved.Sub(snap.Requested).Round(time.Millisecond)))

		By("refusing the same file with one byte flipped")
		raw, err := os.ReadFile(snap.Path)
		Expect(err).NotTo(HaveOccurred())
		raw[len(raw)/2] ^= 0xff
		corrupt := filepath.Join(dir, "corrupt.db")
		Expect(os.WriteFile(corrupt, raw, 0o600)).To(Succeed())
		_, err = etcdsnap.Verify(corrupt)
		Expect(err).To(MatchError(ContainSubstring("corrupt")))
	})
})

// etcdLeader checks that the cluster has 3 started voting members and that
// every endpoint names the same leader, which is one of them; it returns the
// leader's name, or an error that states every member and endpoint.
func etcdLeader(ctx context.Context, client *clientv3.Client, endpoints []string) (string, error) {
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	members, err := client.MemberList(callCtx)
	cancel()
	if err != nil {
		return "", fmt.Errorf("member list: %w", err)
	}
	var problems []string
	names := map[uint64]string{}
	for _, m := range members.Members {
		names[m.ID] = m.Name
		switch {
		case m.Name == "" || len(m.ClientURLs) == 0:
			// A member that has not started yet has no name and no client URLs.
			problems = append(problems, fmt.Sprintf("member %x (peer %v) not started", m.ID, m.PeerURLs))
		case m.IsLearner:
			problems = append(problems, fmt.Sprintf("member %s is a learner", m.Name))
		}
	}
	if len(members.Members) != 3 {
		problems = append(problems, fmt.Sprintf("%d members, want 3", len(members.Members)))
	}
	leaders := map[uint64]bool{}
	selfLeaders := 0
	for _, ep := range endpoints {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := client.Status(callCtx, ep)
		cancel()
		if err != nil {
			problems = append(problems, fmt.Sprintf("status of %s: %v", ep, err))
			continue
		}
		leaders[st.Leader] = true
		if st.Header.MemberId == st.Leader {
			selfLeaders++
		}
		if st.Leader == 0 {
			problems = append(problems, fmt.Sprintf("%s (member %s) knows no leader (raft term %d)", ep, names[st.Header.MemberId], st.RaftTerm))
		}
	}
	var leader string
	for id := range leaders {
		if _, ok := names[id]; !ok && id != 0 {
			problems = append(problems, fmt.Sprintf("leader %x is not a member", id))
		}
		leader = names[id]
	}
	if len(leaders) > 1 {
		problems = append(problems, fmt.Sprintf("the endpoints name %d different leaders", len(leaders)))
	}
	if selfLeaders != 1 {
		problems = append(problems, fmt.Sprintf("%d endpoints say they lead, want exactly 1", selfLeaders))
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return leader, nil
}
