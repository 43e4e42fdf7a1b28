package interrupt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/agent"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/guard"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// wayOut is how a drill's harness is stopped: a signal once the fault is in
// effect (SIGINT, SIGHUP), or a SIGKILL at a named journal step, after which
// drill recover reverts the fault.
type wayOut struct {
	// name is the signal's, as a user types it.
	name   string
	signal syscall.Signal
	// killAt, for SIGKILL, is the journal step (a regular expression) at
	// which the harness kills itself (journal.KillAtEnv).
	killAt string
	// beforeRecover, when set, runs after the SIGKILL and before drill
	// recover, given when the harness died.
	beforeRecover func(ctx context.Context, killed time.Time)
}

var (
	bySIGINT = wayOut{name: "SIGINT", signal: syscall.SIGINT}
	bySIGHUP = wayOut{name: "SIGHUP", signal: syscall.SIGHUP}
)

func bySIGKILLAt(step string) wayOut {
	return wayOut{name: "SIGKILL", signal: syscall.SIGKILL, killAt: step}
}

var _ = AfterSuite(framework.RemoveDrillBinary)

// interrupt runs drill on file and stops it the way out says: a signal once
// the fault is in effect, or a SIGKILL at a journal step followed by drill
// recover. Either way the fault must be reverted, every journal closed, and
// the drill reported as stopped. It returns the drill's report and, after a
// SIGKILL, the journal drill recover closed.
func interrupt(ctx context.Context, name, file string, how wayOut) (reports.Drill, journal.Entry) {
	reportDir, journalDir := GinkgoT().TempDir(), GinkgoT().TempDir()
	in := framework.RunDrillInput{Provider: suite.Provider, Name: name, File: file, ReportDir: reportDir, JournalDir: journalDir}
	if how.killAt != "" {
		in.KillAt = how.killAt
	} else {
		in.Signal = how.signal
	}
	p := framework.RunDrill(ctx, in)
	died := time.Now()
	Expect(p.ExitCode).NotTo(BeZero(), "a stopped drill exits non-zero")
	var killed journal.Entry
	if how.killAt != "" {
		killed = framework.OpenJournal(journalDir, how.killAt)
		AddReportEntry("killed at", killed.Step)
		if how.beforeRecover != nil {
			how.beforeRecover(ctx, died)
		}
		By("recovering with drill recover")
		took := framework.Recover(ctx, framework.RecoverInput{Provider: suite.Provider, Clientset: suite.Clientset, JournalDir: journalDir, Journal: killed})
		AddReportEntry("recover "+killed.Fault, took.Round(time.Millisecond).String())
	}

	r, err := reports.Collect(reportDir)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.Drills).To(HaveLen(1), "the stopped drill's report")
	d := r.Drills[0]
	Expect(d.Verdict).To(Equal(reports.Error))
	if how.killAt != "" {
		Expect(strings.Join(d.Failures, "\n")).To(ContainSubstring("harness stopped at"))
	} else {
		Expect(strings.Join(d.Failures, "\n")).To(ContainSubstring("interrupted"))
		Expect(d.Failures).To(ContainElement(ContainSubstring(how.signal.String())), "the report names the signal")
	}
	Expect(d.Fault.RevertError).To(BeEmpty())
	Expect(d.Fault.Reverted).NotTo(BeZero(), "the revert finished")
	AddReportEntry("revert after "+how.name, d.Fault.Reverted.Sub(d.Fault.RevertStarted).Round(time.Millisecond).String())
	return d, killed
}

