package killmatrix_test

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	"github.com/drill-sre/drill/internal/preflight"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/reports"
)

// drillFile is a drill of one fault type, without alert objectives (the
// matrix checks reverts, not alerts).
type drillFile struct {
	name, body string
	// steps are the journal steps (regular expressions, as the faults name
	// them) the harness is killed at, in the order they happen.
	steps []string
	// clusterCopy: the fault's cluster copy of its journal can be trusted,
	// so the case also runs with the disk journal deleted.
	clusterCopy bool
}

var drills = []drillFile{
	{name: "matrix-kill-control-plane", clusterCopy: true, body: `
fault: {type: kill-control-plane, params: {target: etcd-leader, signal: SIGKILL, rejoinTimeout: 5m}}
objectives: {rto: {api: 60s}, maxDuration: 12m}`,
		steps: []string{"injecting", "killing node .* with SIGKILL", "node .* killed", "in effect", "reverting", "node .* started"}},
	{name: "matrix-remove-etcd-member", clusterCopy: true, body: `
fault: {type: remove-etcd-member, params: {member: leader, readdTimeout: 5m}}
objectives: {rto: {api: 60s}, maxDuration: 12m}`,
		steps: []string{"removing etcd member .*", "etcd member .* removed", "reverting", "stopping etcd on .*", "deleting etcd data on .*",
			"etcd stopped and its data deleted on .*", "etcd member .* added back as .*", "etcd started on .*, joining the existing cluster"}},
	{name: "matrix-drain-zone", clusterCopy: true, body: `
fault: {type: drain-zone, params: {zone: zone-b, timeout: 3m}}
workload: {fixture: probe-app, pdb: {minAvailable: 2}}
objectives: {availability: {minReady: 1}, maxDuration: 10m}`,
		steps: []string{"cordoning node .*", "node .* cordoned", "in effect", "reverting", "node .* uncordoned"}},
	{name: "matrix-crashloop-pods", clusterCopy: true, body: `
fault: {type: crashloop-pods, params: {deployment: probe-app, holdFor: 30s}}
workload: {fixture: probe-app, pdb: {minAvailable: 2}}
objectives: {availability: {minReady: 1}, maxDuration: 10m}`,
		steps: []string{"making the pods of .* crash", "the pods of .* crash", "in effect", "reverting", "pod template of deployment .* restored"}},
	{name: "matrix-etcd-restore", clusterCopy: false, body: `
fault: {type: etcd-restore, params: {disaster: quorum-loss, snapshotInterval: 30s, restoreTimeout: 10m}}
workload: {fixture: probe-app}
objectives: {rto: {api: 10m}, maxDuration: 20m}`,
		steps: []string{"deleting etcd data on nodes .*", "etcd data on nodes .* deleted", "reverting",
			"moving the API server and etcd manifests aside on nodes .*", "every API server and etcd member stopped",
			"deleting etcd data on nodes .* to restore .*", "every member's data restored from .*", "etcd started, every member healthy",
			"the API servers started, every one ready"}},
	{name: "matrix-velero-restore", clusterCopy: true, body: `
fault: {type: velero-restore, params: {restoreTimeout: 5m}}
workload: {fixture: probe-app, replicas: 1, persistent: true}
objectives: {rto: {app: 5m}, maxDuration: 15m}`,
		steps: []string{"deleting namespace .*", "namespace .* deleted", "reverting", "restoring namespace .* from backup .*", "Restore .* completed"}},
}

// variant is how the harness's death is followed up.
type variant string

const (
	plain        variant = "disk journal"
	diskDeleted  variant = "disk journal deleted"
	machineReset variant = "machine restart"
)

var drillBinary string

var _ = BeforeEach(func() {
	if drillBinary != "" {
		return
	}
	dir, err := os.MkdirTemp("", "drill-killmatrix-")
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(dir, "drill")
	out, err := exec.Command("go", "build", "-o", path, "../../cmd/drill").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "build drill: %s", out)
	drillBinary = path
})

