package guard_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/scenarios"
)

var _ = Describe("drill run --dry-run", framework.SpecLabels(framework.LabelDryRun), func() {
	It("plans every shipped drill, naming its target, and leaves the cluster as it was", func(ctx SpecContext) {
		flags := framework.KindFlags(suite.Provider) // a kind cluster: its nodes' images can be listed
		Expect(flags).NotTo(BeEmpty())
		shipped, err := scenarios.Shipped()
		Expect(err).NotTo(HaveOccurred())

		before := settledSnapshot(ctx)
		By("recording each node's images")
		imagesBefore := nodeImages(ctx, suite.Provider)
		leaderBefore := etcdLeader(ctx, suite.Provider)

		By("running drill run --dry-run over the shipped drills")
		p := framework.RunDrill(ctx, framework.RunDrillInput{
			Provider: suite.Provider, Name: "every shipped drill", File: filepath.Join(framework.RepoRoot, "scenarios"),
			ReportDir: GinkgoT().TempDir(), JournalDir: framework.JournalDir(), DryRun: true, Timeout: 15 * time.Minute,
		})
		Expect(p.ExitCode).To(Equal(0), "drill run --dry-run failed:\n%s\n%s", p.Output, p.Log)
		AddReportEntry("plans", p.Output)

		plans := planBlocks(p.Output)
		for _, sc := range shipped {
			plan, ok := plans[sc.Name]
			Expect(ok).To(BeTrue(), "no plan of drill %s in:\n%s", sc.Name, p.Output)
			Expect(plan).To(MatchRegexp(`(?m)^  target: \S`), "drill %s: no resolved target", sc.Name)
			Expect(plan).To(ContainSubstring("  it would:\n    1. "), "drill %s: no changes", sc.Name)
			Expect(plan).To(ContainSubstring("  its revert would:\n    1. "), "drill %s: no revert", sc.Name)
		}
		leaderAfter := etcdLeader(ctx, suite.Provider)
		Expect(plans["kill-control-plane-etcd-leader"]).To(Or(
			ContainSubstring("target: node "+leaderBefore+" (etcd leader)"),
			ContainSubstring("target: node "+leaderAfter+" (etcd leader)")),
			"the etcd leader is %s (then %s)", leaderBefore, leaderAfter)
		Expect(plans["remove-etcd-member"]).To(Or(
			ContainSubstring("target: etcd member "+leaderBefore+" "),
			ContainSubstring("target: etcd member "+leaderAfter+" ")))

		By("checking that nothing changed")
		after, err := framework.SnapshotCluster(ctx, suite.RESTConfig)
		Expect(err).NotTo(HaveOccurred())
		Expect(before.Diff(after)).To(BeEmpty(), "the dry run changed the cluster")
		Expect(nodeImages(ctx, suite.Provider)).To(Equal(imagesBefore), "the dry run loaded images into the nodes")
	})
})

// planBlocks splits drill's dry-run output into each drill's plan, by name.
func planBlocks(out string) map[string]string {
	plans := map[string]string{}
	var name string
	for _, line := range strings.SplitAfter(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "drill "); ok {
			name, _, _ = strings.Cut(rest, " ")
		}
		if name != "" {
			plans[name] += line
		}
	}
	return plans
}

// nodeImages lists the images on each node (crictl images, read-only), by
// node. The Node objects' status.images, which the snapshot covers, lists
// at most 50 images per node and only after the kubelet's next status
// update: the runtime's own list is exact and immediate.
func nodeImages(ctx context.Context, p cluster.Provider) map[string][]string {
	ex, ok := p.(cluster.NodeExecer)
	Expect(ok).To(BeTrue(), "cluster %s cannot run commands on its nodes", p.Name())
	nodes, err := p.Nodes(ctx)
	Expect(err).NotTo(HaveOccurred())
	out := map[string][]string{}
	for _, n := range nodes {
		list, err := ex.ExecOnNode(ctx, n.Name, "crictl", "images", "--no-trunc", "-q")
		Expect(err).NotTo(HaveOccurred(), "crictl images on %s", n.Name)
		ids := strings.Fields(list)
		slices.Sort(ids)
		out[n.Name] = ids
	}
	return out
}

// etcdLeader asks etcd which member leads.
func etcdLeader(ctx context.Context, p cluster.Provider) string {
	acc, ok := p.(cluster.EtcdAccess)
	Expect(ok).To(BeTrue(), "no etcd access to cluster %s", p.Name())
	cfg, err := acc.EtcdConfig(ctx)
	Expect(err).NotTo(HaveOccurred())
	cli, err := clientv3.New(cfg)
	Expect(err).NotTo(HaveOccurred())
	defer cli.Close()
	leader, err := monitor.EtcdLeader(cli)(ctx)
	Expect(err).NotTo(HaveOccurred(), fmt.Sprintf("etcd leader of %s", p.Name()))
	return leader
}
