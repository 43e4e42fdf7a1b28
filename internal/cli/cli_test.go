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

// TestUnknownCommand checks that a mistyped command fails, at every level,
// naming the closest commands, and that a command that only groups others
// still prints its help when given nothing.
func TestUnknownCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string // the error; "" for none
	}{
		{[]string{"vaildate"}, `unknown command "vaildate" for "drill" (did you mean validate?); see 'drill --help'`},
		{[]string{"rn"}, `unknown command "rn" for "drill" (did you mean run or runs?); see 'drill --help'`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "drill"; see 'drill --help'`},
		{[]string{"cluster", "upp"}, `unknown command "upp" for "drill cluster" (did you mean up?); see 'drill cluster --help'`},
		{[]string{"cluster", "stauts"}, `unknown command "stauts" for "drill cluster" (did you mean status?); see 'drill cluster --help'`},
		{[]string{"runs", "--root", "x", "nwe"}, `unknown command "nwe" for "drill runs" (did you mean new?); see 'drill runs --help'`},
		{[]string{"rules", "chek"}, `unknown command "chek" for "drill rules" (did you mean check?); see 'drill rules --help'`},
		{[]string{"completion", "bahs"}, `unknown command "bahs" for "drill completion" (did you mean bash?); see 'drill completion --help'`},
		{[]string{"runs", "new", "extra"}, `unknown command "extra" for "drill runs new"`},
		{[]string{"help", "vaildate"}, `unknown command "vaildate" for "drill" (did you mean validate?); see 'drill --help'`},
		{[]string{"help", "cluster", "upp"}, `unknown command "upp" for "drill cluster" (did you mean up?); see 'drill cluster --help'`},
		{[]string{"help", "validate", "x"}, `unknown command "x" for "drill validate"; see 'drill validate --help'`},
		{[]string{"help"}, ""},
		{[]string{"help", "cluster"}, ""},
		{nil, ""},
		{[]string{"cluster"}, ""},
		{[]string{"runs", "--help"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var logs, out bytes.Buffer
			err := Run(context.Background(), cluster.NewWriterLogger(&logs, 0), cmd.IOStreams{Out: &out, ErrOut: &out}, tt.args)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if !strings.Contains(out.String(), "Available Commands:") {
					t.Errorf("no help printed:\n%s", out.String())
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got error\n  %v\nwant\n  %s", err, tt.want)
			}
			if !strings.Contains(logs.String(), "ERROR: "+tt.want) {
				t.Errorf("error not printed:\n%s", logs.String())
			}
			if out.Len() != 0 {
				t.Errorf("help printed with the error:\n%s", out.String())
			}
		})
	}
}
