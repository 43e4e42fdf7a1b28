// Package publish implements `drill publish`: put the runs kept on this
// machine, and the history of every run published, on a static site (a
// directory or an S3 bucket), through package publish.
package publish

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/publish"
	"github.com/drill-sre/drill/internal/runs"
)

type flagpole struct {
	To, Runs    string
	S3PathStyle bool
	DryRun      bool
}

// NewCommand returns the `publish` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Args:  cobra.NoArgs,
		Use:   "publish --to DEST",
		Short: "Publish the runs and their history as a static site (a directory or s3://BUCKET/PREFIX)",
		Long: `Publish the runs and their history as a static site.

DEST is a directory (one a web server serves, or the checkout of a GitHub
Pages or GitLab Pages branch) or s3://BUCKET/PREFIX. publish writes there:

  index.html, drill-NAME.html  the history of every run DEST holds, as
                               drill report --history builds it
  runs/<id>/                   each run of --runs: report.json (gathered
                               from its drills when drill report did not
                               run), report.html, report.md, report.prom,
                               summary.md, junit*.xml, drills/, phases/.
                               Not its journal/, artifacts/ (etcd
                               snapshots) or logs/
  runs/index.html              every run, newest first, linked to its report
  runs.json                    the manifest: the latest run, and every run
                               with its start, verdicts and files
  latest/index.html            a page that sends a browser on to the latest
                               run's report (a static host has no links)

Before building the history, publish reads the report.json of every run
DEST holds that --runs lacks, so that a job on a fresh machine publishes
the history of every run ever published, not only its own. It then writes
only what is new or changed (by content), the runs first and runs.json and
latest/ last, so that a reader never follows a link to a run not there yet.
It never deletes anything at DEST, and --runs is only read. With --dry-run
it lists what it would write, and writes nothing.

To S3, the credentials, region and endpoint come from the standard AWS
environment and files: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and
AWS_SESSION_TOKEN), or AWS_PROFILE, SSO or the instance's role; AWS_REGION
(default us-east-1); AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an
S3-compatible store, which usually also wants --s3-path-style. Objects get
their Content-Type (text/html; charset=utf-8, application/json,
image/svg+xml...), and the pages each publish rewrites Cache-Control:
no-cache. No credential is printed, even in an error.

A nightly job:

  drill runs fetch --from s3://drills/site      # optional: the history here
  drill report --history _output/runs --fail-on-regression
  drill publish --to s3://drills/site`,
		RunE: func(c *cobra.Command, _ []string) error {
			return runE(c.Context(), logger, streams, flags)
		},
	}
	c.Flags().StringVar(&flags.To, "to", "", "where to publish: a directory, or s3://BUCKET/PREFIX")
	c.Flags().StringVar(&flags.Runs, "runs", runs.DefaultRoot, "the runs directory to publish")
	c.Flags().BoolVar(&flags.S3PathStyle, "s3-path-style", false, "address the bucket as ENDPOINT/BUCKET (S3-compatible stores such as versitygw and MinIO want it)")
	c.Flags().BoolVar(&flags.DryRun, "dry-run", false, "list what would be written, and write nothing")
	_ = c.MarkFlagRequired("to")
	return c
}

func runE(ctx context.Context, logger log.Logger, streams cmd.IOStreams, flags *flagpole) error {
	if err := notTheRuns(flags.To, flags.Runs); err != nil {
		return err
	}
	store, err := publish.Open(ctx, flags.To, publish.Options{S3PathStyle: flags.S3PathStyle})
	if err != nil {
		return err
	}
	res, err := publish.Publish(ctx, publish.Input{Runs: flags.Runs, Store: store, DryRun: flags.DryRun, Logger: logger})
	if err != nil {
		return err
	}
	w := streams.Out
	if flags.DryRun {
		fmt.Fprintf(w, "Would write %d files to %s (%d unchanged):\n", len(res.Written), store, res.Unchanged)
		for _, k := range res.Written {
			fmt.Fprintf(w, "  %s\n", k)
		}
	} else {
		fmt.Fprintf(w, "Published to %s: %d files written, %d unchanged\n", store, len(res.Written), res.Unchanged)
	}
	fmt.Fprintf(w, "Runs: %d from %s, %d published earlier; latest %s\n", len(res.Local), flags.Runs, len(res.Fetched), res.Latest)
	fmt.Fprintf(w, "History: %d pages over %d runs\n", res.Pages, len(res.Local)+len(res.Fetched))
	if len(res.Skipped) > 0 {
		fmt.Fprintf(w, "Left out of the history, unreadable:\n  %s\n", strings.Join(res.Skipped, "\n  "))
	}
	return nil
}

// notTheRuns refuses to publish the runs directory into itself: the site's
// latest/ would go through the runs' latest link.
func notTheRuns(dest, runsDir string) error {
	a, errA := os.Stat(dest)
	b, errB := os.Stat(runsDir)
	if errA == nil && errB == nil && os.SameFile(a, b) {
		return fmt.Errorf("--to %s is the runs directory: publish to a directory of its own", dest)
	}
	return nil
}
