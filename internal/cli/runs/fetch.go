package runs

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/publish"
)

type fetchFlags struct {
	From        string
	S3PathStyle bool
}

// fetchCommand returns `runs fetch`; root is the --root flag's value.
func fetchCommand(logger log.Logger, streams cmd.IOStreams, root *string) *cobra.Command {
	flags := &fetchFlags{}
	c := &cobra.Command{
		Args:  cobra.NoArgs,
		Use:   "fetch --from DEST",
		Short: "Fetch the runs published at DEST (drill publish) that --root lacks",
		Long: `Fetch the runs published at DEST that --root lacks.

DEST is where drill publish put them: a directory, or s3://BUCKET/PREFIX
(credentials, region and endpoint from the standard AWS environment, as
for drill publish). For every run published there that --root has no
directory of, fetch writes ROOT/<id>/report.json: enough for drill report
--history ROOT to build the history of every run ever published, for
example to fail a nightly job on a regression (--fail-on-regression)
before publishing its own run. A run's other files (report.html, JUnit...)
stay at DEST. Nothing under --root is changed or removed, and latest is
not moved. A published report that cannot be read is left out and said.

drill publish reads the same reports by itself: fetch is for what runs
between the two.`,
		RunE: func(c *cobra.Command, _ []string) error {
			store, err := publish.Open(c.Context(), flags.From, publish.Options{S3PathStyle: flags.S3PathStyle})
			if err != nil {
				return err
			}
			res, err := publish.Fetch(c.Context(), publish.FetchInput{Store: store, Runs: *root, Logger: logger})
			if err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "Fetched %d runs from %s into %s (%d there already)\n", len(res.Fetched), store, *root, len(res.Present))
			if len(res.Skipped) > 0 {
				fmt.Fprintf(streams.Out, "Left out, unreadable:\n  %s\n", strings.Join(res.Skipped, "\n  "))
			}
			return nil
		},
	}
	c.Flags().StringVar(&flags.From, "from", "", "where the runs are published: a directory, or s3://BUCKET/PREFIX")
	c.Flags().BoolVar(&flags.S3PathStyle, "s3-path-style", false, "address the bucket as ENDPOINT/BUCKET (S3-compatible stores such as versitygw and MinIO want it)")
	_ = c.MarkFlagRequired("from")
	return c
}
