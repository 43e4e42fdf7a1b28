package guard_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/guard"
)

// Credentials a drill file may carry in its description (a runbook's URL,
// a token pasted by mistake), which no report or log may show.
const (
	secretURL   = "https://sre:hunter2@runbooks.example.invalid/shop"
	secretToken = "Bearer eyJhbGciOiJub25lIn0.drill-guard-secret"
)

// crashDrill is a crashloop-pods drill on Deployment web of namespace ns,
// which drill does not create.
func crashDrill(ns string) string {
	return fmt.Sprintf(`name: guard-crash
description: "Crash the pods of a Deployment drill did not create. Runbook %s, header Authorization: %s"
fault: {type: crashloop-pods, params: {deployment: web, namespace: %s, holdFor: 30s}}
objectives: {maxDuration: 5m}
`, secretURL, secretToken, ns)
}

// expectNoSecrets checks that no file under dir, nor log, shows the
// credentials of crashDrill's description.
func expectNoSecrets(dir, log string) {
	for _, secret := range []string{"hunter2", "eyJhbGciOiJub25lIn0", "drill-guard-secret"} {
		Expect(log).NotTo(ContainSubstring(secret), "drill's log")
	}
	n := 0
	Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		for _, secret := range []string{"hunter2", "eyJhbGciOiJub25lIn0", "drill-guard-secret"} {
			Expect(string(data)).NotTo(ContainSubstring(secret), "%s", path)
		}
		return nil
	})).To(Succeed())
	Expect(n).To(BeNumerically(">=", 4), "the drill's report, report.json, report.md and report.html under %s", dir)
}

var _ = Describe("The guard", framework.SpecLabels(framework.LabelGuard, framework.LabelSerial), Serial, func() {
	var kubeconfig, kubeContext string
	BeforeEach(func() {
		var err error
		kubeconfig, err = filepath.Abs(suite.Provider.Kubeconfig().Path)
		Expect(err).NotTo(HaveOccurred())
		kubeContext = suite.Provider.Kubeconfig().Context
		if kubeContext == "" {
			Skip("the suite's cluster is reached through its kubeconfig's current context: nothing to name")
		}
	})

	// refusedBeforeAnyWrite runs drill run with flags on a drill file of
	// body, and checks it fails saying want, with every object the API
	// serves as it was before.
	var reportDir string
	refusedBeforeAnyWrite := func(ctx context.Context, flags []string, body, want string) framework.DrillProcess {
		file := filepath.Join(GinkgoT().TempDir(), "guard-crash.yaml")
		Expect(os.WriteFile(file, []byte(body), 0o644)).To(Succeed())
		before := settledSnapshot(ctx)
		reportDir = GinkgoT().TempDir()
		p := framework.RunDrill(ctx, framework.RunDrillInput{Provider: suite.Provider, ProviderFlags: flags,
			Name: "guard-crash", File: file, ReportDir: reportDir, JournalDir: GinkgoT().TempDir(), Timeout: 5 * time.Minute})
		Expect(p.ExitCode).To(Equal(1), "drill run was refused:\n%s", p.Log)
		Expect(p.Log).To(ContainSubstring(want))
		after, err := framework.SnapshotCluster(ctx, suite.RESTConfig)
		Expect(err).NotTo(HaveOccurred())
		Expect(before.Diff(after)).To(BeEmpty(), "the refused drill changed the cluster")
		return p
	}

	It("refuses a drill on a cluster reached without --context, before any write", func(ctx SpecContext) {
		refusedBeforeAnyWrite(ctx, []string{"--provider", "existing", "--kubeconfig", kubeconfig},
			crashDrill("shop"), "no kubeconfig context was named, and drill never falls back to the kubeconfig's current context: pass --context")
	})

	It("refuses a drill on a cluster that has not opted in, before any write", func(ctx SpecContext) {
		saved, err := guard.Read(ctx, suite.Clientset)
		Expect(err).NotTo(HaveOccurred(), "a kind cluster drill created carries the opt-in")
		removed, err := guard.OptOut(ctx, suite.Clientset)
		Expect(err).NotTo(HaveOccurred())
		Expect(removed).To(BeTrue())
		DeferCleanup(func(ctx context.Context) {
			Expect(guard.OptIn(ctx, suite.Clientset, saved)).To(Succeed())
		})
		refusedBeforeAnyWrite(ctx, []string{"--provider", "existing", "--kubeconfig", kubeconfig, "--context", kubeContext},
			crashDrill("shop"), "refusing to inject faults into "+kubeContext+": it has not opted in (no ConfigMap kube-system/drill-opt-in)")
	})

	It("refuses a workload fault in kube-system, and in a namespace drill did not create and the opt-in does not list, before any write", func(ctx SpecContext) {
		flags := []string{"--provider", "existing", "--kubeconfig", kubeconfig, "--context", kubeContext}
		By("crash-looping CoreDNS in kube-system")
		refusedBeforeAnyWrite(ctx, flags, crashDrill("kube-system"),
			`fault.params.namespace: "kube-system" is one of the system's own namespaces`)

		By("crash-looping a Deployment of a namespace of the user's")
		ns, err := suite.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "guard-shop-"}}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx context.Context) {
			Expect(suite.Clientset.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})).To(Succeed())
		})
		p := refusedBeforeAnyWrite(ctx, flags, crashDrill(ns.Name),
			"refused by the guard: refusing a workload fault in namespace "+ns.Name+": drill did not create it and the cluster's opt-in does not list it")
		Expect(p.Log).To(ContainSubstring("1 of 1 drills did not pass: guard-crash"))

		By("reporting the refused drill with no credential from its file")
		out, err := framework.DrillCommand(ctx, "report", "--dir", reportDir)
		Expect(err).To(HaveOccurred(), "drill report fails on a run whose drill did not pass")
		Expect(out).To(ContainSubstring("guard-crash"))
		data, err := os.ReadFile(filepath.Join(reportDir, "report.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring("runbooks.example.invalid"), "the URL is kept, its user info not")
		expectNoSecrets(reportDir, p.Log+out)
	})

	It("shows the opt-in in drill cluster status", func(ctx SpecContext) {
		out, err := framework.DrillCommand(ctx, append([]string{"cluster", "status"}, framework.KindFlags(suite.Provider)...)...)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(MatchRegexp(`drill: opted in by .*`))
	})
})
