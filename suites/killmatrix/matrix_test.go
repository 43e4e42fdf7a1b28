package killmatrix_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// drillFile is a drill of one fault type, without alert objectives (the
// matrix checks reverts, not alerts).
type drillFile struct {
	fault      scenarios.FaultType
	name, body string
	// steps are the journal steps (regular expressions, as the faults name
	// them) the harness is killed at, in the order they happen.
	steps []string
}

var drills = []drillFile{
	{fault: "kill-control-plane", name: "matrix-kill-control-plane", body: `
fault: {type: kill-control-plane, params: {target: etcd-leader, signal: SIGKILL, rejoinTimeout: 5m}}
objectives: {rto: {api: 60s}, maxDuration: 12m}`,
		steps: []string{"injecting", "killing node .* with SIGKILL", "node .* killed", "in effect", "reverting", "node .* started"}},
	{fault: "kill-control-plane", name: "matrix-kill-control-plane-services", body: `
fault: {type: kill-control-plane, params: {target: etcd-leader, mode: services, holdFor: 30s, rejoinTimeout: 5m}}
objectives: {rto: {api: 60s}, maxDuration: 12m}`,
		steps: []string{"injecting", "starting drill's agent .*", "node .*: services by the agent", "in effect", "reverting", "node .*: the agent reverted.*"}},
	{fault: "zone-outage", name: "matrix-zone-outage", body: `
fault: {type: zone-outage, params: {zone: zone-b, holdFor: 90s, rejoinTimeout: 5m}}
workload: {fixture: probe-app}
objectives: {rto: {api: 2m}, maxDuration: 12m}`,
		steps: []string{"injecting", "starting drill's agents on the .* nodes of zone .*", "zone .* cut off by the agents", "in effect", "reverting", "node .*: the agent reverted.*"}},
	{fault: "remove-etcd-member", name: "matrix-remove-etcd-member", body: `
fault: {type: remove-etcd-member, params: {member: leader, readdTimeout: 5m}}
objectives: {rto: {api: 60s}, maxDuration: 12m}`,
		steps: []string{"removing etcd member .*", "etcd member .* removed", "reverting", "stopping etcd on .*", "deleting etcd data on .*",
			"etcd stopped and its data deleted on .*", "etcd member .* added back as .*", "etcd started on .*, joining the existing cluster", "[0-9]+ healthy etcd members"}},
	{fault: "drain-zone", name: "matrix-drain-zone", body: `
fault: {type: drain-zone, params: {zone: zone-b, timeout: 3m}}
workload: {fixture: probe-app, pdb: {minAvailable: 2}}
objectives: {availability: {minReady: 1}, maxDuration: 10m}`,
		steps: []string{"cordoning node .*", "node .* cordoned", "in effect", "reverting", "node .* uncordoned"}},
	{fault: "crashloop-pods", name: "matrix-crashloop-pods", body: `
fault: {type: crashloop-pods, params: {deployment: probe-app, holdFor: 30s}}
workload: {fixture: probe-app, pdb: {minAvailable: 2}}
objectives: {availability: {minReady: 1}, maxDuration: 10m}`,
		steps: []string{"making the pods of .* crash", "the pods of .* crash", "in effect", "reverting", "pod template of deployment .* restored"}},
	{fault: "memory-hog", name: "matrix-memory-hog", body: `
target: {role: worker}
fault: {type: memory-hog, params: {used: 0.5, holdFor: 30s}}
objectives: {maxDuration: 10m}`,
		steps: []string{"creating the memory hog's pod .*", "the memory hog's pod .* created", "in effect", "reverting", "the memory hog's pod .* deleted"}},
	{fault: "etcd-restore", name: "matrix-etcd-restore", body: `
fault: {type: etcd-restore, params: {disaster: quorum-loss, snapshotInterval: 30s, restoreTimeout: 10m}}
workload: {fixture: probe-app}
objectives: {rto: {api: 10m}, maxDuration: 20m}`,
		steps: []string{"deleting etcd data on nodes .*", "etcd data on nodes .* deleted", "reverting",
			"moving the API server and etcd manifests aside on nodes .*", "every API server and etcd member stopped",
			"deleting etcd data on nodes .* to restore .*", "every member's data restored from .*", "etcd started, every member healthy",
			"the API servers started, every one ready", "the workload available"}},
	{fault: "velero-restore", name: "matrix-velero-restore", body: `
fault: {type: velero-restore, params: {schedule: "0 2 * * *", restoreTimeout: 5m}}
workload: {fixture: probe-app, replicas: 1, persistent: true}
objectives: {rto: {app: 5m}, maxDuration: 15m}`,
		steps: []string{"creating Schedule .*", "Schedule .* created", "Backup .* completed", "deleting namespace .*", "namespace .* deleted",
			"reverting", "restoring namespace .*", "Restore .* completed", "the workload available", "Schedule .* deleted"}},
}

