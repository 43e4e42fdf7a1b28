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
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
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

// wayOut is how a drill's harness is stopped: a signal once the fault is in
// effect (SIGINT, SIGHUP), or a SIGKILL at a named journal step, after which
// drill recover reverts the fault.
type wayOut struct {
	signal syscall.Signal
	// killAt, for SIGKILL, is the journal step (a regular expression) at
	// which the harness kills itself (journal.KillAtEnv).
	killAt string
}

var (
	bySIGINT = wayOut{signal: syscall.SIGINT}
	bySIGHUP = wayOut{signal: syscall.SIGHUP}
)

func bySIGKILLAt(step string) wayOut { return wayOut{signal: syscall.SIGKILL, killAt: step} }

// interrupt runs drill on file and stops it the way out says: a signal once
// the fault is in effect, or a SIGKILL at a journal step followed by drill
// recover. Either way the fault must be reverted and the drill reported as
// stopped.
func interrupt(ctx context.Context, name, file string, how wayOut) interruptedRun {
	kind, ok := suite.Provider.(*cluster.Kind)
	if !ok {
		Skip("interrupting drills needs a kind cluster")
	}
	reportDir := GinkgoT().TempDir()
	journalDir := GinkgoT().TempDir()
	clusterFlags := []string{"--name", kind.Name(), "--kubeconfig", suite.Provider.Kubeconfig().Path}
	cmd := exec.Command(drillBinary, append(append([]string{"run"}, clusterFlags...),
		"--report-dir", reportDir, "--journal-dir", journalDir, file)...)
	cmd.Env = os.Environ()
	if how.killAt != "" {
		cmd.Env = append(cmd.Env, journal.KillAtEnv+"="+how.killAt)
	}
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

	run := interruptedRun{}
	if how.killAt == "" {
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
		By(fmt.Sprintf("stopping drill with %s", how.signal))
		Expect(cmd.Process.Signal(how.signal)).To(Succeed())
	} else {
		By(fmt.Sprintf("waiting for drill to kill itself at journal step %q", how.killAt))
	}
	select {
	case <-done:
	case <-time.After(15 * time.Minute):
		Fail(fmt.Sprintf("drill did not exit within 15m:\n%s", log.String()))
	}
	err = cmd.Wait()
	run.Log, run.ExitCode = log.String(), cmd.ProcessState.ExitCode()
	Expect(err).To(HaveOccurred(), "a stopped drill exits non-zero")

	if how.killAt != "" {
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		Expect(ws.Signaled() && ws.Signal() == syscall.SIGKILL).To(BeTrue(), "drill was not killed at %q:\n%s", how.killAt, run.Log)
		store := &journal.Store{Dir: journalDir}
		open, err := store.List()
		Expect(err).NotTo(HaveOccurred())
		Expect(open).To(HaveLen(1), "the killed drill's journal is left open on disk")
		Expect(open[0].Step).To(MatchRegexp("^(?:"+how.killAt+")$"), "the journal says where the harness stopped")
		AddReportEntry("killed at", open[0].Step)

		By("recovering with drill recover")
		start := time.Now()
		out, err := exec.CommandContext(ctx, drillBinary, append(append([]string{"recover"}, clusterFlags...), "--journal-dir", journalDir)...).CombinedOutput()
		fmt.Fprintf(GinkgoWriter, "drill recover:\n%s", out)
		Expect(err).NotTo(HaveOccurred(), "drill recover:\n%s", out)
		AddReportEntry("drill recover took", time.Since(start).Round(time.Millisecond).String())
		Expect(string(out)).To(ContainSubstring("journal " + open[0].ID + ": " + open[0].Fault + " reverted in"))
		left, err := store.List()
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(BeEmpty(), "every journal closed after drill recover")
	}

	r, err := reports.Collect(reportDir)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.Drills).To(HaveLen(1), "the stopped drill's report")
	run.Report = r.Drills[0]
	Expect(run.Report.Verdict).To(Equal(reports.Error))
	if how.killAt != "" {
		Expect(strings.Join(run.Report.Failures, "\n")).To(ContainSubstring("harness stopped at"))
	} else {
		Expect(strings.Join(run.Report.Failures, "\n")).To(ContainSubstring("interrupted"))
		Expect(run.Report.Failures).To(ContainElement(ContainSubstring(how.signal.String())), "the report names the signal")
	}
	Expect(run.Report.Fault.RevertError).To(BeEmpty())
	Expect(run.Report.Fault.Reverted).NotTo(BeZero(), "the revert finished")
	AddReportEntry("revert after "+how.signal.String(), run.Report.Fault.Reverted.Sub(run.Report.Fault.RevertStarted).Round(time.Millisecond).String())
	return run
}

