package rules

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/rules"
)

func newCheckCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE|DIR...",
		Short: "Check Prometheus rule files, as promtool check rules does",
		Long: `Check Prometheus rule files as Prometheus does when it loads them: strict
YAML, PromQL expressions, durations, templates, label names, repeated groups.

Each argument is a rule file, or a directory whose *.yaml files are. Each
valid file is listed as "ok  FILE  N rules in M groups"; every problem is
reported with its file, line, group, rule and reason, and the command fails.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			files, err := expand(args)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(streams.Out, 0, 0, 2, ' ', 0)
			var errs []error
			for _, f := range files {
				logger.V(1).Infof("Checking rule file %s", f)
				rgs, err := rules.Load(f)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				n := 0
				for _, g := range rgs.Groups {
					n += len(g.Rules)
				}
				fmt.Fprintf(tw, "ok\t%s\t%s in %s\n", f, plural(n, "rule"), plural(len(rgs.Groups), "group"))
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("print rule files: %w", err)
			}
			if len(errs) > 0 {
				return fmt.Errorf("%d of %d rule files invalid:\n%w", len(errs), len(files), errors.Join(errs...))
			}
			return nil
		},
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
