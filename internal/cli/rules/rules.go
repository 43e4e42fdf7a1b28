// Package rules implements `drill rules`: check Prometheus rule files and
// run their unit tests offline, as promtool's `check rules` and `test rules`
// do, without a cluster.
package rules

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"
)

// NewCommand returns the `rules` command and its verbs.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "rules",
		Short: "Check Prometheus rule files and run their unit tests, without a cluster",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newTestCommand(logger, streams))
	c.AddCommand(newCheckCommand(logger, streams))
	return c
}

// expand replaces each directory of args with its *.yaml files, in name
// order; files stay as they are.
func expand(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			files = append(files, a) // a missing file is reported by its loader
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no *.yaml files", a)
		}
		files = append(files, m...)
	}
	return files, nil
}
