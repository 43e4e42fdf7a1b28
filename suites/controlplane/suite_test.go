// Package controlplane_test is the controlplane suite: drills that break the control plane (a node killed, an etcd member removed) and measure the API's recovery and the writes it kept.
//
// Its specs come from the shipped drill files (scenarios/*.yaml), one per
// drill, each serial and disruptive. The cluster comes from the environment
// as framework.ProviderFromEnv says. Each drill's report goes to
// $DRILL_REPORT_DIR/drills (default _output/reports/drills); `drill report`
// gathers them.
package controlplane_test

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
	provider   cluster.Provider
	restConfig *rest.Config
	clientset  kubernetes.Interface
)

func TestControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("the controlplane suite needs a cluster: run it without -short")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "controlplane suite")
}

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) {
	framework.BringUpCluster(ctx)
}, func(ctx SpecContext) {
	provider, restConfig, clientset = framework.ClusterClients()
}, NodeTimeout(30*time.Minute))

var _ = ReportAfterSuite("junit", func(report Report) {
	framework.WriteJUnit(report, "controlplane")
})
