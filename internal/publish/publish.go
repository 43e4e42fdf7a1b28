// Package publish puts the runs kept under a runs directory (package runs)
// on a static site, with the history of every run the site holds: a
// directory that a web server serves or that is the checkout of a GitHub
// Pages or GitLab Pages branch, or a prefix of an S3 bucket. It also
// fetches the runs a site holds back into a runs directory, so that a
// nightly job on a fresh machine has the whole history.
//
// Publish never deletes: a run published once stays, and the history is
// built over the runs of the runs directory and those already published
// (their report.json), whichever machine published them. Only what is new
// or changed is written, the pages that point at runs last, so that a
// reader never follows a link to a run not there yet.
package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/atomicfile"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history"
)

// DefaultParallel is how many objects are written or read at once.
const DefaultParallel = 4

// Input is what Publish publishes, and where.
type Input struct {
	// Runs is the runs directory (_output/runs).
	Runs  string
	Store Store
	// DryRun works out what would be written, and writes nothing.
	DryRun bool
	// Parallel is how many objects are written at once; 0 means
	// DefaultParallel.
	Parallel int
	// Logger says what is done: V(0) a line per step, V(1) a line per
	// object written or run fetched.
	Logger log.Logger
}

// Result is what Publish did (or, in a dry run, would do).
type Result struct {
	// Local are the runs of the runs directory; Fetched the runs only
	// the site held, whose report.json was read for the history.
	Local, Fetched []string
	// Skipped says, one line per run, which runs the site holds could not
	// be read: they are left out of the history.
	Skipped []string
	// Written are the keys written, in order; Unchanged counts the files
	// the site already held as they are.
	Written   []string
	Unchanged int
	// Latest is the newest run.
	Latest string
	// Pages counts the history's pages.
	Pages int
}

