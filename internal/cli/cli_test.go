package cli

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"

	"sigs.k8s.io/kind/pkg/cmd"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/journal"
)

// TestRunPrintsErrorOnce checks that a failing command's error is printed
// exactly once, by Run, and no usage text with it.
func TestRunPrintsErrorOnce(t *testing.T) {
	var logs, out bytes.Buffer
	logger := cluster.NewWriterLogger(&logs, 0)
	err := Run(context.Background(), logger, cmd.IOStreams{Out: &out, ErrOut: &out}, []string{"cluster", "up", "--provider", "nope"})
	if err == nil {
		t.Fatal("want an error")
	}
	if n := strings.Count(logs.String(), "ERROR:"); n != 1 {
		t.Errorf("error printed %d times:\n%s", n, logs.String())
	}
	if out.Len() != 0 {
		t.Errorf("unexpected output on the streams:\n%s", out.String())
	}
}

func TestSecondSignalSaysWhatIsLeftInPlace(t *testing.T) {
	ctx := context.Background()
	store := &journal.Store{Dir: t.TempDir()}
	j, err := store.Open(ctx, journal.Entry{ID: "kill-1", Drill: "kill-control-plane-etcd-leader", Fault: "kill-control-plane",
		Target: "node drill-control-plane2 (etcd leader)"}, "node drill-control-plane2 killed", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := abandon(&out, syscall.SIGINT); code != 130 {
		t.Errorf("exit code %d, want 130", code)
	}
	for _, want := range []string{"WITHOUT reverting", "drill kill-control-plane-etcd-leader: fault kill-control-plane on node drill-control-plane2 (etcd leader)",
		`at step "node drill-control-plane2 killed"`, "journal kill-1 kept open", "drill recover"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if open, _ := store.List(); len(open) != 1 {
		t.Errorf("the journal must stay open for drill recover: %v", open)
	}
	if err := j.Close(ctx, "reverted", ""); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	abandon(&out, syscall.SIGHUP)
	if !strings.Contains(out.String(), "no fault is in effect") {
		t.Errorf("after the revert: %s", out.String())
	}
}
