package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

		var leader string
		Eventually(func(g Gomega) {
			callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			members, err := client.MemberList(callCtx)
			g.Expect(err).NotTo(HaveOccurred(), "member list")
			g.Expect(members.Members).To(HaveLen(3))
			names := map[uint64]string{}
			for _, m := range members.Members {
				// A member that has not started yet has no name and no client URLs.
				g.Expect(m.Name).NotTo(BeEmpty(), "member %x not started", m.ID)
				g.Expect(m.ClientURLs).NotTo(BeEmpty(), "member %s has no client URLs", m.Name)
				g.Expect(m.IsLearner).To(BeFalse(), "member %s is a learner", m.Name)
				names[m.ID] = m.Name
			}

			leaders := map[uint64]bool{}
			selfLeaders := 0
			for _, ep := range cfg.Endpoints {
				st, err := client.Status(callCtx, ep)
				g.Expect(err).NotTo(HaveOccurred(), "status of %s", ep)
				leaders[st.Leader] = true
				if st.Header.MemberId == st.Leader {
					selfLeaders++
				}
			}
			g.Expect(leaders).To(HaveLen(1), "every member agrees on the leader")
			g.Expect(selfLeaders).To(Equal(1), "exactly one member is the leader")
			for id := range leaders {
				g.Expect(names).To(HaveKey(id), "the leader is a member")
				leader = names[id]
			}
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
