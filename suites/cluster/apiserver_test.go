package cluster_test

import (
	"fmt"
	"net"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/framework"
)

var _ = Describe("API server", framework.SpecLabels(framework.LabelCluster), func() {
	It("answers through the load balancer", func(ctx SpecContext) {
		lbp, ok := suite.Provider.(cluster.APIServerLoadBalancer)
		if !ok {
			Skip(fmt.Sprintf("cluster %s has no load balancer drill can see", suite.Provider.Name()))
		}
		lb, err := lbp.LoadBalancer(ctx)
		Expect(err).NotTo(HaveOccurred())

		server, err := url.Parse(suite.RESTConfig.Host)
		Expect(err).NotTo(HaveOccurred(), "kubeconfig server %q", suite.RESTConfig.Host)
		Expect(server.Host).To(Equal(lb.Endpoint),
			"the kubeconfig's server is the port published by load balancer %s", lb.Container)
		host, _, err := net.SplitHostPort(lb.Endpoint)
		Expect(err).NotTo(HaveOccurred())
		Expect(net.ParseIP(host).IsLoopback()).To(BeTrue(), "load balancer published on loopback, got %s", host)

		Eventually(func(g Gomega) {
			body, err := suite.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
			g.Expect(err).NotTo(HaveOccurred(), "GET /readyz: %s", body)
			g.Expect(string(body)).To(Equal("ok"))
		}, intervals.Get("apiserver", "wait-apiserver")...).WithContext(ctx).Should(Succeed())
		AddReportEntry("API server endpoint", lb.Endpoint)
	})
})
