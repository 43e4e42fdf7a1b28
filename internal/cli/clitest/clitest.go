// Package clitest runs drill's commands in tests.
package clitest

import (
	"bytes"
	"context"
	"testing"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"
)

// Run executes the command newCommand builds with args, silenced as the root
// command silences it, and returns what it printed on stdout. Anything on
// stderr fails the test.
func Run(t *testing.T, newCommand func(log.Logger, cmd.IOStreams) *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := newCommand(log.NoopLogger{}, cmd.IOStreams{Out: &out, ErrOut: &errOut})
	c.SetArgs(args)
	c.SilenceErrors, c.SilenceUsage = true, true
	err := c.ExecuteContext(context.Background())
	if errOut.Len() > 0 {
		t.Errorf("unexpected output on stderr:\n%s", errOut.String())
	}
	return out.String(), err
}
