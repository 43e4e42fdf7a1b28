package cluster

import (
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/guard"
)

type optInFlags struct {
	ProviderFlags
	Namespaces []string
}

func newOptInCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	f := &optInFlags{}
	c := &cobra.Command{
		Use:   "opt-in",
		Short: "Let drill inject faults into the cluster (once per cluster)",
		Long: fmt.Sprintf(`Opt the cluster in to drill: write the ConfigMap %s/%s that drill
checks before every drill and without which it refuses to inject any fault.
A kind cluster that drill creates carries it from the start; run this once
for any other cluster whose owners agreed to game days, naming its context:

  drill cluster opt-in --provider existing --kubeconfig ~/.kube/config --context staging

Workload faults (crashloop-pods) act only in the namespaces drill creates,
and in those listed with --namespace (never the system's own). Running it
again replaces the list. drill cluster opt-out takes the opt-in back.`, guard.MarkerNamespace, guard.MarkerName),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := f.ValidateNamed(c.Flags()); err != nil {
				return err
			}
			if err := guard.ValidateNamespaces(f.Namespaces); err != nil {
				return fmt.Errorf("--namespace %w", err)
			}
			p, cs, err := f.clientset(logger)
			if err != nil {
				return err
			}
			m := guard.Marker{Namespaces: f.Namespaces, By: whoAmI(), At: time.Now()}
			if err := guard.OptIn(c.Context(), cs, m); err != nil {
				return fmt.Errorf("cluster %s: %w", p.Name(), err)
			}
			fmt.Fprintf(streams.Out, "cluster %s: %s\n", p.Name(), m)
			return nil
		},
	}
	f.AddFlags(c.Flags())
	c.Flags().StringSliceVar(&f.Namespaces, "namespace", nil, "a namespace whose workloads faults may target besides the ones drill creates (repeatable)")
	return c
}

func newOptOutCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	f := &ProviderFlags{}
	c := &cobra.Command{
		Use:   "opt-out",
		Short: "Take the cluster's opt-in back: drill refuses every drill there",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := f.ValidateNamed(c.Flags()); err != nil {
				return err
			}
			p, cs, err := f.clientset(logger)
			if err != nil {
				return err
			}
			removed, err := guard.OptOut(c.Context(), cs)
			if err != nil {
				return fmt.Errorf("cluster %s: %w", p.Name(), err)
			}
			if removed {
				fmt.Fprintf(streams.Out, "cluster %s: opted out; drill refuses every drill there\n", p.Name())
			} else {
				fmt.Fprintf(streams.Out, "cluster %s: had not opted in; nothing changed\n", p.Name())
			}
			return nil
		},
	}
	f.AddFlags(c.Flags())
	return c
}

// ValidateNamed is Validate for a verb that changes what drill may do to a
// cluster: an existing cluster's context must be named with --context, never
// taken from the kubeconfig's current context.
func (f *ProviderFlags) ValidateNamed(fs *pflag.FlagSet) error {
	if err := f.Validate(fs); err != nil {
		return err
	}
	if f.Provider == providerExisting {
		return guard.RequireContext(f.Kubeconfig, f.Context, "--context")
	}
	return nil
}

// whoAmI names the person opting a cluster in, as user@host.
func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if host, err := os.Hostname(); err == nil {
		name += "@" + host
	}
	return name + " (drill cluster opt-in)"
}

// clientset builds the provider the flags select and a client of its
// cluster.
func (f *ProviderFlags) clientset(logger log.Logger) (cluster.Provider, kubernetes.Interface, error) {
	p, err := f.Build(logger)
	if err != nil {
		return nil, nil, err
	}
	cs, err := cluster.Clientset(p)
	if err != nil {
		return nil, nil, err
	}
	return p, cs, nil
}
