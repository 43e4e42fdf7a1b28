package cluster

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
)

type logsFlags struct {
	ProviderFlags
	Dir string
}

func newLogsCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &logsFlags{}
	c := &cobra.Command{
		Use:   "logs",
		Short: "Export the nodes' logs (journal, kubelet, containerd, pods) for evidence",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := flags.Validate(c.Flags()); err != nil {
				return err
			}
			if flags.Dir == "" {
				return errors.New("--dir must not be empty")
			}
			return runLogs(c, logger, streams, flags)
		},
	}
	flags.AddFlags(c.Flags())
	c.Flags().StringVar(&flags.Dir, "dir", "_output/logs", "directory to write the logs under")
	return c
}

func runLogs(c *cobra.Command, logger log.Logger, streams cmd.IOStreams, flags *logsFlags) error {
	p, err := flags.Build(logger)
	if err != nil {
		return err
	}
	collector, ok := p.(cluster.LogCollector)
	if !ok {
		return fmt.Errorf("--provider %s cannot collect node logs of cluster %s", flags.Provider, p.Name())
	}
	if err := collector.CollectLogs(c.Context(), flags.Dir); err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "logs of cluster %s in %s\n", p.Name(), flags.Dir)
	return nil
}
