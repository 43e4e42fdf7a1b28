// Package runs implements `drill runs`: the directories where runs keep
// their evidence side by side.
package runs

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/runs"
)

// NewCommand returns the `runs` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	var root string
	c := &cobra.Command{
		Use:   "runs",
		Short: "The run directories: one per run, side by side, latest linked",
		Args:  cobra.NoArgs,
	}
	c.PersistentFlags().StringVar(&root, "root", runs.DefaultRoot, "where runs are kept")
	c.AddCommand(fetchCommand(logger, streams, &root))
	c.AddCommand(&cobra.Command{
		Use:   "new",
		Short: "Create the directory of a run starting now, point latest at it, and print its path",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := runs.New(root, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(streams.Out, dir)
			return nil
		},
	})
	return c
}
