// Package runs keeps every run's evidence side by side, one directory per
// run, so that a run never deletes an earlier one's and history can be
// built from them:
//
//	_output/runs/
//	  20261207T031500Z/        one run, named by its start (UTC)
//	    drills/<drill>.json    each drill's report, written as it goes
//	    journal/<id>.json      the closed journals of its faults
//	    artifacts/             what faults produced (etcd snapshots)
//	    logs/                  the nodes' logs, when a suite failed
//	    report.json, report.md, report.html, junit*.xml
//	    STOPPED                present when a failed revert stopped the run
//	  latest -> 20261207T031500Z
package runs

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DefaultRoot is where runs are kept, relative to where drill runs.
const DefaultRoot = "_output/runs"

// Latest is the name of the link to the newest run.
const Latest = "latest"

// New creates the directory of a run that starts at t under root, points
// root/latest at it, and returns its path.
func New(root string, t time.Time) (string, error) {
	name := t.UTC().Format("20060102T150405Z")
	dir := filepath.Join(root, name)
	for i := 2; ; i++ {
		err := os.MkdirAll(root, 0o755)
		if err == nil {
			err = os.Mkdir(dir, 0o755)
		}
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			return "", fmt.Errorf("create run directory: %w", err)
		}
		dir = filepath.Join(root, fmt.Sprintf("%s-%d", name, i))
	}
	// Replace the link atomically: a new link, renamed over the old one.
	tmp := filepath.Join(root, "."+Latest+".tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(dir), tmp); err != nil {
		return "", fmt.Errorf("link %s: %w", Latest, err)
	}
	if err := os.Rename(tmp, filepath.Join(root, Latest)); err != nil {
		return "", fmt.Errorf("link %s: %w", Latest, err)
	}
	return dir, nil
}