var _ = Describe("SIGKILL at every journal step", framework.SpecLabels(framework.LabelKillMatrix, framework.LabelDisruptive, framework.LabelSerial), Serial, func() {
	for _, d := range drills {
		for _, step := range d.steps {
			variants := []variant{plain, machineReset}
			if d.clusterCopy {
				variants = append(variants, diskDeleted)
			}
			for _, v := range variants {
				It(fmt.Sprintf("%s killed at %q, %s", d.name, step, v), func(ctx SpecContext) {
					killAndRecover(ctx, d, step, v)
				}, NodeTimeout(45*time.Minute))
			}
		}
	}
})

// killAndRecover runs drill d, killed at step, then drill recover, and
// checks the cluster is whole.
func killAndRecover(ctx context.Context, d drillFile, step string, v variant) {
	kind, ok := suite.Provider.(*cluster.Kind)
	if !ok {
		Skip("the kill matrix needs a kind cluster")
	}
	file := filepath.Join(GinkgoT().TempDir(), d.name+".yaml")
	Expect(os.WriteFile(file, []byte(fmt.Sprintf("name: %s\ndescription: the kill matrix\n%s\n", d.name, d.body)), 0o644)).To(Succeed())
	reportDir, journalDir := GinkgoT().TempDir(), GinkgoT().TempDir()
	clusterFlags := []string{"--name", kind.Name(), "--kubeconfig", suite.Provider.Kubeconfig().Path, "--journal-dir", journalDir}

	By(fmt.Sprintf("running %s until it kills itself at %q", d.name, step))
	cmd := exec.CommandContext(ctx, drillBinary, append(append([]string{"run"}, clusterFlags...), "--report-dir", reportDir, file)...)
	cmd.Env = append(os.Environ(), journal.KillAtEnv+"="+step)
	stderr, err := cmd.StderrPipe()
	Expect(err).NotTo(HaveOccurred())
	cmd.Stdout = GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	var log strings.Builder
	s := bufio.NewScanner(stderr)
	for s.Scan() {
		fmt.Fprintln(GinkgoWriter, s.Text())
		log.WriteString(s.Text() + "\n")
	}
	_ = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	Expect(ws.Signaled() && ws.Signal() == syscall.SIGKILL).To(BeTrue(), "drill was not killed at %q:\n%s", step, log.String())
	open, err := (&journal.Store{Dir: journalDir}).List()
	Expect(err).NotTo(HaveOccurred())
	Expect(open).To(HaveLen(1))
	killedAt := open[0]
	AddReportEntry("killed at", killedAt.Step)

	switch v {
	case diskDeleted:
		By("deleting the disk journal: only the cluster's copy is left")
		Expect(os.RemoveAll(journalDir)).To(Succeed())
	case machineReset:
		By("restarting every node container, as a machine restart would")
		lc := suite.Provider.(cluster.NodeLifecycle)
		nodes, err := suite.Provider.Nodes(ctx)
		Expect(err).NotTo(HaveOccurred())
		for _, n := range nodes {
			_ = lc.StopNode(ctx, n.Name) // a node the fault stopped is stopped already
		}
		// This Docker cannot pin an address on kind's network ("user
		// specified IP address is supported only when connecting to
		// networks with user configured subnets") and hands out the lowest
		// free ones: started in the order of their old addresses, the
		// nodes get them back, as a rebooted machine keeps its own
		// (kind#1689).
		slices.SortFunc(nodes, func(a, b cluster.Node) int { return compareIP(a.InternalIP, b.InternalIP) })
		for _, n := range nodes {
			Expect(lc.StartNode(ctx, n.Name)).To(Succeed())
		}
	}

	By("recovering with drill recover")
	start := time.Now()
	var out []byte
	// After a restart, the API may take a while to answer.
	Eventually(func() error {
		out, err = exec.CommandContext(ctx, drillBinary, append([]string{"recover"}, clusterFlags...)...).CombinedOutput()
		fmt.Fprintf(GinkgoWriter, "drill recover:\n%s", out)
		return err
	}).WithContext(ctx).WithTimeout(20 * time.Minute).WithPolling(30 * time.Second).Should(Succeed())
	AddReportEntry("drill recover took", time.Since(start).Round(time.Second).String())
	Expect(string(out)).To(ContainSubstring("journal " + killedAt.ID + ": " + killedAt.Fault + " reverted in"))

	By("checking the cluster is whole")
	left, err := (&journal.Store{Dir: journalDir}).List()
	Expect(err).NotTo(HaveOccurred())
	Expect(left).To(BeEmpty(), "every journal closed")
	copies, err := journal.ConfigMaps{Clientset: suite.Clientset}.List(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(copies).NotTo(ContainElement(HaveField("ID", killedAt.ID)), "the journal's cluster copy removed")
	Eventually(func(g Gomega) {
		res := preflight.Run(ctx, preflight.Input{Clientset: suite.Clientset, RESTConfig: suite.RESTConfig, Etcd: etcdOf(ctx, g)})
		g.Expect(res.Problems()).To(BeEmpty(), "nodes schedulable, 3 healthy etcd members, every API server ready")
	}).WithContext(ctx).WithTimeout(10 * time.Minute).WithPolling(10 * time.Second).Should(Succeed())
	if ns := killedAt.Env.Namespace; ns != "" {
		checkWorkload(ctx, ns, killedAt.Env.Deployment)
	}
	if killedAt.ReportDir != "" {
		r, err := reports.ReadDrill(killedAt.ReportDir, d.name)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Verdict).To(Equal(reports.Error))
		Expect(r.Failures).To(ContainElement(ContainSubstring("harness stopped at " + killedAt.Step)))
	}
	cleanupDrillNamespaces(ctx, d.name)
}

