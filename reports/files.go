package reports

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/drill-sre/drill/internal/atomicfile"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/redact"
	"github.com/drill-sre/drill/internal/timing"
)

// DrillsDir is the directory, under a report directory, that holds one file
// per drill (WriteDrill, Collect).
const DrillsDir = "drills"

// WriteDrill writes d as indented JSON to dir/drills/<d.Name>.json, creating
// the directories it needs, and returns the file's path. The file is written
// to a temporary file and renamed into place, so a reader (Collect) never
// sees half a drill. Credentials in its text are redacted (redact.String),
// as they are by every writer of this package.
func WriteDrill(dir string, d Drill) (string, error) {
	if err := checkFileName(d.Name); err != nil {
		return "", fmt.Errorf("write drill: %w", err)
	}
	drills := filepath.Join(dir, DrillsDir)
	if err := os.MkdirAll(drills, 0o755); err != nil {
		return "", fmt.Errorf("write drill %s: %w", d.Name, err)
	}
	path := filepath.Join(drills, d.Name+".json")
	if err := writeJSON(path, normalizeDrill(redact.Value(d))); err != nil {
		return "", fmt.Errorf("write drill %s: %w", d.Name, err)
	}
	return path, nil
}

// Collect reads every dir/drills/*.json into one Report: the drills ordered
// by Started, the report's Started the earliest drill start and Finished the
// latest drill finish. Every file that cannot be read or parsed is an error
// naming it. A directory without drills gives a Report without drills and
// no error.
func Collect(dir string) (Report, error) {
	paths, err := filepath.Glob(filepath.Join(dir, DrillsDir, "*.json"))
	if err != nil {
		return Report{}, fmt.Errorf("collect drills in %s: %w", dir, err)
	}
	r := Report{SchemaVersion: SchemaVersion, Drills: []Drill{}}
	var errs []error
	for _, path := range paths {
		d, err := readDrill(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Drills = append(r.Drills, d)
	}
	if r.Phases, err = collectPhases(dir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Report{}, fmt.Errorf("collect drills in %s: %w", dir, err)
	}
	slices.SortStableFunc(r.Drills, func(a, b Drill) int {
		return cmp.Or(a.Started.Compare(b.Started), strings.Compare(a.Name, b.Name))
	})
	for _, d := range r.Drills {
		if !d.Started.IsZero() && (r.Started.IsZero() || d.Started.Before(r.Started)) {
			r.Started = d.Started
		}
		if d.Finished.After(r.Finished) {
			r.Finished = d.Finished
		}
	}
	return r, nil
}

// PhasesDir is the directory, under a report directory, that holds the
// phases of the game day outside its drills (WritePhases): bringing the
// cluster up, loading images, recovering journals.
const PhasesDir = "phases"

// WritePhases writes phases as dir/phases/<name>.json, atomically, for
// Collect to add to the game day's time.
func WritePhases(dir, name string, phases []timing.Phase) error {
	if err := checkFileName(name); err != nil {
		return fmt.Errorf("write phases: %w", err)
	}
	d := filepath.Join(dir, PhasesDir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("write phases %s: %w", name, err)
	}
	if err := writeJSON(filepath.Join(d, name+".json"), phases); err != nil {
		return fmt.Errorf("write phases %s: %w", name, err)
	}
	return nil
}

// collectPhases reads every dir/phases/*.json, ordered by start.
func collectPhases(dir string) ([]timing.Phase, error) {
	paths, err := filepath.Glob(filepath.Join(dir, PhasesDir, "*.json"))
	if err != nil {
		return nil, err
	}
	var all []timing.Phase
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var ps []timing.Phase
		if err := json.Unmarshal(data, &ps); err != nil {
			return nil, fmt.Errorf("parse phases file %s: %w", path, err)
		}
		all = append(all, ps...)
	}
	slices.SortStableFunc(all, func(a, b timing.Phase) int { return a.From.Compare(b.From) })
	return all, nil
}

// ReadDrill reads dir/drills/<name>.json, as WriteDrill wrote it.
func ReadDrill(dir, name string) (Drill, error) {
	if err := checkFileName(name); err != nil {
		return Drill{}, fmt.Errorf("read drill: %w", err)
	}
	return readDrill(filepath.Join(dir, DrillsDir, name+".json"))
}

// readDrill reads one drill file. Unknown fields are accepted: fields added
// by a newer drill keep the schema version.
func readDrill(path string) (Drill, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Drill{}, fmt.Errorf("read drill: %w", err)
	}
	var d Drill
	if err := json.Unmarshal(data, &d); err != nil {
		return Drill{}, fmt.Errorf("parse drill file %s: %w", path, err)
	}
	if d.Name == "" {
		return Drill{}, fmt.Errorf("parse drill file %s: not a drill: no name", path)
	}
	return d, nil
}

// Write writes r as indented JSON to path (report.json), through a temporary
// file renamed into place. An empty SchemaVersion is filled in.
func Write(path string, r Report) error {
	if r.SchemaVersion == "" {
		r.SchemaVersion = SchemaVersion
	}
	r = redact.Value(r)
	drills := make([]Drill, len(r.Drills))
	for i, d := range r.Drills {
		drills[i] = normalizeDrill(d)
	}
	r.Drills = drills
	if err := writeJSON(path, r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Read reads the report.json at path. A report written under another schema
// version is an error naming the file and both versions.
func Read(path string) (Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Report{}, fmt.Errorf("read report: %w", err)
	}
	var head struct {
		SchemaVersion *string `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Report{}, fmt.Errorf("parse report %s: %w", path, err)
	}
	switch {
	case head.SchemaVersion == nil:
		return Report{}, fmt.Errorf("read report %s: no schemaVersion, want %q", path, SchemaVersion)
	case *head.SchemaVersion != SchemaVersion:
		return Report{}, fmt.Errorf("read report %s: schemaVersion %q, this drill reads %q",
			path, *head.SchemaVersion, SchemaVersion)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return Report{}, fmt.Errorf("parse report %s: %w", path, err)
	}
	return r, nil
}

// checkFileName checks that name can name a file in one directory.
func checkFileName(name string) error {
	switch {
	case name == "":
		return errors.New("drill has no name")
	case name == "." || name == ".." || strings.ContainsAny(name, `/\`) || filepath.Base(name) != name:
		return fmt.Errorf("drill name %q cannot name a file", name)
	}
	return nil
}

// normalizeDrill makes the lists that report.json always carries empty
// rather than null.
func normalizeDrill(d Drill) Drill {
	if d.Objectives == nil {
		d.Objectives = []Objective{}
	}
	if d.Intervals == nil {
		d.Intervals = []monitor.Interval{}
	}
	return d
}

// writeJSON writes v as indented JSON to path, atomically.
func writeJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}
