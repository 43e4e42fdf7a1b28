// Package cleanup implements `drill cleanup`: list and remove everything
// drill created in a cluster.
package cleanup

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cleanup"
	clustercli "github.com/drill-sre/drill/internal/cli/cluster"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/kube"
	"github.com/drill-sre/drill/internal/recovery"
)

type flags struct {
	clustercli.ProviderFlags
	JournalDir string
	Timeout    time.Duration
	List       bool
}

// NewCommand returns the `cleanup` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "cleanup",
		Short: "List and remove everything drill created in the cluster",
		Long: `List every object drill created in the cluster (labelled
app.kubernetes.io/managed-by=drill: the drills' namespaces, the monitoring
stack, the S3 store, Velero and its backups, the journals' copies, the
CoreDNS PodDisruptionBudget), then remove it: Velero's backups, schedules
and restores first, while Velero still runs, then drill's namespaces with all
they hold, then the rest, CustomResourceDefinitions last. --list only lists.

The cluster's opt-in (kube-system/drill-opt-in) is not drill's but the
person's who gave it, and stays: drill cluster opt-out takes it back.
cleanup refuses while a fault is in effect (an open journal): run drill
recover first, since the revert may need what cleanup would remove.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := f.ValidateNamed(c.Flags()); err != nil {
				return err
			}
			return runE(c, logger, streams, f)
		},
	}
	f.AddFlags(c.Flags())
	c.Flags().StringVar(&f.JournalDir, "journal-dir", recovery.DefaultJournalDir, "where the journals of faults in effect are kept on this machine")
	c.Flags().DurationVar(&f.Timeout, "timeout", 5*time.Minute, "how long to wait for each stage of the removal")
	c.Flags().BoolVar(&f.List, "list", false, "only list what drill created")
	return c
}

func runE(c *cobra.Command, logger log.Logger, streams cmd.IOStreams, f *flags) error {
	ctx := c.Context()
	p, err := f.Build(logger)
	if err != nil {
		return err
	}
	cfg, err := cluster.RESTConfig(p.Kubeconfig())
	if err != nil {
		return err
	}
	// Listing every resource reaches deprecated ones (v1 Endpoints): their
	// warnings are no news to the user.
	cfg.WarningHandlerWithContext = &kube.Warnings{Say: func(m string) { logger.V(1).Infof("API server warning: %s", m) }}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client for cluster %s: %w", p.Name(), err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client for cluster %s: %w", p.Name(), err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client for cluster %s: %w", p.Name(), err)
	}
	if !f.List {
		open, _, _, _, err := recovery.Open(ctx, recovery.Input{Provider: p, Clientset: cs,
			Store: &journal.Store{Dir: f.JournalDir, Mirror: journal.ConfigMaps{Clientset: cs}}})
		if err != nil {
			return fmt.Errorf("cluster %s: read the open journals: %w", p.Name(), err)
		}
		if len(open) > 0 {
			var ids []string
			for _, o := range open {
				ids = append(ids, fmt.Sprintf("%s (drill %s, fault %s)", o.Journal.ID, o.Journal.Drill, o.Journal.Fault))
			}
			return fmt.Errorf("cluster %s: a fault is still in effect, journal %s: run drill recover first; its revert may need what cleanup would remove",
				p.Name(), strings.Join(ids, ", "))
		}
	}
	objs, warnings, err := cleanup.Find(ctx, disc, dyn)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", p.Name(), err)
	}
	for _, w := range warnings {
		logger.Warnf("%s", w)
	}
	if len(objs) == 0 {
		fmt.Fprintf(streams.Out, "cluster %s: nothing drill created\n", p.Name())
		return nil
	}
	fmt.Fprintf(streams.Out, "cluster %s: %d objects drill created:\n", p.Name(), len(objs))
	for _, o := range objs {
		fmt.Fprintf(streams.Out, "  %s\n", o)
	}
	if f.List {
		return nil
	}
	start := time.Now()
	if err := cleanup.Remove(ctx, dyn, objs, f.Timeout, func(s string) { logger.V(0).Infof("%s", s) }); err != nil {
		return fmt.Errorf("cluster %s: %w", p.Name(), err)
	}
	fmt.Fprintf(streams.Out, "cluster %s: removed what drill created (%s)\n", p.Name(), time.Since(start).Round(100*time.Millisecond))
	return nil
}
