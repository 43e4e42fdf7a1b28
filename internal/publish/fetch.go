package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"sigs.k8s.io/kind/pkg/log"
)

// FetchInput is what Fetch fetches, from where, to where.
type FetchInput struct {
	Store Store
	// Runs is the runs directory to fetch into; it is created if need be.
	Runs string
	// Parallel is how many reports are downloaded at once; 0 means
	// DefaultParallel.
	Parallel int
	Logger   log.Logger
}

// FetchResult is what Fetch did.
type FetchResult struct {
	// Fetched are the runs fetched; Present those the runs directory
	// already had (a directory of that name, which is left as it is).
	Fetched, Present []string
	// Skipped says, one line each, which runs could not be read.
	Skipped []string
}

// Fetch copies into in.Runs the report.json of every run the site in
// in.Store holds that in.Runs lacks, as <id>/report.json: enough for
// drill report --history to build the whole history, and for drill
// publish to find them local. A run's other files stay on the site.
// Nothing of in.Runs is changed or removed; the latest link is not moved.
func Fetch(ctx context.Context, in FetchInput) (FetchResult, error) {
	var res FetchResult
	if in.Store == nil || in.Runs == "" {
		return res, errors.New("fetch: a site and a runs directory are needed")
	}
	logger := in.Logger
	if logger == nil {
		logger = log.NoopLogger{}
	}
	remote, err := in.Store.List(ctx)
	if err != nil {
		return res, fmt.Errorf("fetch from %s: %w", in.Store, err)
	}
	var missing []string
	for key := range remote {
		id, ok := runReportID(key)
		if !ok {
			continue
		}
		switch _, err := os.Lstat(filepath.Join(in.Runs, id)); {
		case err == nil:
			res.Present = append(res.Present, id)
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, id)
		default:
			return res, fmt.Errorf("fetch: %w", err)
		}
	}
	sort.Strings(res.Present)
	sort.Strings(missing)
	if err := os.MkdirAll(in.Runs, 0o755); err != nil {
		return res, fmt.Errorf("fetch: %w", err)
	}
	res.Fetched, res.Skipped, err = fetchReports(ctx, in.Store, missing, in.Runs, in.Parallel, logger)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return res, fmt.Errorf("fetch from %s: %w", in.Store, err)
	}
	return res, nil
}