// Publish publishes the runs under in.Runs to in.Store: each run's
// RunFiles under runs/<id>/ (a run without a report.json gets one,
// gathered from its drills as drill report would), the history site of
// every run the runs directory and the site hold together at the top, the
// runs' index (runs/index.html), the manifest (runs.json) and latest/,
// written in that order. A file the site holds with the same content is
// not written again. The runs directory is only read.
func Publish(ctx context.Context, in Input) (Result, error) {
	if in.Store == nil || in.Runs == "" {
		return Result{}, errors.New("publish: a runs directory and a destination are needed")
	}
	logger := in.Logger
	if logger == nil {
		logger = log.NoopLogger{}
	}
	var res Result

	logger.V(0).Infof("Listing what %s holds", in.Store)
	remote, err := in.Store.List(ctx)
	if err != nil {
		return res, fmt.Errorf("publish to %s: %w", in.Store, err)
	}

	staging, err := os.MkdirTemp("", "drill-publish-*")
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	defer os.RemoveAll(staging)
	stagedRuns := filepath.Join(staging, RunsDir)

	// The runs of this machine: their files, and their report.json for
	// the history.
	local, err := history.Load(in.Runs)
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	var runFiles []File
	files := map[string][]string{} // run ID → its files on the site
	for _, r := range local.Runs {
		if !validRunID(r.ID) {
			logger.Warnf("Not publishing run %s: its name cannot be part of a URL", r.ID)
			continue
		}
		rf, err := localRunFiles(filepath.Join(in.Runs, r.ID), r, filepath.Join(stagedRuns, r.ID))
		if err != nil {
			return res, fmt.Errorf("publish: run %s: %w", r.ID, err)
		}
		for _, f := range rf {
			rel := f.Key
			f.Key = runKey(r.ID, rel)
			runFiles = append(runFiles, f)
			files[r.ID] = append(files[r.ID], rel)
		}
		res.Local = append(res.Local, r.ID)
	}

	// The runs only the site holds: their report.json, for the history.
	var only []string
	for key := range remote {
		if id, ok := runReportID(key); ok && !slices.Contains(res.Local, id) {
			only = append(only, id)
		}
	}
	sort.Strings(only)
	if len(only) > 0 {
		logger.V(0).Infof("Fetching the reports of %d runs published earlier", len(only))
	}
	fetched, skipped, err := fetchReports(ctx, in.Store, only, stagedRuns, in.Parallel, logger)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	res.Fetched, res.Skipped = fetched, skipped
	for key := range remote {
		for _, id := range fetched {
			if rel, ok := cutRunKey(key, id); ok {
				files[id] = append(files[id], rel)
			}
		}
		// A local run's files published earlier that it no longer has
		// (a junit file renamed) are still there.
		for _, id := range res.Local {
			if rel, ok := cutRunKey(key, id); ok && !slices.Contains(files[id], rel) {
				files[id] = append(files[id], rel)
			}
		}
	}

	// The history over them all.
	var h history.History
	if len(res.Local)+len(fetched) > 0 {
		if h, err = history.Load(stagedRuns); err != nil {
			return res, fmt.Errorf("publish: %w", err)
		}
	}
	newest, ok := h.Newest()
	if !ok {
		return res, fmt.Errorf("publish: nothing to publish: no runs in %s, and none at %s", in.Runs, in.Store)
	}
	res.Latest = newest.ID
	a := history.Analyze(h, history.DefaultThresholds(), history.DefaultFlakyRule())
	siteDir := filepath.Join(staging, "site")
	pages, err := history.WriteSite(siteDir, a, history.RunReports(func(id string) string {
		if slices.Contains(files[id], "report.html") {
			return RunsDir + "/" + id + "/report.html"
		}
		return ""
	}))
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	res.Pages = len(pages)
	var siteFiles []File
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			return res, fmt.Errorf("publish: %w", err)
		}
		key, err := filepath.Rel(siteDir, p)
		if err != nil {
			return res, fmt.Errorf("publish: %w", err)
		}
		key = filepath.ToSlash(key)
		siteFiles = append(siteFiles, File{Key: key, Data: data, ContentType: ContentType(key), CacheControl: noCache})
	}

	m := newManifest(h, files)
	manifest, err := m.encode()
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	runsIndex, err := runsIndexPage(m)
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	latest, err := latestPage(m)
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	last := []File{
		{Key: RunsIndexKey, Data: runsIndex, ContentType: ContentType(RunsIndexKey), CacheControl: noCache},
		{Key: ManifestKey, Data: manifest, ContentType: ContentType(ManifestKey), CacheControl: noCache},
		{Key: LatestKey, Data: latest, ContentType: ContentType(LatestKey), CacheControl: noCache},
	}

	// What changed, in the order it is written: the runs, the history,
	// then what points at them.
	var stages [][]File
	for _, stage := range [][]File{runFiles, siteFiles, last} {
		var changed []File
		for _, f := range stage {
			if o, ok := remote[f.Key]; ok && o.MD5 != "" && o.MD5 == md5Hex(f.Data) {
				res.Unchanged++
				continue
			}
			changed = append(changed, f)
		}
		stages = append(stages, changed)
	}
	if in.DryRun {
		for _, stage := range stages {
			for _, f := range stage {
				res.Written = append(res.Written, f.Key)
			}
		}
		return res, nil
	}
	for i, stage := range stages {
		n := in.Parallel
		if i == len(stages)-1 {
			n = 1 // the runs' index, the manifest, then latest: in order
		}
		written, err := putAll(ctx, in.Store, stage, n, logger)
		res.Written = append(res.Written, written...)
		if err != nil {
			return res, fmt.Errorf("publish to %s: %w", in.Store, err)
		}
	}
	return res, nil
}

