// Package validate implements `drill validate`: check drill files strictly,
// without a cluster.
package validate

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	_ "github.com/drill-sre/drill/internal/faults" // registers the fault types drill files name
	"github.com/drill-sre/drill/scenarios"
)

// NewCommand returns the `validate` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE|DIR]...",
		Short: "Check drill files strictly, without a cluster",
		Long: `Check drill files strictly, without a cluster.

Each argument is a drill file, or a directory whose *.yaml files are drills.
Without arguments, the drills built into drill are checked. Each valid drill
is listed as "ok  FILE  NAME (FAULT)"; every problem is reported with its file,
line and column, field path and reason, and the command fails.`,
		RunE: func(_ *cobra.Command, args []string) error {
			return runE(logger, streams, args)
		},
	}
}

func runE(logger log.Logger, streams cmd.IOStreams, args []string) error {
	var (
		scs []*scenarios.Scenario
		err error
	)
	if len(args) == 0 {
		logger.V(1).Info("Checking the drills built into drill")
		scs, err = scenarios.Shipped()
	} else {
		scs, err = scenarios.LoadPaths(args...)
	}
	if perr := printValid(streams.Out, scs); perr != nil {
		return perr
	}
	var list scenarios.ErrorList
	if !errors.As(err, &list) {
		return err
	}
	invalid := len(list.Files())
	return fmt.Errorf("%d of %d drill files invalid:\n%w", invalid, invalid+len(scs), err)
}

// printValid lists the valid drills, one a line.
func printValid(w io.Writer, scs []*scenarios.Scenario) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range scs {
		fmt.Fprintf(tw, "ok\t%s\t%s (%s)\n", s.File, s.Name, s.Fault.Type)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print drills: %w", err)
	}
	return nil
}
