// Package recover implements `drill recover`: revert the faults that a
// stopped harness left in place, from their journals.
package recover

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	clustercli "github.com/drill-sre/drill/internal/cli/cluster"
	"github.com/drill-sre/drill/internal/recovery"
)

type flags struct {
	clustercli.ProviderFlags
	JournalDir string
	Timeout    time.Duration
}

// NewCommand returns the `recover` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "recover",
		Short: "Revert the faults a stopped drill left in place, from their journals",
		Long: `Revert every fault whose journal is still open: a drill whose harness was
killed (SIGKILL, a dropped SSH session, a panic, a machine restart) before its
revert finished.

The journals are read from --journal-dir on this machine and from the
cluster's namespace drill-system, which lets another machine recover; the disk
journal wins when both exist. An etcd-restore fault is recovered from the disk
journal only: its restore rolls the cluster's copy back with the snapshot.

Each fault is reverted as its journal says it stood, the journal closed, and
the interrupted drill's report written with verdict error and the step where
the harness stopped. drill run and the suites do this on their own before
their first drill.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := f.Validate(c.Flags()); err != nil {
				return err
			}
			p, err := f.Build(logger)
			if err != nil {
				return err
			}
			in, done, err := recovery.Connect(c.Context(), p, f.JournalDir, logger)
			if err != nil {
				return err
			}
			defer done()
			in.Out, in.Timeout = streams.Out, f.Timeout
			outcomes, err := recovery.Recover(c.Context(), in)
			if err != nil {
				return err
			}
			n := 0
			for _, o := range outcomes {
				if o.Recovered {
					n++
				}
			}
			if n == 0 {
				fmt.Fprintf(streams.Out, "no open journal of cluster %s: nothing to recover\n", p.Name())
			}
			return nil
		},
	}
	f.AddFlags(c.Flags())
	c.Flags().StringVar(&f.JournalDir, "journal-dir", recovery.DefaultJournalDir, "where the journals of faults in effect are kept on this machine")
	c.Flags().DurationVar(&f.Timeout, "timeout", 15*time.Minute, "how long each fault's revert may take")
	return c
}
