// Package cluster implements `drill cluster`: bring the drill cluster up,
// show its nodes, export their logs, tear it down.
package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
)

// NewCommand returns the `cluster` command and its verbs.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Manage the cluster drills run against",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newUpCommand(logger, streams))
	c.AddCommand(newDownCommand(logger, streams))
	c.AddCommand(newStatusCommand(logger, streams))
	c.AddCommand(newLogsCommand(logger, streams))
	c.AddCommand(newOptInCommand(logger, streams))
	c.AddCommand(newOptOutCommand(logger, streams))
	return c
}

// Provider names accepted by --provider.
const (
	providerKind     = "kind"
	providerExisting = "existing"
)

// ProviderFlags select and configure the cluster provider; every verb that
// reaches a cluster has them.
type ProviderFlags struct {
	Provider   string
	Name       string
	Config     string
	Kubeconfig string
	Context    string
	Wait       time.Duration
}

func (f *ProviderFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Provider, "provider", providerKind,
		`cluster provider: "kind" (a local kind cluster drill creates) or "existing" (a cluster reached with --kubeconfig and --context)`)
	fs.StringVar(&f.Name, "name", cluster.DefaultName, "kind cluster name")
	fs.StringVar(&f.Config, "config", cluster.DefaultKindConfig, "kind cluster config file")
	fs.StringVar(&f.Kubeconfig, "kubeconfig", cluster.DefaultKubeconfig,
		"kubeconfig file: written for kind clusters, read for existing ones")
	fs.StringVar(&f.Context, "context", "", "kubeconfig context of an existing cluster; drills, opt-in and opt-out need it named, other verbs default to the file's current context")
	fs.DurationVar(&f.Wait, "wait", cluster.DefaultWait, "how long to wait for nodes and system pods to be ready")
}

// Validate checks the flags' combination; fs tells which were set.
func (f *ProviderFlags) Validate(fs *pflag.FlagSet) error {
	if f.Wait <= 0 {
		return fmt.Errorf("--wait must be positive, got %s", f.Wait)
	}
	switch f.Provider {
	case providerKind:
		if fs.Changed("context") {
			return errors.New("--context applies to --provider existing; a kind cluster's context is kind-<name>")
		}
		if f.Name == "" {
			return errors.New("--name must not be empty")
		}
		if f.Config == "" {
			return errors.New("--config must not be empty")
		}
		if f.Kubeconfig == "" {
			return errors.New("--kubeconfig must not be empty")
		}
	case providerExisting:
		for _, name := range []string{"name", "config", "retain"} {
			if fs.Lookup(name) != nil && fs.Changed(name) {
				return fmt.Errorf("--%s applies to --provider kind, not existing", name)
			}
		}
		if !fs.Changed("kubeconfig") || f.Kubeconfig == "" {
			return errors.New("--provider existing needs --kubeconfig (and --context unless the file's current context is the cluster)")
		}
	default:
		return fmt.Errorf("--provider %q: want %q or %q", f.Provider, providerKind, providerExisting)
	}
	return nil
}

// Build builds the provider the flags select. opts only apply to kind.
func (f *ProviderFlags) Build(logger log.Logger, opts ...cluster.KindOption) (cluster.Provider, error) {
	if f.Provider == providerExisting {
		return cluster.NewExisting(f.Kubeconfig, f.Context, f.Wait, logger)
	}
	opts = append([]cluster.KindOption{
		cluster.KindWithConfig(f.Config),
		cluster.KindWithKubeconfig(f.Kubeconfig),
		cluster.KindWithWait(f.Wait),
		cluster.KindWithLogger(logger),
	}, opts...)
	return cluster.NewKind(f.Name, opts...)
}
