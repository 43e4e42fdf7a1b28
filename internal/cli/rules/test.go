package rules

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/rules"
)

func newTestCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE|DIR...",
		Short: "Run rule unit-test files (promtool's test rules format)",
		Long: `Run rule unit-test files, in the format of promtool test rules, without a
cluster: input series in promqltest's notation, evaluated with Prometheus'
own PromQL engine and rule manager, step by step up to each eval_time.

Each argument is a test file, or a directory whose *.yaml files are. Each
file is reported as PASS or FAIL; each failed assertion follows, with the
expected and actual alerts or samples as a diff (-expected +got). The command
fails if any file fails.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			files, err := expand(args)
			if err != nil {
				return err
			}
			failed := 0
			for _, f := range files {
				logger.V(1).Infof("Running rule tests %s", f)
				res, err := rules.RunFile(c.Context(), f)
				if err != nil && c.Context().Err() != nil {
					return c.Context().Err()
				}
				if err != nil || res.Failed() {
					failed++
				}
				if perr := printResult(streams.Out, f, res, err); perr != nil {
					return perr
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d rule test files failed", failed, len(files))
			}
			return nil
		},
	}
}

// printResult writes one file's verdict, then its failures, indented. A
// file that could not run has its error instead.
func printResult(w io.Writer, file string, res *rules.Result, runErr error) error {
	var b strings.Builder
	switch {
	case runErr != nil:
		fmt.Fprintf(&b, "FAIL  %s  (did not run)\n%s\n", file, indent(runErr.Error()))
	case res.Failed():
		var failedTests, assertions int
		for _, t := range res.Tests {
			assertions += t.Assertions
			if len(t.Failures) > 0 {
				failedTests++
			}
		}
		fmt.Fprintf(&b, "FAIL  %s  (%d of %s failed, %s in %s)\n", file, failedTests, plural(len(res.Tests), "test"),
			plural(len(res.Failures()), "failure"), plural(assertions, "assertion"))
		for _, f := range res.Failures() {
			b.WriteString(indent(f.Error()) + "\n")
		}
	default:
		assertions := 0
		for _, t := range res.Tests {
			assertions += t.Assertions
		}
		fmt.Fprintf(&b, "PASS  %s  (%s, %s)\n", file, plural(len(res.Tests), "test"), plural(assertions, "assertion"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("print results: %w", err)
	}
	return nil
}

// indent indents every line of s by two spaces.
func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
