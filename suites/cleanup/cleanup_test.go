package cleanup_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/drill-sre/drill/internal/cleanup"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/guard"
)

var _ = Describe("drill cleanup", framework.SpecLabels(framework.LabelGuard, framework.LabelDisruptive, framework.LabelSerial), Serial, func() {
	It("removes everything drill created and leaves the opt-in and the cluster whole", func(ctx SpecContext) {
		flags := framework.KindFlags(suite.Provider)
		out, err := framework.DrillCommand(ctx, append([]string{"cleanup", "--list"}, flags...)...)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("objects drill created:"))
		AddReportEntry("drill cleanup --list", out)

		start := time.Now()
		out, err = framework.DrillCommand(ctx, append([]string{"cleanup"}, flags...)...)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("removed what drill created"))
		AddReportEntry("drill cleanup took", time.Since(start).Round(time.Second).String())

		By("finding nothing labelled app.kubernetes.io/managed-by=drill")
		disc, err := discovery.NewDiscoveryClientForConfig(suite.RESTConfig)
		Expect(err).NotTo(HaveOccurred())
		dyn, err := dynamic.NewForConfig(suite.RESTConfig)
		Expect(err).NotTo(HaveOccurred())
		left, _, err := cleanup.Find(ctx, disc, dyn)
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(BeEmpty())
		// Read again through typed clients, not only through the code under
		// test: what drill installs is of these kinds.
		sel := metav1.ListOptions{LabelSelector: cleanup.Selector}
		nss, err := suite.Clientset.CoreV1().Namespaces().List(ctx, sel)
		Expect(err).NotTo(HaveOccurred())
		Expect(nss.Items).To(BeEmpty(), "drill's namespaces")
		cms, err := suite.Clientset.CoreV1().ConfigMaps("").List(ctx, sel)
		Expect(err).NotTo(HaveOccurred())
		Expect(cms.Items).To(BeEmpty(), "drill's ConfigMaps")
		deps, err := suite.Clientset.AppsV1().Deployments("").List(ctx, sel)
		Expect(err).NotTo(HaveOccurred())
		Expect(deps.Items).To(BeEmpty(), "drill's Deployments")
		dss, err := suite.Clientset.AppsV1().DaemonSets("").List(ctx, sel)
		Expect(err).NotTo(HaveOccurred())
		Expect(dss.Items).To(BeEmpty(), "drill's DaemonSets")
		pdbs, err := suite.Clientset.PolicyV1().PodDisruptionBudgets("").List(ctx, sel)
		Expect(err).NotTo(HaveOccurred())
		Expect(pdbs.Items).To(BeEmpty(), "drill's PodDisruptionBudgets")
		crbs, err := suite.Clientset.RbacV1().ClusterRoleBindings().List(ctx, sel)
		Expect(err).NotTo(HaveOccurred())
		Expect(crbs.Items).To(BeEmpty(), "drill's ClusterRoleBindings")

		By("keeping the opt-in, which is the person's")
		_, err = guard.Read(ctx, suite.Clientset)
		Expect(err).NotTo(HaveOccurred())

		By("leaving the cluster whole")
		framework.ExpectClusterWhole(ctx, framework.ExpectClusterWholeInput{
			Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, Timeout: 5 * time.Minute})

		By("a second cleanup finding nothing")
		out, err = framework.DrillCommand(ctx, append([]string{"cleanup"}, flags...)...)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("nothing drill created"))
	}, NodeTimeout(20*time.Minute))
})
