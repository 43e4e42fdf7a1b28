// Package cluster_test is the cluster suite: it checks that the cluster
// drills run against is sound (nodes, etcd, API load balancer, scheduling
// over zones, DNS, pod networking) before any drill relies on it.
//
// The cluster comes from the environment:
//   - DRILL_KUBECONFIG (and DRILL_CONTEXT): an existing cluster, used as is;
//   - otherwise a kind cluster named DRILL_CLUSTER_NAME (default drill) from
//     DRILL_KIND_CONFIG (default ../../kind-config.yaml), created or reused,
//     with the agnhost and probe-app images loaded into its nodes.
//
// JUnit goes where the ginkgo CLI's --junit-report says, or else to
// $DRILL_REPORT_DIR/junit-cluster.xml (default ../../_output/reports). The
// runner (hack/run-suites.sh) collects node logs on failure with
// `drill cluster logs`.
package cluster_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/framework"
)

var (
	// provider, restConfig and clientset reach the cluster under test, in
	// every parallel process.
	provider   cluster.Provider
	restConfig *rest.Config
	clientset  kubernetes.Interface

	// intervals of every wait: "<spec>/<wait>" or "default/<wait>".
	intervals = framework.Intervals{
		"default/wait-nodes":       {"5m", "5s"},
		"default/wait-etcd":        {"2m", "2s"},
		"default/wait-apiserver":   {"1m", "1s"},
		"default/wait-deployment":  {"3m", "2s"},
		"default/wait-dns":         {"1m", "2s"},
		"default/wait-pod-network": {"1m", "2s"},
		"default/wait-probe-app":   {"3m", "1s"},
	}
)

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster suite needs a cluster: run it without -short")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "cluster suite")
}

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) {
	// Once, on the first process: get the cluster up and the images in.
	framework.BringUpCluster(ctx)
}, func(ctx SpecContext) {
	// On every process: clients for the cluster.
	provider, restConfig, clientset = framework.ClusterClients()
}, NodeTimeout(30*time.Minute))

var _ = ReportAfterSuite("junit", func(report Report) {
	framework.WriteJUnit(report, "cluster")
})
