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
// $DRILL_REPORT_DIR/junit.xml (default ../../_output/reports/cluster). The
// runner (hack/run-suites.sh) collects node logs on failure with
// `drill cluster logs`.
package cluster_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/drill-sre/drill/fixtures"
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

// env returns an environment variable or a default.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// newProvider selects the cluster under test from the environment.
func newProvider() cluster.Provider {
	logger := cluster.NewWriterLogger(GinkgoWriter, 0)
	if kubeconfig := os.Getenv("DRILL_KUBECONFIG"); kubeconfig != "" {
		p, err := cluster.NewExisting(kubeconfig, os.Getenv("DRILL_CONTEXT"), 0, logger)
		Expect(err).NotTo(HaveOccurred())
		return p
	}
	p, err := cluster.NewKind(env("DRILL_CLUSTER_NAME", cluster.DefaultName),
		cluster.KindWithConfig(env("DRILL_KIND_CONFIG", "../../"+cluster.DefaultKindConfig)),
		cluster.KindWithKubeconfig("../../"+cluster.DefaultKubeconfig),
		cluster.KindWithLogger(logger),
	)
	Expect(err).NotTo(HaveOccurred())
	return p
}

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) {
	// Once, on the first process: get the cluster up and the images in.
	p := newProvider()
	By("bringing cluster " + p.Name() + " up")
	res, err := p.Up(ctx)
	Expect(err).NotTo(HaveOccurred(), "bring cluster %s up", p.Name())
	if res.Created {
		AddReportEntry("cluster create time", res.CreateTime.Round(time.Second).String())
	}
	AddReportEntry("cluster up time", res.Total.Round(time.Second).String())

	if loader, ok := p.(cluster.ImageLoader); ok {
		images := []string{framework.AgnhostImage, fixtures.ProbeAppImage}
		By(fmt.Sprintf("loading %v into the nodes", images))
		start := time.Now()
		loaded, err := loader.LoadImages(ctx, images...)
		Expect(err).NotTo(HaveOccurred(), "load %v", images)
		AddReportEntry("image load", fmt.Sprintf("%s: loaded %v, already present %v, left to pull %v",
			time.Since(start).Round(time.Second), loaded.Loaded, loaded.Present, loaded.Missing))
	}
}, func(ctx SpecContext) {
	// On every process: clients for the cluster.
	provider = newProvider()
	var err error
	restConfig, err = cluster.RESTConfig(provider.Kubeconfig())
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(restConfig)
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(30*time.Minute))

var _ = ReportAfterSuite("junit", func(report Report) {
	if _, reporter := GinkgoConfiguration(); reporter.JUnitReport != "" {
		return // the ginkgo CLI writes it (--junit-report)
	}
	dir := env("DRILL_REPORT_DIR", "../../_output/reports/cluster")
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	// Spec names are their texts and labels: stable from run to run.
	Expect(reporters.GenerateJUnitReportWithConfig(report, filepath.Join(dir, "junit.xml"),
		reporters.JunitReportConfig{})).To(Succeed())
})
