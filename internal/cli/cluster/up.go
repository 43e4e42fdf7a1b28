package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/timing"
	"github.com/drill-sre/drill/reports"
)

type upFlags struct {
	ProviderFlags
	Retain    bool
	ReportDir string
}

func newUpCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &upFlags{}
	c := &cobra.Command{
		Use:   "up",
		Short: "Create the cluster, or reuse it, and wait until it is ready",
		Long: `Creates the kind cluster from --config, or reuses the cluster of that name if it
exists, writes its kubeconfig to --kubeconfig, waits until every node is Ready
and spreads CoreDNS over the zones. With --provider existing, only checks that
the cluster answers and its nodes are Ready.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := flags.Validate(c.Flags()); err != nil {
				return err
			}
			return runUp(c, logger, streams, flags)
		},
	}
	flags.AddFlags(c.Flags())
	c.Flags().BoolVar(&flags.Retain, "retain", false, "keep the node containers if creation fails, for debugging")
	c.Flags().StringVar(&flags.ReportDir, "report-dir", "", "a run's report directory: the time bringing the cluster up took is recorded in DIR/phases, for drill report's breakdown")
	return c
}

func runUp(c *cobra.Command, logger log.Logger, _ cmd.IOStreams, flags *upFlags) error {
	p, err := flags.Build(logger, cluster.KindWithRetain(flags.Retain))
	if err != nil {
		return err
	}
	if flags.ReportDir == "" {
		_, err = p.Up(c.Context())
		return err
	}
	rec := timing.NewRecorder()
	_, err = p.Up(timing.WithRecorder(c.Context(), rec))
	if werr := reports.WritePhases(flags.ReportDir, fmt.Sprintf("cluster-up-%d", time.Now().UnixNano()), rec.Phases()); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}
