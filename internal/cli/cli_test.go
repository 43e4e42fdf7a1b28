package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/cmd"

	"github.com/drill-sre/drill/internal/cluster"
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
