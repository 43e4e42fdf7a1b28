package recovery

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// fakeProvider is a cluster with a name and nothing else.
type fakeProvider struct{ name string }

func (p fakeProvider) Name() string                                  { return p.name }
func (p fakeProvider) Up(context.Context) (cluster.UpResult, error)  { return cluster.UpResult{}, nil }
func (p fakeProvider) Kubeconfig() cluster.Kubeconfig                { return cluster.Kubeconfig{} }
func (p fakeProvider) Nodes(context.Context) ([]cluster.Node, error) { return nil, nil }

func node(name string, cordoned bool) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Unschedulable: cordoned}}
}

// drainJournal is the open journal a killed drain-zone drill leaves: the
// zone's nodes, the ones it had cordoned, at the step it reached.
func drainJournal(t *testing.T, id, clusterName, reportDir string, cordoned ...string) journal.Entry {
	t.Helper()
	source, err := fs.ReadFile(scenarios.ShippedFS(), "drain-zone.yaml")
	if err != nil {
		t.Fatal(err)
	}
	state, _ := json.Marshal(map[string]any{"nodes": []string{"drill-worker2"}, "cordoned": cordoned})
	return journal.Entry{
		State: state,
		ID:    id, Cluster: journal.Cluster{Name: clusterName, Provider: "kind"},
		Drill: "drain-zone", Fault: "drain-zone", Scenario: string(source), File: "drain-zone.yaml",
		Target: "zone zone-b: node drill-worker2", ReportDir: reportDir, ClusterCopy: true,
		Env: journal.Env{Namespace: "drill-drain-zone-x", Deployment: "probe-app"},
	}
}

