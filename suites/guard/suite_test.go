// Package guard_test is the guard suite: what keeps drill from hitting
// anything by mistake. Each spec runs drill as a user would and checks,
// from a record of every object the API serves taken before and after
// (framework.SnapshotCluster), that nothing was written: a drill refused
// without --context, on a cluster that has not opted in, or on a workload
// outside drill's namespaces; and `drill run --dry-run` over every shipped
// drill (label dry-run), which also leaves the images on each node as they
// were.
//
// The cluster comes from the environment, as for every suite
// (framework.ProviderFromEnv); the specs need a kind cluster. The dry-run
// spec also runs alone, on a cluster that is up and otherwise idle:
//
//	DRILL_DRY_RUN=1 LABEL_FILTER=dry-run ./hack/run-suites.sh ./suites/guard
package guard_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("guard")

var _ = AfterSuite(framework.RemoveDrillBinary)

func TestGuard(t *testing.T) { framework.RunClusterSuite(t, "guard") }

// settledSnapshot waits for the cluster to be whole and quiet, and records
// it: what an earlier suite left settling (a namespace still terminating,
// nodes reporting the images just loaded) is not counted against the
// spec. Quiet is two snapshots 10 s apart with nothing between them, within
// 5 minutes.
func settledSnapshot(ctx context.Context) framework.ClusterSnapshot {
	By("waiting for the cluster to be whole and settled: nothing the last suite deleted still terminating, nothing changing for 10 s")
	framework.ExpectClusterWhole(ctx, framework.ExpectClusterWholeInput{Provider: suite.Provider, RESTConfig: suite.RESTConfig,
		Clientset: suite.Clientset, Timeout: 5 * time.Minute})
	var last framework.ClusterSnapshot
	Eventually(func(g Gomega) {
		list, err := suite.Clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		for _, ns := range list.Items {
			g.Expect(ns.Status.Phase).NotTo(Equal(corev1.NamespaceTerminating), "namespace %s", ns.Name)
		}
		before, err := framework.SnapshotCluster(ctx, suite.RESTConfig)
		g.Expect(err).NotTo(HaveOccurred())
		time.Sleep(10 * time.Second)
		last, err = framework.SnapshotCluster(ctx, suite.RESTConfig)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(before.Diff(last)).To(BeEmpty(), "the cluster is still changing by itself")
	}).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(time.Second).Should(Succeed())
	return last
}
