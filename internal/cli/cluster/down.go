package cluster

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
)

type downFlags struct {
	ProviderFlags
}

func newDownCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &downFlags{}
	c := &cobra.Command{
		Use:   "down",
		Short: "Delete the cluster and its containers",
		Long: `Deletes the kind cluster: its node containers, its load balancer and its
context in --kubeconfig. Deleting a cluster that does not exist succeeds.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := flags.Validate(c.Flags()); err != nil {
				return err
			}
			return runDown(c, logger, streams, flags)
		},
	}
	flags.AddFlags(c.Flags())
	return c
}

func runDown(c *cobra.Command, logger log.Logger, _ cmd.IOStreams, flags *downFlags) error {
	p, err := flags.Build(logger)
	if err != nil {
		return err
	}
	d, ok := p.(cluster.Deleter)
	if !ok {
		return fmt.Errorf("--provider %s cannot delete cluster %s: drill only deletes clusters it creates", flags.Provider, p.Name())
	}
	return d.Delete(c.Context())
}