func TestRecoverRevertsFromTheDiskJournal(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(node("drill-worker", false), node("drill-worker2", true), node("drill-worker3", true))
	dir := t.TempDir()
	store := &journal.Store{Dir: filepath.Join(dir, "journal"), Mirror: journal.ConfigMaps{Clientset: cs}}
	reportDir := filepath.Join(dir, "run")

	// The killed harness: its journal on disk, at "node drill-worker2
	// cordoned". drill-worker3 was cordoned by someone else.
	e := drainJournal(t, "drain-zone-1", "drill", reportDir, "drill-worker2")
	j, err := store.Open(ctx, e, "node drill-worker2 cordoned", json.RawMessage(e.State))
	if err != nil {
		t.Fatal(err)
	}
	j.Abandon()
	// The report it wrote as it went.
	if _, err := reports.WriteDrill(reportDir, reports.Drill{Name: "drain-zone", Verdict: reports.Pass,
		Fault: reports.Fault{Type: "drain-zone", Injected: time.Now()}}); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	outcomes, err := Recover(ctx, Input{Provider: fakeProvider{"drill"}, Clientset: cs, Store: store, Out: &out, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("Recover: %v\n%s", err, out.String())
	}
	if len(outcomes) != 1 || !outcomes[0].Recovered || outcomes[0].From != "disk" {
		t.Fatalf("outcomes = %+v", outcomes)
	}
	for name, want := range map[string]bool{"drill-worker": false, "drill-worker2": false, "drill-worker3": true} {
		n, _ := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if n.Spec.Unschedulable != want {
			t.Errorf("node %s unschedulable = %v, want %v: recover uncordons exactly the journalled nodes", name, n.Spec.Unschedulable, want)
		}
	}
	if open, _ := store.List(); len(open) != 0 {
		t.Errorf("journals still open: %v", open)
	}
	if copies, _ := store.Mirror.List(ctx); len(copies) != 0 {
		t.Errorf("cluster copies left: %v", copies)
	}
	kept, err := journal.ReadFile(filepath.Join(reportDir, "journal", "drain-zone-1.json"))
	if err != nil || kept.IsOpen() || kept.Outcome != "recovered by drill recover" {
		t.Errorf("kept journal = %+v (%v)", kept, err)
	}
	d, err := reports.ReadDrill(reportDir, "drain-zone")
	if err != nil {
		t.Fatal(err)
	}
	if d.Verdict != reports.Error || !strings.Contains(strings.Join(d.Failures, "\n"), "harness stopped at node drill-worker2 cordoned") ||
		d.Fault.Reverted.IsZero() {
		t.Errorf("report: verdict %s, failures %q, reverted %v", d.Verdict, d.Failures, d.Fault.Reverted)
	}
	if !strings.Contains(out.String(), "journal drain-zone-1: drain-zone reverted in") {
		t.Errorf("output does not say what was done:\n%s", out.String())
	}
}

func TestRecoverFromTheClusterCopyAlone(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(node("drill-worker2", true))
	mirror := journal.ConfigMaps{Clientset: cs}
	// Another machine's journal: only its copy in the cluster.
	e := drainJournal(t, "drain-zone-2", "drill", "", "drill-worker2")
	e.Schema, e.Step, e.Opened = journal.Schema, "node drill-worker2 cordoned", time.Now()
	if err := mirror.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	// A machine that never had a journal directory.
	store := &journal.Store{Dir: filepath.Join(t.TempDir(), "absent"), Mirror: mirror}
	var out bytes.Buffer
	outcomes, err := Recover(ctx, Input{Provider: fakeProvider{"drill"}, Clientset: cs, Store: store, Out: &out, Timeout: time.Minute})
	if err != nil || len(outcomes) != 1 || !outcomes[0].Recovered || outcomes[0].From != "cluster" {
		t.Fatalf("outcomes = %+v, %v\n%s", outcomes, err, out.String())
	}
	if n, _ := cs.CoreV1().Nodes().Get(ctx, "drill-worker2", metav1.GetOptions{}); n.Spec.Unschedulable {
		t.Error("drill-worker2 is still cordoned")
	}
	if copies, _ := mirror.List(ctx); len(copies) != 0 {
		t.Errorf("cluster copies left: %v", copies)
	}
}

func TestRecoverLeavesWhatItMustNotTouch(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(node("drill-worker2", true))
	mirror := journal.ConfigMaps{Clientset: cs}
	store := &journal.Store{Dir: t.TempDir(), Mirror: mirror}
	// Another cluster's journal on this disk.
	other := drainJournal(t, "drain-zone-3", "staging", "", "drill-worker2")
	j, err := store.Open(ctx, other, "node drill-worker2 cordoned", json.RawMessage(other.State))
	if err != nil {
		t.Fatal(err)
	}
	j.Abandon()
	// An etcd-restore journal's copy in the cluster: rolled back by the
	// restore, never trusted.
	etcd := journal.Entry{Schema: journal.Schema, ID: "etcd-restore-1", Drill: "etcd-restore-quorum-loss", Fault: "etcd-restore",
		Step: "etcd data on nodes x deleted", ClusterCopy: false, Opened: time.Now()}
	if err := mirror.Put(ctx, etcd); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	outcomes, err := Recover(ctx, Input{Provider: fakeProvider{"drill"}, Clientset: cs, Store: store, Out: &out, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != 2 || outcomes[0].Recovered || outcomes[1].Recovered {
		t.Fatalf("outcomes = %+v", outcomes)
	}
	if n, _ := cs.CoreV1().Nodes().Get(ctx, "drill-worker2", metav1.GetOptions{}); !n.Spec.Unschedulable {
		t.Error("another cluster's journal was acted on")
	}
	for _, want := range []string{"it is cluster staging's", "only the disk journal counts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// make test deletes its cluster, and the next run creates one of the same
// name: a journal of the deleted one is closed, not reverted into the new.
func TestRecoverClosesTheJournalOfADeletedCluster(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(node("drill-worker2", true),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: "new-cluster"}})
	dir := t.TempDir()
	store := &journal.Store{Dir: filepath.Join(dir, "journal"), Mirror: journal.ConfigMaps{Clientset: cs}}
	e := drainJournal(t, "drain-zone-4", "drill", filepath.Join(dir, "run"), "drill-worker2")
	e.Cluster.UID = "old-cluster"
	j, err := store.Open(ctx, e, "node drill-worker2 cordoned", json.RawMessage(e.State))
	if err != nil {
		t.Fatal(err)
	}
	j.Abandon()
	var out bytes.Buffer
	outcomes, err := Recover(ctx, Input{Provider: fakeProvider{"drill"}, Clientset: cs, Store: store, Out: &out, Timeout: time.Minute})
	if err != nil || len(outcomes) != 1 || outcomes[0].Recovered {
		t.Fatalf("outcomes = %+v, %v\n%s", outcomes, err, out.String())
	}
	if n, _ := cs.CoreV1().Nodes().Get(ctx, "drill-worker2", metav1.GetOptions{}); !n.Spec.Unschedulable {
		t.Error("the deleted cluster's fault was reverted into the new cluster")
	}
	if open, _ := store.List(); len(open) != 0 {
		t.Errorf("the journal stays open: %v", open)
	}
	if !strings.Contains(out.String(), "closed without a revert: cluster drill was deleted and created again") {
		t.Errorf("output:\n%s", out.String())
	}
}
