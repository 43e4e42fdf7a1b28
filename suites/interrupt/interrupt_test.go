package interrupt_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/reports"
)

// interruptedRun is a `drill run` of one drill file, interrupted with SIGINT
// once the drill logged its fault in effect.
type interruptedRun struct {
	// Log is drill's whole stderr.
	Log string
	// ExitCode is drill's exit code.
	ExitCode int
	// Report is the drill's report as written on the way out.
	Report reports.Drill
}

// drillBinary is drill, built by the suite.
var drillBinary string

var _ = BeforeEach(func() {
	if drillBinary != "" {
		return
	}
	dir, err := os.MkdirTemp("", "drill-interrupt-")
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(dir, "drill")
	out, err := exec.Command("go", "build", "-o", path, "../../cmd/drill").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "build drill: %s", out)
	drillBinary = path
})

var _ = AfterSuite(func() {
	if drillBinary != "" {
		Expect(os.RemoveAll(filepath.Dir(drillBinary))).To(Succeed())
	}
})

// interrupt runs drill on file and sends it SIGINT once the fault is in
// effect.
func interrupt(ctx context.Context, name, file string) interruptedRun {
	kind, ok := suite.Provider.(*cluster.Kind)
	if !ok {
		Skip("interrupting drills needs a kind cluster")
	}
	reportDir := GinkgoT().TempDir()
	cmd := exec.Command(drillBinary, "run", "--name", kind.Name(), "--kubeconfig", suite.Provider.Kubeconfig().Path,
		"--report-dir", reportDir, file)
	stderr, err := cmd.StderrPipe()
	Expect(err).NotTo(HaveOccurred())
	cmd.Stdout = GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() { _ = cmd.Process.Kill() })

	var log strings.Builder
	inEffect := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(stderr)
		signalled := false
		for s.Scan() {
			line := s.Text()
			fmt.Fprintln(GinkgoWriter, line)
			log.WriteString(line + "\n")
			if !signalled && strings.Contains(line, "drill "+name+": fault in effect") {
				signalled = true
				close(inEffect)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()

	By("waiting for the fault to be in effect")
	select {
	case <-inEffect:
	case <-done:
		Fail("drill ended before its fault was in effect:\n" + log.String())
	case <-time.After(10 * time.Minute):
		Fail("the fault was not in effect within 10m:\n" + log.String())
	case <-ctx.Done():
		Fail("interrupted")
	}
	By("interrupting drill (SIGINT)")
	Expect(cmd.Process.Signal(syscall.SIGINT)).To(Succeed())
	select {
	case <-done:
	case <-time.After(15 * time.Minute):
		Fail("drill did not exit within 15m of SIGINT:\n" + log.String())
	}
	err = cmd.Wait()
	run := interruptedRun{Log: log.String(), ExitCode: cmd.ProcessState.ExitCode()}
	Expect(err).To(HaveOccurred(), "an interrupted drill exits non-zero")
	r, err := reports.Collect(reportDir)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.Drills).To(HaveLen(1), "the interrupted drill's report")
	run.Report = r.Drills[0]
	Expect(run.Report.Verdict).To(Equal(reports.Error))
	Expect(strings.Join(run.Report.Failures, "\n")).To(ContainSubstring("interrupted"))
	Expect(run.Report.Fault.RevertError).To(BeEmpty())
	Expect(run.Report.Fault.Reverted).NotTo(BeZero(), "the revert finished")
	AddReportEntry("revert after interrupt", run.Report.Fault.Reverted.Sub(run.Report.Fault.RevertStarted).Round(time.Millisecond).String())
	return run
}

// writeDrill writes a drill file into a temporary directory.
func writeDrill(name, body string) string {
	path := filepath.Join(GinkgoT().TempDir(), name+".yaml")
	Expect(os.WriteFile(path, []byte(body), 0o644)).To(Succeed())
	return path
}

var _ = Describe("A drill interrupted with Ctrl-C", framework.SpecLabels(framework.LabelInterrupt, framework.LabelDisruptive, framework.LabelSerial), Serial, func() {
	It("uncordons the drained zone", func(ctx SpecContext) {
		file := writeDrill("interrupt-drain", `name: interrupt-drain
description: A drain blocked by its PDB, interrupted.
fault:
  type: drain-zone
  params: {zone: zone-c, timeout: 10m, expectBlocked: true}
workload:
  fixture: probe-app
  pdb: {minAvailable: 3}
objectives:
  pdb: {neverViolated: true}
  maxDuration: 15m
`)
		interrupt(ctx, "interrupt-drain", file)
		nodes, err := suite.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, n := range nodes.Items {
			Expect(n.Spec.Unschedulable).To(BeFalse(), "node %s is still cordoned", n.Name)
		}
	}, NodeTimeout(30*time.Minute))

	It("re-adds the removed etcd member", func(ctx SpecContext) {
		interrupt(ctx, "remove-etcd-member", "../../scenarios/remove-etcd-member.yaml")
		access, ok := suite.Provider.(cluster.EtcdAccess)
		Expect(ok).To(BeTrue())
		cfg, err := access.EtcdConfig(ctx)
		Expect(err).NotTo(HaveOccurred())
		cli, err := clientv3.New(cfg)
		Expect(err).NotTo(HaveOccurred())
		defer cli.Close()
		resp, err := cli.MemberList(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Members).To(HaveLen(3))
		for _, m := range resp.Members {
			Expect(m.Name).NotTo(BeEmpty(), "member %x has not started", m.ID)
			Expect(m.IsLearner).To(BeFalse())
			st, err := cli.Status(ctx, m.ClientURLs[0])
			Expect(err).NotTo(HaveOccurred(), "member %s", m.Name)
			Expect(st.Leader).NotTo(BeZero(), "member %s knows no leader", m.Name)
		}
	}, NodeTimeout(30*time.Minute))

	It("restores the crash-looping Deployment's spec", func(ctx SpecContext) {
		ns, err := suite.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "drill-interrupt-"}}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(framework.DeleteProbeApp(ctx, framework.DeleteProbeAppInput{Clientset: suite.Clientset, Namespace: ns.Name})).To(Succeed())
			Expect(suite.Clientset.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})).To(Succeed())
		})
		app, err := framework.DeployProbeApp(ctx, framework.DeployProbeAppInput{Clientset: suite.Clientset, Namespace: ns.Name, AllocateNodePort: true})
		Expect(err).NotTo(HaveOccurred())
		before := app.Deployment.Spec.Template.DeepCopy()

		file := writeDrill("interrupt-crashloop", fmt.Sprintf(`name: interrupt-crashloop
description: Pods crash-looping for long, interrupted.
fault:
  type: crashloop-pods
  params: {deployment: probe-app, namespace: %s, holdFor: 10m}
objectives:
  maxDuration: 15m
`, ns.Name))
		interrupt(ctx, "interrupt-crashloop", file)
		d, err := suite.Clientset.AppsV1().Deployments(ns.Name).Get(ctx, "probe-app", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				Expect(e.Name).NotTo(Equal(probeapp.EnvCrash), "container %s still crashes", c.Name)
			}
		}
		Expect(d.Spec.Template.Spec.Containers).To(Equal(before.Spec.Containers))
		Expect(cluster.WaitForRollout(ctx, suite.Clientset, ns.Name, "probe-app", 3*time.Minute)).To(Succeed())
	}, NodeTimeout(30*time.Minute))
})
