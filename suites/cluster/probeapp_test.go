package cluster_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/probeapp"
)

// The probe app is the workload every drill measures. This checks the
// fixture itself: the seed's Deployment behind its PDB, reachable from
// outside the cluster (where the app samplers run), storing acknowledged
// records.
var _ = Describe("Probe app", framework.SpecLabels(framework.LabelCluster), func() {
	It("serves from outside the cluster through its NodePort, under a PDB that allows one disruption", func(ctx SpecContext) {
		ns := framework.CreateNamespace(ctx, framework.CreateNamespaceInput{Clientset: suite.Clientset, Prefix: "drill-probe-app"})
		DeferCleanup(func(ctx SpecContext) {
			framework.DeleteNamespace(ctx, framework.DeleteNamespaceInput{Clientset: suite.Clientset, Name: ns.Name})
		})
		app, err := framework.DeployProbeApp(ctx, framework.DeployProbeAppInput{
			Clientset: suite.Clientset, Namespace: ns.Name, Replicas: 3, AllocateNodePort: true,
		}, intervals.Get("probe-app", "wait-probe-app")...)
		Expect(err).NotTo(HaveOccurred(), "deploy the probe app")
		Expect(app.Pods).To(HaveLen(3))

		By("the PDB (minAvailable 2 of 3) allows exactly one disruption")
		Eventually(func(g Gomega) {
			pdb, err := suite.Clientset.PolicyV1().PodDisruptionBudgets(ns.Name).Get(ctx, app.PDB.Name, metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pdb.Status.CurrentHealthy).To(BeEquivalentTo(3))
			g.Expect(pdb.Status.DisruptionsAllowed).To(BeEquivalentTo(1))
		}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())

		By("every worker's NodePort answers /ready from the host")
		nodes, err := suite.Provider.Nodes(ctx)
		Expect(err).NotTo(HaveOccurred())
		var workerIPs []string
		for _, n := range nodes {
			if n.Role == cluster.RoleWorker {
				workerIPs = append(workerIPs, n.InternalIP)
			}
		}
		Expect(workerIPs).To(HaveLen(3))
		client := &http.Client{Timeout: 2 * time.Second}
		for _, url := range app.NodeURLs(workerIPs, probeapp.PathReady) {
			Eventually(func() (int, error) {
				resp, err := client.Get(url)
				if err != nil {
					return 0, err
				}
				defer resp.Body.Close()
				return resp.StatusCode, nil
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Equal(http.StatusOK), "GET %s", url)
		}

		By("a record written through the NodePort is acknowledged and read back from the pod that took it")
		rec := probeapp.Record{Seq: 1, TS: time.Now().UTC().Format(time.RFC3339Nano), Payload: "drill"}
		body, err := json.Marshal(rec)
		Expect(err).NotTo(HaveOccurred())
		resp, err := client.Post(app.NodeURL(workerIPs[0], probeapp.PathRecords), "application/json", bytes.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusCreated))
		var ack probeapp.Ack
		Expect(json.NewDecoder(resp.Body).Decode(&ack)).To(Succeed())
		Expect(ack.Seq).To(BeEquivalentTo(1))

		var pod *corev1.Pod
		for i := range app.Pods {
			if app.Pods[i].Name == ack.Pod {
				pod = &app.Pods[i]
			}
		}
		Expect(pod).NotTo(BeNil(), "the ack names pod %q, which is not one of the app's pods", ack.Pod)
		stdout, stderr, err := framework.Exec(ctx, framework.ExecInput{
			Config: suite.RESTConfig, Clientset: suite.Clientset, Pod: pod,
			Command: []string{"curl", "-sf", "http://127.0.0.1:8080" + probeapp.PathRecordsSummary},
		})
		Expect(err).NotTo(HaveOccurred(), "read the summary in pod %s: %s", pod.Name, stderr)
		var sum probeapp.Summary
		Expect(json.Unmarshal([]byte(stdout), &sum)).To(Succeed(), "summary: %s", stdout)
		Expect(sum.Count).To(Equal(1))
		Expect(sum.Corrupted).To(BeZero())
		Expect(sum.MaxSeq).To(HaveValue(BeEquivalentTo(1)))
		AddReportEntry("probe app", fmt.Sprintf("acknowledged by %s on %s", ack.Pod, pod.Spec.NodeName))
	})
})