// localRunFiles returns the files of the run in dir that are published
// (RunFiles), keyed by their path in it, and writes its report.json to
// staged for the history. A run without a report.json gets one, made from
// r as drill report would write it.
func localRunFiles(dir string, r history.Run, staged string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if p != dir && (rel != reports.DrillsDir && rel != reports.PhasesDir) {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !isRunFile(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, File{Key: rel, Data: data, ContentType: ContentType(rel)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(staged, 0o755); err != nil {
		return nil, err
	}
	stagedReport := filepath.Join(staged, history.ReportFile)
	i := slices.IndexFunc(out, func(f File) bool { return f.Key == history.ReportFile })
	if i >= 0 {
		return out, atomicfile.WriteFile(stagedReport, out[i].Data, 0o644)
	}
	if err := reports.Write(stagedReport, r.Report); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(stagedReport)
	if err != nil {
		return nil, err
	}
	return append(out, File{Key: history.ReportFile, Data: data, ContentType: ContentType(history.ReportFile)}), nil
}

// cutRunKey returns the path of key in run id, and false when key is not
// one of its files.
func cutRunKey(key, id string) (string, bool) {
	rel, ok := strings.CutPrefix(key, runKey(id, ""))
	return rel, ok && rel != ""
}

// fetchReports downloads the report.json of each run in ids from store
// into dir/<id>/, and returns the runs fetched and, one line each, those
// it could not read (they are left out: a site that holds a broken report
// can still be published to).
func fetchReports(ctx context.Context, store Store, ids []string, dir string, parallel int, logger log.Logger) (fetched, skipped []string, err error) {
	var mu sync.Mutex
	var failed []error
	each(ctx, parallel, ids, func(id string) {
		err := fetchReport(ctx, store, id, filepath.Join(dir, id))
		mu.Lock()
		defer mu.Unlock()
		var unreadable *unreadableError
		if err != nil && !errors.As(err, &unreadable) {
			// Not the report's fault (the store failed, the network):
			// publishing without that run would drop it from the site's
			// history and manifest.
			failed = append(failed, fmt.Errorf("fetch %s: %w", runKey(id, history.ReportFile), err))
			return
		}
		if err != nil {
			logger.Warnf("Leaving run %s out: %v", id, err)
			skipped = append(skipped, fmt.Sprintf("%s: %v", id, err))
			return
		}
		logger.V(1).Infof("Fetched %s", runKey(id, history.ReportFile))
		fetched = append(fetched, id)
	})
	sort.Strings(fetched)
	sort.Strings(skipped)
	return fetched, skipped, errors.Join(failed...)
}

// unreadableError is a published report.json that is not a report: the
// run is left out, with a warning, rather than stopping the publish.
type unreadableError struct{ err error }

func (e *unreadableError) Error() string { return e.err.Error() }
func (e *unreadableError) Unwrap() error { return e.err }

// fetchReport downloads run id's report.json into dir, once it has been
// read as a report.
func fetchReport(ctx context.Context, store Store, id, dir string) error {
	data, err := store.Get(ctx, runKey(id, history.ReportFile))
	if err != nil {
		return err
	}
	// Read first, outside dir: a report that cannot be read leaves no
	// directory behind to pass for the run.
	tmp, err := os.CreateTemp("", "drill-report-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if _, err := reports.Read(tmp.Name()); err != nil {
		return &unreadableError{fmt.Errorf("%s: %w", runKey(id, history.ReportFile), err)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, history.ReportFile), data, 0o644)
}

// putAll writes files to store, parallel at once, and returns the keys
// written. The first error stops what has not started.
func putAll(ctx context.Context, store Store, files []File, parallel int, logger log.Logger) ([]string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var written []string
	var errs []error
	each(ctx, parallel, files, func(f File) {
		err := store.Put(ctx, f)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			cancel(err)
			return
		}
		logger.V(1).Infof("Wrote %s", f.Key)
		written = append(written, f.Key)
	})
	if len(errs) > 0 {
		// The first error; those after it are mostly the cancellation.
		return written, errs[0]
	}
	return written, ctx.Err()
}

// each calls fn on every item, parallel at once (DefaultParallel when
// parallel is 0), until ctx is done.
func each[T any](ctx context.Context, parallel int, items []T, fn func(T)) {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	work := make(chan T)
	var wg sync.WaitGroup
	for range min(parallel, len(items)) {
		wg.Go(func() {
			for it := range work {
				fn(it)
			}
		})
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		work <- it
	}
	close(work)
	wg.Wait()
}