// writeDrill writes a drill file into a temporary directory.
func writeDrill(name, body string) string {
	path := filepath.Join(GinkgoT().TempDir(), name+".yaml")
	Expect(os.WriteFile(path, []byte(body), 0o644)).To(Succeed())
	return path
}

var _ = Describe("A drill whose harness is stopped (Ctrl-C, SIGHUP, SIGKILL)", framework.SpecLabels(framework.LabelInterrupt, framework.LabelDisruptive, framework.LabelSerial), Serial, func() {
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
		interrupt(ctx, "interrupt-drain", file, bySIGINT)
		nodes, err := suite.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, n := range nodes.Items {
			Expect(n.Spec.Unschedulable).To(BeFalse(), "node %s is still cordoned", n.Name)
		}
	}, NodeTimeout(30*time.Minute))

	It("re-adds the removed etcd member after a SIGKILL, through drill recover", func(ctx SpecContext) {
		interrupt(ctx, "remove-etcd-member", "../../scenarios/remove-etcd-member.yaml", bySIGKILLAt("etcd member .* removed"))
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

	It("restores the crash-looping Deployment's spec after a SIGHUP", func(ctx SpecContext) {
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
		interrupt(ctx, "interrupt-crashloop", file, bySIGHUP)
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

var _ = Describe("The preflight", framework.SpecLabels(framework.LabelInterrupt, framework.LabelDisruptive, framework.LabelSerial), Serial, func() {
	It("refuses a drill on a cluster with a stopped node, and injects nothing", func(ctx SpecContext) {
		lc, ok := suite.Provider.(cluster.NodeLifecycle)
		if !ok {
			Skip("stopping a node needs a provider with node lifecycle")
		}
		nodes, err := suite.Provider.Nodes(ctx)
		Expect(err).NotTo(HaveOccurred())
		var worker string
		for _, n := range nodes {
			if n.Role == cluster.RoleWorker {
				worker = n.Name
			}
		}
		Expect(worker).NotTo(BeEmpty())

		By("stopping node " + worker)
		Expect(lc.StopNode(ctx, worker)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			By("starting node " + worker + " again")
			Expect(lc.StartNode(ctx, worker)).To(Succeed())
			Eventually(func(g Gomega) {
				n, err := suite.Clientset.CoreV1().Nodes().Get(ctx, worker, metav1.GetOptions{})
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(nodeReady(n)).To(BeTrue(), "node %s Ready", worker)
			}).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		}, NodeTimeout(6*time.Minute))
		Eventually(func(g Gomega) {
			n, err := suite.Clientset.CoreV1().Nodes().Get(ctx, worker, metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(nodeReady(n)).To(BeFalse(), "node %s still Ready", worker)
		}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())

		sc, err := scenarios.Load("../../scenarios/remove-etcd-member.yaml")
		Expect(err).NotTo(HaveOccurred())
		reportDir := GinkgoT().TempDir()
		registered := false
		d, err := framework.RunScenario(ctx, framework.RunScenarioInput{
			Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, Scenario: sc,
			ReportDir: reportDir, JournalDir: GinkgoT().TempDir(), PreflightWait: 10 * time.Second,
			Logger:   cluster.NewWriterLogger(GinkgoWriter, 0),
			Register: func(func(context.Context) error) { registered = true },
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Verdict).To(Equal(reports.Error))
		Expect(registered).To(BeFalse(), "no revert registered: nothing was to be injected")
		Expect(d.Fault.Injected).To(BeZero(), "nothing injected")
		Expect(strings.Join(d.Failures, "\n")).To(And(ContainSubstring("preflight"), ContainSubstring(worker)))
		Expect(d.Preflight).To(ContainElement(And(
			HaveField("Name", "nodes"), HaveField("Status", "failed"), HaveField("Detail", ContainSubstring(worker)))))
		AddReportEntry("preflight", strings.Join(d.Failures, "\n"))
	}, NodeTimeout(20*time.Minute))
})

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
