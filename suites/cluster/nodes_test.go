package cluster_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/framework"
)

var _ = Describe("Nodes", framework.SpecLabels(framework.LabelCluster), func() {
	It("has 3 control-plane and 3 worker nodes Ready, in 3 zones", func(ctx SpecContext) {
		var nodes []cluster.Node
		Eventually(func(g Gomega) {
			var err error
			nodes, err = suite.Provider.Nodes(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(nodes).NotTo(BeEmpty())
			g.Expect(nodes).To(HaveEach(HaveField("Ready", BeTrue())), "every node Ready")
		}, intervals.Get("nodes", "wait-nodes")...).WithContext(ctx).Should(Succeed())

		zones := map[cluster.Role]map[string]int{cluster.RoleControlPlane: {}, cluster.RoleWorker: {}}
		for _, n := range nodes {
			Expect(n.Zone).NotTo(BeEmpty(), "node %s has no %s label", n.Name, cluster.ZoneLabel)
			zones[n.Role][n.Zone]++
		}
		AddReportEntry("zones", zones)
		for role, byZone := range zones {
			Expect(byZone).To(HaveLen(3), "%s nodes by zone", role)
			for zone, count := range byZone {
				Expect(count).To(Equal(1), "%s nodes in zone %s", role, zone)
			}
		}
	})
})
