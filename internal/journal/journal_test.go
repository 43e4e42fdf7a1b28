package journal

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

type state struct {
	Node string `json:"node"`
	IP   string `json:"ip"`
}

func TestJournalLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cs := fake.NewClientset()
	s := &Store{Dir: filepath.Join(dir, "journal"), Mirror: ConfigMaps{Clientset: cs}}
	id := NewID("Kill_Control-Plane", time.Date(2026, 12, 7, 1, 2, 3, 4e6, time.UTC))
	if id != "kill-control-plane-20261207t010203004" {
		t.Fatalf("NewID = %q", id)
	}
	j, err := s.Open(ctx, Entry{ID: id, Drill: "kill", Fault: "kill-control-plane", ClusterCopy: true}, "target resolved", state{Node: "cp2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Step(ctx, "node killed", state{Node: "cp2", IP: "172.18.0.3"}); err != nil {
		t.Fatal(err)
	}
	// On disk before Step returned, with mode 0600.
	fi, err := os.Stat(s.Path(id))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}
	open, err := s.List()
	if err != nil || len(open) != 1 {
		t.Fatalf("List = %v, %v; want one open journal", open, err)
	}
	e := open[0]
	if e.Step != "node killed" || len(e.Steps) != 2 || e.Schema != Schema || e.PID != os.Getpid() {
		t.Errorf("entry on disk = %+v", e)
	}
	var st state
	if err := json.Unmarshal(e.State, &st); err != nil || st.IP != "172.18.0.3" {
		t.Errorf("state = %s (%v)", e.State, err)
	}
	// The cluster's copy follows.
	j.mirror.flush(5 * time.Second)
	copies, err := s.Mirror.List(ctx)
	if err != nil || len(copies) != 1 || copies[0].Step != "node killed" {
		t.Fatalf("cluster copies = %+v, %v", copies, err)
	}

	keep := filepath.Join(dir, "run")
	if err := j.Close(ctx, "reverted", keep); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.List(); len(open) != 0 {
		t.Errorf("after Close, open journals = %v", open)
	}
	if copies, _ := s.Mirror.List(ctx); len(copies) != 0 {
		t.Errorf("after Close, cluster copies = %v", copies)
	}
	kept, err := ReadFile(filepath.Join(keep, "journal", id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if kept.IsOpen() || kept.Outcome != "reverted" {
		t.Errorf("kept journal = %+v", kept)
	}
	if err := j.Step(ctx, "late", nil); err == nil {
		t.Error("a step after Close succeeded")
	}
}

func TestNoClusterCopyWhenTheFaultForbidsIt(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	s := &Store{Dir: t.TempDir(), Mirror: ConfigMaps{Clientset: cs}}
	j, err := s.Open(ctx, Entry{ID: "etcd-restore-1", ClusterCopy: false}, "target resolved", nil)
	if err != nil {
		t.Fatal(err)
	}
	if j.mirror != nil {
		t.Fatal("a mirror runs for a journal without a cluster copy")
	}
	if copies, _ := s.Mirror.List(ctx); len(copies) != 0 {
		t.Errorf("cluster copies = %v", copies)
	}
	j.Abandon()
	if open, _ := s.List(); len(open) != 1 {
		t.Errorf("an abandoned journal must stay open: %v", open)
	}
}

func TestListReportsUnreadableFiles(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.Dir, "bad.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := s.Open(context.Background(), Entry{ID: "good-1"}, "target resolved", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Abandon()
	open, err := s.List()
	if err == nil {
		t.Error("an unreadable journal file gave no error")
	}
	if len(open) != 1 || open[0].ID != "good-1" {
		t.Errorf("List = %v", open)
	}
}

func TestKillAtMatchesWholeStepNames(t *testing.T) {
	t.Setenv(KillAtEnv, "etcd member .* removed")
	for step, want := range map[string]bool{
		"etcd member drill-control-plane2 removed":        true,
		"removing etcd member drill-control-plane2 (abc)": false,
		"etcd member drill-control-plane2 removed again":  false,
	} {
		if got := killAt(step); got != want {
			t.Errorf("killAt(%q) = %v, want %v", step, got, want)
		}
	}
	t.Setenv(KillAtEnv, "")
	if killAt("injected") {
		t.Error("killAt with the switch unset")
	}
}
