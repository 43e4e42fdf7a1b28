package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/recovery"
	"github.com/drill-sre/drill/internal/redact"
	"github.com/drill-sre/drill/internal/runs"
	"github.com/drill-sre/drill/internal/timing"
	"github.com/drill-sre/drill/reports"
)

// RepoRoot is the repository's root as seen from a suite's directory
// (suites/<area>), where `go test` runs it.
const RepoRoot = "../.."

// ProviderFromEnv selects the cluster under test from the environment:
//   - DRILL_KUBECONFIG (and DRILL_CONTEXT): an existing cluster, used as is;
//   - otherwise the kind cluster DRILL_CLUSTER_NAME (default drill) from
//     DRILL_KIND_CONFIG (default kind-config.yaml at the repository root),
//     created or reused.
func ProviderFromEnv() (cluster.Provider, error) {
	logger := cluster.NewWriterLogger(ginkgo.GinkgoWriter, 0)
	if kubeconfig := os.Getenv("DRILL_KUBECONFIG"); kubeconfig != "" {
		return cluster.NewExisting(kubeconfig, os.Getenv("DRILL_CONTEXT"), 0, logger)
	}
	return cluster.NewKind(Env("DRILL_CLUSTER_NAME", cluster.DefaultName),
		cluster.KindWithConfig(Env("DRILL_KIND_CONFIG", filepath.Join(RepoRoot, cluster.DefaultKindConfig))),
		cluster.KindWithKubeconfig(filepath.Join(RepoRoot, cluster.DefaultKubeconfig)),
		cluster.KindWithLogger(logger),
	)
}

// FixtureImages are the images drill's fixtures run.
var FixtureImages = []string{AgnhostImage, fixtures.ProbeAppImage}

// BringUpCluster brings the cluster under test up (creating or reusing it)
// and loads the fixtures' images into its nodes where the provider can. Run
// it once per suite (SynchronizedBeforeSuite's first function).
//
// In a dry run (DryRunFromEnv) it only checks that the cluster exists, and
// refuses to go on when it does not: it creates nothing, recovers no
// journal and loads no image; of a kind cluster it writes the kubeconfig
// file on this machine, as Up would.
func BringUpCluster(ctx context.Context) {
	logger := cluster.NewWriterLogger(ginkgo.GinkgoWriter, 0)
	p, err := ProviderFromEnv()
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	if DryRunFromEnv() {
		ginkgo.By("DRILL_DRY_RUN: checking that cluster " + p.Name() + " exists, creating nothing")
		nodes, err := p.Nodes(ctx)
		gomega.Expect(err).NotTo(gomega.HaveOccurred(),
			"DRILL_DRY_RUN is set: a dry run needs cluster %s up already and creates nothing (bring it up with `drill cluster up` or unset DRILL_DRY_RUN)", p.Name())
		if k, ok := p.(*cluster.Kind); ok {
			// A file on this machine, for the clients (ClusterClients):
			// the cluster is only read.
			gomega.Expect(k.WriteKubeconfig(ctx, k.Kubeconfig().Path)).To(gomega.Succeed())
		}
		ginkgo.AddReportEntry("dry run", fmt.Sprintf("cluster %s, %d nodes: not brought up, no journal recovered, no image loaded", p.Name(), len(nodes)))
		return
	}
	// The game day's time outside its drills, for drill report's
	// breakdown.
	rec := timing.NewRecorder()
	ctx = timing.WithRecorder(ctx, rec)
	defer func() {
		name := fmt.Sprintf("bring-up-%d", time.Now().UnixNano())
		if err := reports.WritePhases(ReportDir(), name, rec.Phases()); err != nil {
			ginkgo.GinkgoWriter.Printf("record the bring-up's time: %v\n", err)
		}
	}()
	ginkgo.By("bringing cluster " + p.Name() + " up")
	res, err := p.Up(ctx)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "bring cluster %s up", p.Name())
	if res.Created {
		ginkgo.AddReportEntry("cluster create time", res.CreateTime.Round(time.Second).String())
	}
	ginkgo.AddReportEntry("cluster up time", res.Total.Round(time.Second).String())
	ginkgo.By("checking that cluster " + p.Name() + " opted in to drill")
	_, err = GuardCluster(ctx, p, os.Getenv("DRILL_CONTEXT"), "DRILL_CONTEXT")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	ginkgo.By("recovering the faults an earlier harness left in place, if any")
	endRecover := rec.Start("recover journals", timing.Harness)
	gomega.Expect(RecoverJournals(ctx, p, JournalDir(), logger)).To(gomega.Succeed())
	endRecover()
	if loader, ok := p.(cluster.ImageLoader); ok {
		ginkgo.By(fmt.Sprintf("loading %v into the nodes", FixtureImages))
		start := time.Now()
		loaded, err := loader.LoadImages(ctx, FixtureImages...)
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "load %v", FixtureImages)
		ginkgo.AddReportEntry("image load", fmt.Sprintf("%s: loaded %v, already present %v, left to pull %v",
			time.Since(start).Round(time.Second), loaded.Loaded, loaded.Present, loaded.Missing))
	}
}