// variant is how the harness's death is followed up.
type variant string

const (
	plain        variant = "disk journal"
	diskDeleted  variant = "disk journal deleted"
	machineReset variant = "machine restart"
)

var _ = AfterSuite(framework.RemoveDrillBinary)

var _ = Describe("Every shipped fault type is in the matrix", framework.SpecLabels(framework.LabelKillMatrix), func() {
	It("has a row for every registered fault", func() {
		var missing []string
		for _, spec := range faults.Specs() {
			if !slices.ContainsFunc(drills, func(d drillFile) bool { return d.fault == spec.Type }) {
				missing = append(missing, string(spec.Type))
			}
		}
		Expect(missing).To(BeEmpty(), "fault types the kill matrix does not kill")
	})
})

var _ = Describe("SIGKILL at every journal step", framework.SpecLabels(framework.LabelKillMatrix, framework.LabelDisruptive, framework.LabelSerial), Serial, func() {
	for _, d := range drills {
		spec, ok := faults.Lookup(d.fault)
		if !ok {
			panic("the kill matrix names an unknown fault " + string(d.fault))
		}
		for _, step := range d.steps {
			variants := []variant{plain, machineReset}
			if spec.ClusterJournal { // its cluster copy can be trusted
				variants = append(variants, diskDeleted)
			}
			for _, v := range variants {
				It(fmt.Sprintf("%s killed at %q, %s", d.name, step, v), func(ctx SpecContext) {
					killAndRecover(ctx, d, step, v)
				}, Label(framework.FaultLabel(d.fault), "variant:"+strings.ReplaceAll(string(v), " ", "-")), NodeTimeout(45*time.Minute))
			}
		}
	}
})

// killAndRecover runs drill d, killed at step, then drill recover, and
// checks the cluster is whole.
func killAndRecover(ctx context.Context, d drillFile, step string, v variant) {
	file := filepath.Join(GinkgoT().TempDir(), d.name+".yaml")
	Expect(os.WriteFile(file, []byte(fmt.Sprintf("name: %s\ndescription: the kill matrix\n%s\n", d.name, d.body)), 0o644)).To(Succeed())
	reportDir, journalDir := GinkgoT().TempDir(), GinkgoT().TempDir()

	By(fmt.Sprintf("running %s until it kills itself at %q", d.name, step))
	framework.RunDrill(ctx, framework.RunDrillInput{Provider: suite.Provider, Name: d.name, File: file,
		ReportDir: reportDir, JournalDir: journalDir, KillAt: step, Timeout: 30 * time.Minute})
	killedAt := framework.OpenJournal(journalDir, step)
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
	took := framework.Recover(ctx, framework.RecoverInput{Provider: suite.Provider, Clientset: suite.Clientset,
		JournalDir: journalDir, Journal: killedAt, Retry: 20 * time.Minute})
	AddReportEntry("recover "+string(v), took.Round(time.Second).String())

	By("checking the cluster is whole")
	framework.ExpectClusterWhole(ctx, framework.ExpectClusterWholeInput{
		Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, Timeout: 10 * time.Minute})
	if ns := killedAt.Env.Namespace; ns != "" {
		checkWorkload(ctx, ns, killedAt.Env.Deployment)
	}
	pods, err := suite.Clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=drill-memory-hog"})
	Expect(err).NotTo(HaveOccurred())
	Expect(pods.Items).To(BeEmpty(), "no memory hog left")
	if killedAt.ReportDir != "" {
		r, err := reports.ReadDrill(killedAt.ReportDir, d.name)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Verdict).To(Equal(reports.Error))
		Expect(r.Failures).To(ContainElement(ContainSubstring("harness stopped at " + killedAt.Step)))
	}
	framework.DeleteDrillNamespaces(ctx, suite.Clientset, d.name)
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

// compareIP orders two IPv4 addresses numerically.
func compareIP(a, b string) int {
	pa, _ := netip.ParseAddr(a)
	pb, _ := netip.ParseAddr(b)
	return pa.Compare(pb)
}
