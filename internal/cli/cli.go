// Package cli is drill's command line: the root command, its verbs, and the
// one place where errors are printed.
package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/exec"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cli/cluster"
	"github.com/drill-sre/drill/internal/cli/probe"
	"github.com/drill-sre/drill/internal/cli/report"
	"github.com/drill-sre/drill/internal/cli/rules"
	"github.com/drill-sre/drill/internal/cli/run"
	"github.com/drill-sre/drill/internal/cli/validate"
)

// Main runs drill with the process's arguments and returns its exit code.
// An interrupt or SIGTERM cancels the running command's context, which
// lets it clean up; a second one kills drill.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, the next one kills: the default handler
		// is back.
		<-ctx.Done()
		stop()
	}()
	if err := Run(ctx, cmd.NewLogger(), cmd.StandardIOStreams(), os.Args[1:]); err != nil {
		return 1
	}
	return 0
}

// Run runs drill with args. Progress goes to logger, results to streams.Out.
// A failure is printed once, here, and returned.
func Run(ctx context.Context, logger log.Logger, streams cmd.IOStreams, args []string) error {
	c := NewCommand(logger, streams)
	c.SetArgs(args)
	if err := c.ExecuteContext(ctx); err != nil {
		logger.Errorf("ERROR: %v", err)
		// kind carries the output of a failed command inside its error.
		if runErr := exec.RunErrorForError(err); runErr != nil && len(runErr.Output) > 0 {
			logger.Errorf("Command output:\n%s", runErr.Output)
		}
		return err
	}
	return nil
}

// NewCommand returns drill's root command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:           "drill",
		Short:         "drill runs chaos and disaster-recovery drills against Kubernetes",
		Args:          cobra.NoArgs,
		SilenceErrors: true, // Run prints errors once
		SilenceUsage:  true,
	}
	c.SetIn(streams.In)
	c.SetOut(streams.Out)
	c.SetErr(streams.ErrOut)
	c.AddCommand(cluster.NewCommand(logger, streams))
	c.AddCommand(validate.NewCommand(logger, streams))
	c.AddCommand(probe.NewCommand(logger, streams))
	c.AddCommand(run.NewCommand(logger, streams))
	c.AddCommand(report.NewCommand(logger, streams))
	c.AddCommand(rules.NewCommand(logger, streams))
	return c
}
