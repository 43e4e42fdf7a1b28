// Package history follows drills across game days: it reads every run kept
// under a runs directory (package runs), puts each drill's objectives side
// by side as series, flags a figure that got worse than its own recent past
// (a regression, even one that still passed its objective), counts how often
// each drill passes and how often its verdict flips (flakiness), and renders
// all of it as a small static site: a grid of runs × drills and a page per
// drill with a trend chart of each figure.
//
// Everything between Load and the site is a pure function of the History.
package history

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drill-sre/drill/internal/runs"
	"github.com/drill-sre/drill/reports"
)

// ReportFile is the name of a run's report, as `drill report` writes it.
const ReportFile = "report.json"

// runNameLayout is how runs.New names a run's directory: its start in UTC.
// A second run in the same second gets a "-2" suffix, which the layout
// ignores (runStart).
const runNameLayout = "20060102T150405Z"

// Run is one game day.
type Run struct {
	// ID is the name of the run's directory ("20261207T031500Z").
	ID string
	// Started is the report's start, or the time the directory's name
	// says when the report has none; zero when neither is known.
	Started time.Time
	Report  reports.Report
}

// History is every run under a runs directory, oldest first.
type History struct {
	Runs []Run
}

// Load reads every run directory under dir, oldest first by its start (the
// report's Started, else the time in the directory's name; ties and unknown
// starts by name). A run is read from its report.json, else collected from
// its drills/ (reports.Collect). The latest link, other links, files, hidden
// entries and directories with neither report.json nor drills/ (another
// tool's output, the history site itself) are skipped, as is a run whose
// report holds no drill: it has nothing to show. A report that cannot be
// read or parsed is an error naming its file.
func Load(dir string) (History, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return History{}, fmt.Errorf("load history: %w", err)
	}
	var h History
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if name == runs.Latest || strings.HasPrefix(name, ".") || !e.IsDir() {
			continue
		}
		r, ok, err := loadRun(filepath.Join(dir, name))
		switch {
		case err != nil:
			errs = append(errs, err)
		case ok && len(r.Drills) > 0:
			h.Runs = append(h.Runs, Run{ID: name, Started: runStart(name, r), Report: r})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return History{}, fmt.Errorf("load history from %s: %w", dir, err)
	}
	slices.SortStableFunc(h.Runs, func(a, b Run) int {
		return cmp.Or(a.Started.Compare(b.Started), strings.Compare(a.ID, b.ID))
	})
	return h, nil
}

// loadRun reads the run in dir; ok is false when dir is not a run.
func loadRun(dir string) (reports.Report, bool, error) {
	path := filepath.Join(dir, ReportFile)
	if _, err := os.Stat(path); err == nil {
		r, err := reports.Read(path)
		return r, err == nil, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return reports.Report{}, false, fmt.Errorf("read run %s: %w", dir, err)
	}
	fi, err := os.Stat(filepath.Join(dir, reports.DrillsDir))
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.IsDir()):
		return reports.Report{}, false, nil
	case err != nil:
		return reports.Report{}, false, fmt.Errorf("read run %s: %w", dir, err)
	}
	r, err := reports.Collect(dir)
	return r, err == nil, err
}

// runStart is when a run started: its report's Started, else the time its
// directory's name says, else zero.
func runStart(id string, r reports.Report) time.Time {
	if !r.Started.IsZero() {
		return r.Started
	}
	if len(id) >= len(runNameLayout) {
		if t, err := time.Parse(runNameLayout, id[:len(runNameLayout)]); err == nil {
			return t
		}
	}
	return time.Time{}
}

// Newest returns the newest run, and false when there is none.
func (h History) Newest() (Run, bool) {
	if len(h.Runs) == 0 {
		return Run{}, false
	}
	return h.Runs[len(h.Runs)-1], true
}

// Drills returns the name of every drill that ran in any run, sorted.
func (h History) Drills() []string {
	var names []string
	for _, r := range h.Runs {
		for _, d := range r.Report.Drills {
			if !slices.Contains(names, d.Name) {
				names = append(names, d.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// drill returns the drill named name in run i, and false when it did not
// run there. A name that appears twice in one report counts once, first.
func (h History) drill(i int, name string) (reports.Drill, bool) {
	for _, d := range h.Runs[i].Report.Drills {
		if d.Name == name {
			return d, true
		}
	}
	return reports.Drill{}, false
}