// checkWorkload checks the drill's app is back whole: its namespace (which
// velero-restore deleted) and its Deployment, with the pod template it had
// (which crashloop-pods changed), available.
func checkWorkload(ctx context.Context, ns, deployment string) {
	Eventually(func(g Gomega) {
		dep, err := suite.Clientset.AppsV1().Deployments(ns).Get(ctx, deployment, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred(), "the app's namespace and Deployment are back")
		for _, c := range dep.Spec.Template.Spec.Containers {
			g.Expect(c.Env).NotTo(ContainElement(HaveField("Name", probeapp.EnvCrash)), "the pod template restored")
		}
		g.Expect(dep.Status.AvailableReplicas).To(Equal(*dep.Spec.Replicas), "the app available")
	}).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(5 * time.Second).Should(Succeed())
}

func cleanupDrillNamespaces(ctx context.Context, drill string) {
	list, err := suite.Clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "drill.sre/drill=" + drill})
	Expect(err).NotTo(HaveOccurred())
	for _, ns := range list.Items {
		_ = suite.Clientset.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	}
	Eventually(func() []corev1.Namespace {
		l, _ := suite.Clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "drill.sre/drill=" + drill})
		return l.Items
	}).WithContext(ctx).WithTimeout(5 * time.Minute).Should(BeEmpty())
}

// etcdOf returns a client of the cluster's etcd members for the preflight,
// closed when the spec ends.
func etcdOf(ctx context.Context, g Gomega) preflight.Etcd {
	access, ok := suite.Provider.(cluster.EtcdAccess)
	g.Expect(ok).To(BeTrue())
	cfg, err := access.EtcdConfig(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	cli, err := clientv3.New(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cli.Close)
	return cli
}

// compareIP orders two IPv4 addresses numerically.
func compareIP(a, b string) int {
	pa, _ := netip.ParseAddr(a)
	pb, _ := netip.ParseAddr(b)
	return pa.Compare(pb)
}