// ClusterClients returns the provider and clients of the cluster under test
// (SynchronizedBeforeSuite's second function, on every process).
func ClusterClients() (cluster.Provider, *rest.Config, kubernetes.Interface) {
	p, err := ProviderFromEnv()
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	cfg, err := cluster.RESTConfig(p.Kubeconfig())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	cs, err := kubernetes.NewForConfig(cfg)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return p, cfg, cs
}

// ReportDir is where suites write reports: DRILL_REPORT_DIR (the run's
// directory, which hack/run-suites.sh creates under _output/runs), or a new
// run directory of this process under _output/runs at the repository root.
func ReportDir() string {
	if dir := os.Getenv("DRILL_REPORT_DIR"); dir != "" {
		return dir
	}
	ownRun.Do(func() {
		var err error
		if ownRun.dir, err = runs.New(filepath.Join(RepoRoot, runs.DefaultRoot), time.Now()); err != nil {
			panic(fmt.Sprintf("framework: %v", err))
		}
	})
	return ownRun.dir
}

// ownRun is this process's run directory when DRILL_REPORT_DIR is unset.
var ownRun struct {
	sync.Once
	dir string
}

// JournalDir is where suites keep the journals of faults in effect:
// DRILL_JOURNAL_DIR, or _output/journal at the repository root, where
// drill recover looks by default.
func JournalDir() string {
	return Env("DRILL_JOURNAL_DIR", filepath.Join(RepoRoot, recovery.DefaultJournalDir))
}

// WriteJUnit writes a suite's JUnit report as <ReportDir>/junit-<name>.xml,
// unless the ginkgo CLI writes one (--junit-report). Spec names are their
// texts and labels: stable from run to run. Credentials in its text
// (failure messages, report entries, output) are redacted (redact.Value).
func WriteJUnit(report ginkgo.Report, name string) {
	if _, reporter := ginkgo.GinkgoConfiguration(); reporter.JUnitReport != "" {
		return
	}
	report = redactReport(report)
	dir := ReportDir()
	gomega.Expect(os.MkdirAll(dir, 0o755)).To(gomega.Succeed())
	gomega.Expect(reporters.GenerateJUnitReportWithConfig(report, filepath.Join(dir, "junit-"+name+".xml"),
		reporters.JunitReportConfig{})).To(gomega.Succeed())
}

// redactReport returns a copy of report with every credential in its
// text redacted. A report entry's value keeps what it wraps out of
// reflection's reach: it is written as the text JUnit shows.
func redactReport(report ginkgo.Report) ginkgo.Report {
	specs := make(types.SpecReports, len(report.SpecReports))
	for i, sr := range report.SpecReports {
		entries := make(types.ReportEntries, len(sr.ReportEntries))
		for j, e := range sr.ReportEntries {
			e.Value = types.WrapEntryValue(redact.String(e.StringRepresentation()))
			entries[j] = e
		}
		sr.ReportEntries = entries
		specs[i] = sr
	}
	report.SpecReports = specs
	return redact.Value(report)
}

// Suite is the cluster a suite's specs run against, set on every process
// before the first spec.
type Suite struct {
	Provider   cluster.Provider
	RESTConfig *rest.Config
	Clientset  kubernetes.Interface
}

// ClusterSuite declares what every suite on a cluster does, for the suite
// called name: bring the cluster up once (BringUpCluster), make its clients
// on every process (ClusterClients), and write the suite's JUnit
// (WriteJUnit). In a dry run (DRILL_DRY_RUN) it skips every spec but the
// drill specs and those labelled LabelDryRun. Call it once per suite
// package, at the top level:
//
//	var suite = framework.ClusterSuite("zones")
func ClusterSuite(name string) *Suite {
	s := &Suite{}
	ginkgo.SynchronizedBeforeSuite(func(ctx ginkgo.SpecContext) {
		BringUpCluster(ctx)
	}, func(ginkgo.SpecContext) {
		s.Provider, s.RESTConfig, s.Clientset = ClusterClients()
	}, ginkgo.NodeTimeout(30*time.Minute))
	ginkgo.BeforeEach(skipUnlessDryRunSpec)
	ginkgo.ReportAfterSuite("junit", func(report ginkgo.Report) {
		WriteJUnit(report, name)
	})
	return s
}

// SuitesEnv is set by hack/run-suites.sh, through which every make target
// runs the suites: a plain `go test ./...` without it touches no cluster,
// even one named like drill's that opted in.
const SuitesEnv = "DRILL_RUN_SUITES"

// RunClusterSuite runs a suite's specs from its Test function. It skips them
// with -short, and without SuitesEnv set to 1, since they act on a cluster.
func RunClusterSuite(t *testing.T, name string) {
	if testing.Short() {
		t.Skipf("the %s suite needs a cluster: run it without -short", name)
	}
	if os.Getenv(SuitesEnv) != "1" {
		t.Skipf("the %s suite acts on a cluster: run it through make test (or hack/run-suites.sh), which sets %s=1", name, SuitesEnv)
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	ginkgo.RunSpecs(t, name+" suite")
}
