// Package interrupt_test checks that a drill stopped with Ctrl-C leaves the
// cluster as it found it: `drill run` is started on a drill, interrupted once
// the fault is in effect, and the cluster is then inspected: nodes
// uncordoned, three healthy etcd members, the Deployment's spec restored.
//
// It needs a kind cluster (the etcd drill edits a control-plane node) and
// the go toolchain (it builds drill). The cluster comes from the environment
// as framework.ProviderFromEnv says.
package interrupt_test

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

func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("the interrupt suite needs a cluster: run it without -short")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "interrupt suite")
}

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) {
	framework.BringUpCluster(ctx)
}, func(ctx SpecContext) {
	provider, restConfig, clientset = framework.ClusterClients()
}, NodeTimeout(30*time.Minute))

var _ = ReportAfterSuite("junit", func(report Report) {
	framework.WriteJUnit(report, "interrupt")
})
