package cluster

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/guard"
)

type statusFlags struct {
	ProviderFlags
}

func newStatusCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &statusFlags{}
	c := &cobra.Command{
		Use:   "status",
		Short: "List the cluster's nodes with their role, zone and readiness",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := flags.Validate(c.Flags()); err != nil {
				return err
			}
			return runStatus(c, logger, streams, flags)
		},
	}
	flags.AddFlags(c.Flags())
	return c
}

func runStatus(c *cobra.Command, logger log.Logger, streams cmd.IOStreams, flags *statusFlags) error {
	p, err := flags.Build(logger)
	if err != nil {
		return err
	}
	nodes, err := p.Nodes(c.Context())
	if err != nil {
		return err
	}
	if err := printNodes(streams.Out, nodes); err != nil {
		return err
	}
	cs, err := cluster.Clientset(p)
	if err != nil {
		return err
	}
	m, err := guard.Read(c.Context(), cs)
	switch {
	case errors.Is(err, guard.ErrNotOptedIn):
		fmt.Fprintf(streams.Out, "\ndrill: NOT opted in; every drill is refused (drill cluster opt-in)\n")
	case err != nil:
		return err
	default:
		fmt.Fprintf(streams.Out, "\ndrill: %s\n", m)
	}
	return nil
}

// printNodes writes nodes as a table.
func printNodes(w io.Writer, nodes []cluster.Node) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tZONE\tREADY\tCONTAINER")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", n.Name, n.Role, orNone(n.Zone), n.Ready, orNone(n.Container))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print nodes: %w", err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