// expectClusterWhole waits for every node schedulable, three healthy etcd
// members with one leader and every API server ready.
func expectClusterWhole(ctx context.Context) {
	framework.ExpectClusterWhole(ctx, framework.ExpectClusterWholeInput{
		Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, Timeout: 10 * time.Minute})
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

	It("brings a lost zone back on its agents' own clocks after a SIGKILL, before drill recover", func(ctx SpecContext) {
		const hold, margin = 90 * time.Second, time.Minute
		file := writeDrill("interrupt-zone-outage", `name: interrupt-zone-outage
description: A zone cut off, its harness killed.
fault:
  type: zone-outage
  params: {zone: zone-c, holdFor: 90s, rejoinTimeout: 5m}
workload:
  fixture: probe-app
objectives:
  rto: {api: 2m}
  maxDuration: 10m
`)
		how := bySIGKILLAt("zone .* cut off by the agents")
		how.beforeRecover = func(ctx context.Context, died time.Time) {
			By("waiting for every agent to restore its node on its own, with nobody renewing its lease")
			var states []string
			Eventually(func(g Gomega) {
				leases, err := suite.Clientset.CoordinationV1().Leases(agent.Namespace).List(ctx, metav1.ListOptions{})
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(leases.Items).To(HaveLen(2), "the agents of zone-c's two nodes")
				states = states[:0]
				for _, le := range leases.Items {
					states = append(states, le.Name+": "+le.Annotations[agent.AnnotationState])
				}
				for _, le := range leases.Items {
					g.Expect(le.Annotations[agent.AnnotationState]).To(Equal("reverted: "+agent.ReasonHoldEnd), "agent %s", le.Name)
				}
			}).WithContext(ctx).WithTimeout(hold + margin).WithPolling(2 * time.Second).Should(Succeed())
			AddReportEntry("zone back after SIGKILL, by the agents alone", time.Since(died).Round(time.Second).String())
			GinkgoWriter.Printf("agents: %s\n", strings.Join(states, "; "))
		}
		interrupt(ctx, "interrupt-zone-outage", file, how)
		expectClusterWhole(ctx)
	}, NodeTimeout(30*time.Minute))

	It("re-adds the removed etcd member after a SIGKILL, through drill recover", func(ctx SpecContext) {
		interrupt(ctx, "remove-etcd-member", "../../scenarios/remove-etcd-member.yaml", bySIGKILLAt("etcd member .* removed"))
		expectClusterWhole(ctx)
		framework.DeleteDrillNamespaces(ctx, suite.Clientset, "remove-etcd-member")
	}, NodeTimeout(30*time.Minute))

	It("starts the killed control-plane node again after a Ctrl-C", func(ctx SpecContext) {
		file := writeDrill("interrupt-kill-control-plane", `name: interrupt-kill-control-plane
description: The etcd leader's node killed, interrupted.
seed: 1
fault:
  type: kill-control-plane
  params: {target: etcd-leader, signal: SIGKILL, rejoinTimeout: 5m}
objectives:
  rto: {api: 60s}
  maxDuration: 12m
`)
		d, _ := interrupt(ctx, "interrupt-kill-control-plane", file, bySIGINT)
		Expect(d.Fault.Injected).NotTo(BeZero(), "the node was killed")
		expectClusterWhole(ctx)
	}, NodeTimeout(30*time.Minute))

	It("restores etcd from the snapshot after a SIGKILL with quorum lost, through drill recover", func(ctx SpecContext) {
		file := writeDrill("interrupt-etcd-restore", `name: interrupt-etcd-restore
description: etcd's quorum lost, the harness killed before the restore.
seed: 1
fault:
  type: etcd-restore
  params: {disaster: quorum-loss, snapshotInterval: 30s, disasterAfter: 35s, restoreTimeout: 8m}
workload: {fixture: probe-app, replicas: 3}
objectives:
  rto: {api: 6m}
  maxDuration: 12m
`)
		interrupt(ctx, "interrupt-etcd-restore", file, bySIGKILLAt("etcd data on nodes .* deleted"))
		expectClusterWhole(ctx)
		framework.DeleteDrillNamespaces(ctx, suite.Clientset, "interrupt-etcd-restore")
	}, NodeTimeout(40*time.Minute))

	It("restores the deleted namespace from its Velero backup after a SIGKILL, through drill recover", func(ctx SpecContext) {
		file := writeDrill("interrupt-velero-restore", `name: interrupt-velero-restore
description: The app's namespace deleted, the harness killed before the restore.
fault:
  type: velero-restore
  params: {writeAfterBackup: 5s, restoreTimeout: 5m}
workload: {fixture: probe-app, replicas: 1, persistent: true}
objectives:
  rto: {app: 5m}
  maxDuration: 15m
`)
		_, killed := interrupt(ctx, "interrupt-velero-restore", file, bySIGKILLAt("namespace .* deleted"))
		ns := killed.Env.Namespace
		Expect(ns).NotTo(BeEmpty(), "the journal names the app's namespace")
		By("checking the app's namespace, its Deployment and its volume are back")
		Eventually(func(g Gomega) {
			dep, err := suite.Clientset.AppsV1().Deployments(ns).Get(ctx, killed.Env.Deployment, metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred(), "the app's Deployment restored")
			g.Expect(dep.Status.AvailableReplicas).To(Equal(*dep.Spec.Replicas), "the app available")
			pvcs, err := suite.Clientset.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pvcs.Items).To(ContainElement(HaveField("Status.Phase", corev1.ClaimBound)), "the app's volume restored")
		}).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(5 * time.Second).Should(Succeed())
		framework.DeleteDrillNamespaces(ctx, suite.Clientset, "interrupt-velero-restore")
	}, NodeTimeout(40*time.Minute))

	It("stops the memory hog after a SIGHUP", func(ctx SpecContext) {
		file := writeDrill("interrupt-memory-hog", `name: interrupt-memory-hog
description: A node's memory filled for long, interrupted.
seed: 1
target: {role: worker}
fault:
  type: memory-hog
  params: {used: 0.5, holdFor: 10m}
objectives:
  maxDuration: 15m
`)
		interrupt(ctx, "interrupt-memory-hog", file, bySIGHUP)
		pods, err := suite.Clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=drill-memory-hog"})
		Expect(err).NotTo(HaveOccurred())
		Expect(pods.Items).To(BeEmpty(), "the memory hog's pod deleted")
	}, NodeTimeout(30*time.Minute))

	It("restores the crash-looping Deployment's spec after a SIGHUP", func(ctx SpecContext) {
		// A Deployment of the user's, in a namespace drill did not create:
		// the opt-in must list it (drill cluster opt-in --namespace).
		ns, err := suite.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "interrupt-shop-"}}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(framework.DeleteProbeApp(ctx, framework.DeleteProbeAppInput{Clientset: suite.Clientset, Namespace: ns.Name})).To(Succeed())
			Expect(suite.Clientset.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})).To(Succeed())
		})
		optIn, err := guard.Read(ctx, suite.Clientset)
		Expect(err).NotTo(HaveOccurred())
		listed := optIn
		listed.Namespaces = append(slices.Clone(optIn.Namespaces), ns.Name)
		Expect(guard.OptIn(ctx, suite.Clientset, listed)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(guard.OptIn(ctx, suite.Clientset, optIn)).To(Succeed()) })
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
