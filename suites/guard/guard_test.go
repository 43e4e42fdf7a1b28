package guard_test

import (
	"context"
	"fmt"
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

// crashDrill is a crashloop-pods drill on Deployment web of namespace ns,
// which drill does not create.
func crashDrill(ns string) string {
	return fmt.Sprintf(`name: guard-crash
description: Crash the pods of a Deployment drill did not create.
fault: {type: crashloop-pods, params: {deployment: web, namespace: %s, holdFor: 30s}}
objectives: {maxDuration: 5m}
`, ns)
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
	refusedBeforeAnyWrite := func(ctx context.Context, flags []string, body, want string) framework.DrillProcess {
		file := filepath.Join(GinkgoT().TempDir(), "guard-crash.yaml")
		Expect(os.WriteFile(file, []byte(body), 0o644)).To(Succeed())
		before, err := framework.SnapshotCluster(ctx, suite.RESTConfig)
		Expect(err).NotTo(HaveOccurred())
		p := framework.RunDrill(ctx, framework.RunDrillInput{Provider: suite.Provider, ProviderFlags: flags,
			Name: "guard-crash", File: file, ReportDir: GinkgoT().TempDir(), JournalDir: GinkgoT().TempDir(), Timeout: 5 * time.Minute})
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
	})

	It("shows the opt-in in drill cluster status", func(ctx SpecContext) {
		out, err := framework.DrillCommand(ctx, append([]string{"cluster", "status"}, framework.KindFlags(suite.Provider)...)...)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(MatchRegexp(`drill: opted in by .*`))
	})
})

