package cluster_test

import (
	"fmt"
	"net"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/framework"
)

var _ = Describe("Workloads", framework.SpecLabels(framework.LabelCluster), func() {
	var ns *corev1.Namespace

	BeforeEach(func(ctx SpecContext) {
		ns = framework.CreateNamespace(ctx, framework.CreateNamespaceInput{Clientset: suite.Clientset, Prefix: "drill-cluster"})
		DeferCleanup(func(ctx SpecContext) {
			framework.DeleteNamespace(ctx, framework.DeleteNamespaceInput{Clientset: suite.Clientset, Name: ns.Name})
		})
	})

	It("spreads a Deployment over the zones, one pod per zone", func(ctx SpecContext) {
		d := framework.CreateNetexecDeployment(ctx, framework.CreateNetexecDeploymentInput{
			Clientset: suite.Clientset, Namespace: ns.Name, Name: "spread", Replicas: 3, SpreadOverZones: true,
		})
		pods := framework.WaitForDeploymentAvailable(ctx, framework.WaitForDeploymentAvailableInput{
			Clientset: suite.Clientset, Deployment: d,
		}, intervals.Get("spread", "wait-deployment")...)
		Expect(pods).To(HaveLen(3))

		nodes, err := suite.Provider.Nodes(ctx)
		Expect(err).NotTo(HaveOccurred())
		zoneOf := map[string]string{}
		for _, n := range nodes {
			zoneOf[n.Name] = n.Zone
		}
		perZone := map[string]int{}
		for _, p := range pods {
			Expect(zoneOf).To(HaveKey(p.Spec.NodeName), "pod %s runs on unknown node %q", p.Name, p.Spec.NodeName)
			perZone[zoneOf[p.Spec.NodeName]]++
		}
		AddReportEntry("pods per zone", perZone)
		Expect(perZone).To(HaveLen(3), "pods per zone")
		for zone, count := range perZone {
			Expect(count).To(Equal(1), "pods in zone %s", zone)
		}
	})

	It("resolves the kubernetes Service through cluster DNS from a pod", func(ctx SpecContext) {
		d := framework.CreateNetexecDeployment(ctx, framework.CreateNetexecDeploymentInput{
			Clientset: suite.Clientset, Namespace: ns.Name, Name: "dns-client", Replicas: 1,
		})
		pods := framework.WaitForDeploymentAvailable(ctx, framework.WaitForDeploymentAvailableInput{
			Clientset: suite.Clientset, Deployment: d,
		}, intervals.Get("dns", "wait-deployment")...)
		Expect(pods).To(HaveLen(1))

		svc, err := suite.Clientset.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		const name = "kubernetes.default.svc.cluster.local"
		// dig exits non-zero when no server answers, and prints nothing for
		// NXDOMAIN: either way the answer cannot equal the ClusterIP.
		Eventually(func(g Gomega) {
			out, _, err := framework.Exec(ctx, framework.ExecInput{
				Config: suite.RESTConfig, Clientset: suite.Clientset, Pod: &pods[0],
				Command: []string{"dig", "+short", "+time=2", "+tries=1", name, "A"},
			})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(strings.TrimSpace(out)).To(Equal(svc.Spec.ClusterIP), "%s resolves to the kubernetes ClusterIP", name)
		}, intervals.Get("dns", "wait-dns")...).WithContext(ctx).Should(Succeed())
		AddReportEntry("DNS answer", fmt.Sprintf("%s -> %s", name, svc.Spec.ClusterIP))
	})

	It("reaches a pod on another node from a pod", func(ctx SpecContext) {
		d := framework.CreateNetexecDeployment(ctx, framework.CreateNetexecDeploymentInput{
			Clientset: suite.Clientset, Namespace: ns.Name, Name: "pod-network", Replicas: 2, OnePerNode: true,
		})
		pods := framework.WaitForDeploymentAvailable(ctx, framework.WaitForDeploymentAvailableInput{
			Clientset: suite.Clientset, Deployment: d,
		}, intervals.Get("pod-network", "wait-deployment")...)
		Expect(pods).To(HaveLen(2))
		client, target := pods[0], pods[1]
		Expect(client.Spec.NodeName).NotTo(Equal(target.Spec.NodeName), "pods on different nodes")
		Expect(target.Status.PodIP).NotTo(BeEmpty())

		url := fmt.Sprintf("http://%s/hostname", net.JoinHostPort(target.Status.PodIP, fmt.Sprint(framework.NetexecPort)))
		Eventually(func(g Gomega) {
			out, _, err := framework.Exec(ctx, framework.ExecInput{
				Config: suite.RESTConfig, Clientset: suite.Clientset, Pod: &client,
				Command: []string{"curl", "-sS", "--fail", "--max-time", "5", url},
			})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(strings.TrimSpace(out)).To(Equal(target.Name), "the answer of %s", url)
		}, intervals.Get("pod-network", "wait-pod-network")...).WithContext(ctx).Should(Succeed())
		AddReportEntry("pod to pod", fmt.Sprintf("%s (%s) -> %s (%s)", client.Spec.NodeName, client.Status.PodIP,
			target.Spec.NodeName, target.Status.PodIP))
	})
})
