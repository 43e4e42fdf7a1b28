// Package journal records every fault in effect, so that a harness that was
// killed, hung up on or restarted leaves enough behind to revert it.
//
// A drill opens its journal before injection, with what its revert needs
// (the fault's state), and writes a step at every change the revert must
// know about; the revert closes it. Each write goes to the harness's disk
// first, atomically (a temporary file, fsync, rename, fsync of the
// directory): the disk journal is the source of truth. A copy goes to the
// cluster (Mirror) when the fault allows it, so that another machine can
// recover; it is written in the background and never holds a fault up.
//
// `drill recover` lists the open journals (Store.Open, Mirror.List) and
// reverts each.
package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drill-sre/drill/internal/atomicfile"
	"sigs.k8s.io/kind/pkg/log"
)

// Schema names the shape of a journal file.
const Schema = "drill.sre/journal/v1"

// KillAtEnv names the test-only switch that stops the harness at a named
// journal step: a regular expression that, when it matches a step's whole
// name, makes the process kill itself with SIGKILL right after that step is
// on disk (and its cluster copy written), so that a test kills the harness
// where it says, not by luck.
const KillAtEnv = "DRILL_TEST_KILL_AT"

// Entry is the journal of one drill's fault.
type Entry struct {
	Schema string `json:"schema"`
	// ID names the journal: the drill's name and when it was opened.
	ID string `json:"id"`
	// Cluster is how to reach the cluster again.
	Cluster Cluster `json:"cluster"`
	// Drill and Fault are the drill's name and its fault's type.
	Drill string `json:"drill"`
	Fault string `json:"fault"`
	// Scenario is the drill file as loaded, re-read by drill recover; File
	// is where it came from.
	Scenario string `json:"scenario"`
	File     string `json:"file,omitempty"`
	// Target is what the fault acts on, as the report says it.
	Target string `json:"target"`
	// Env is what the fault acted through beside the cluster.
	Env Env `json:"env"`
	// ReportDir is where the drill's report goes (drills/<name>.json).
	ReportDir string `json:"reportDir,omitempty"`
	// Host and PID are the harness that opened the journal.
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// ClusterCopy says whether the copy in the cluster can be used to
	// recover; false for a fault whose own doing rolls that copy back
	// (etcd-restore).
	ClusterCopy bool      `json:"clusterCopy"`
	Opened      time.Time `json:"opened"`
	Updated     time.Time `json:"updated"`
	// Step is the last step reached; Steps every step with its time.
	Step  string `json:"step"`
	Steps []Step `json:"steps"`
	// State is the fault's own state as of Step: what its revert needs.
	State json.RawMessage `json:"state,omitempty"`
	// Closed is when the journal was closed, Outcome how.
	Closed  time.Time `json:"closed,omitzero"`
	Outcome string    `json:"outcome,omitempty"`
}

// Cluster is how a journal's cluster is reached again.
type Cluster struct {
	// Name is the cluster's name (the kind cluster, or the existing
	// cluster's context).
	Name string `json:"name"`
	// Provider is "kind" or "existing".
	Provider   string `json:"provider"`
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context,omitempty"`
	// UID is the kube-system namespace's UID: it tells the cluster from
	// another of the same name created since (make test deletes its
	// cluster, the next run creates one called drill again).
	UID string `json:"uid,omitempty"`
}

// Env is what a fault acted through beside the cluster.
type Env struct {
	// Namespace and Deployment are the drill's workload, "" without one.
	Namespace  string `json:"namespace,omitempty"`
	Deployment string `json:"deployment,omitempty"`
	// DrillNamespace is the namespace drill created for the drill.
	DrillNamespace string `json:"drillNamespace,omitempty"`
	// ArtifactDir is where the fault kept its artifacts (etcd snapshots).
	ArtifactDir string `json:"artifactDir,omitempty"`
}

// Step is one step a fault or the drill reached.
type Step struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// IsOpen says whether the journal's fault may still be in effect.
func (e Entry) IsOpen() bool { return e.Closed.IsZero() }

// Mirror keeps a copy of the journals in the cluster.
type Mirror interface {
	// Put writes e's copy, replacing an older one.
	Put(ctx context.Context, e Entry) error
	// Delete removes the copy of journal id; a missing one is no error.
	Delete(ctx context.Context, id string) error
	// List returns the copies in the cluster.
	List(ctx context.Context) ([]Entry, error)
}

// Store is a directory of open journals on the harness's disk, and their
// copies in the cluster.
type Store struct {
	// Dir holds one file per open journal, <id>.json.
	Dir string
	// Mirror, when set, receives a copy of each journal whose
	// ClusterCopy is true.
	Mirror Mirror
	Logger log.Logger
}

func (s *Store) logger() log.Logger {
	if s.Logger == nil {
		return log.NoopLogger{}
	}
	return s.Logger
}

var idUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// NewID returns a journal ID for drill at t: DNS-safe, so that it also
// names the journal's copy in the cluster.
func NewID(drill string, t time.Time) string {
	name := strings.Trim(idUnsafe.ReplaceAllString(strings.ToLower(drill), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("%s-%s", name, strings.Replace(t.UTC().Format("20060102t150405.000"), ".", "", 1))
}

// Path is the file of journal id.
func (s *Store) Path(id string) string { return filepath.Join(s.Dir, id+".json") }

// Open writes e as a new open journal, at step, and returns it for the
// next steps.
func (s *Store) Open(ctx context.Context, e Entry, step string, state any) (*Journal, error) {
	if e.ID == "" {
		return nil, errors.New("journal: an entry needs an ID")
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: %w", e.ID, err)
	}
	e.Schema = Schema
	if e.Host == "" {
		e.Host, _ = os.Hostname()
	}
	if e.PID == 0 {
		e.PID = os.Getpid()
	}
	now := time.Now()
	if e.Opened.IsZero() {
		e.Opened = now
	}
	j := &Journal{store: s, e: e}
	if s.Mirror != nil && e.ClusterCopy {
		j.mirror = newMirrorLoop(s.Mirror, s.logger())
	}
	if err := j.Step(ctx, step, state); err != nil {
		j.stopMirror()
		return nil, err
	}
	track(j)
	return j, nil
}

// inProcess are the journals this process opened and has not closed.
var inProcess struct {
	sync.Mutex
	m map[*Journal]bool
}

func track(j *Journal) {
	inProcess.Lock()
	defer inProcess.Unlock()
	if inProcess.m == nil {
		inProcess.m = map[*Journal]bool{}
	}
	inProcess.m[j] = true
}

func untrack(j *Journal) {
	inProcess.Lock()
	defer inProcess.Unlock()
	delete(inProcess.m, j)
}

// InProcess returns the journals this process opened and has not closed:
// the faults it may leave in place if it stops now.
func InProcess() []Entry {
	inProcess.Lock()
	js := make([]*Journal, 0, len(inProcess.m))
	for j := range inProcess.m {
		js = append(js, j)
	}
	inProcess.Unlock()
	out := make([]Entry, 0, len(js))
	for _, j := range js {
		out = append(out, j.Entry())
	}
	slices.SortFunc(out, func(a, b Entry) int { return a.Opened.Compare(b.Opened) })
	return out
}

// List returns the open journals on disk, oldest first. A file that cannot
// be read is an error naming it; the others are still returned.
func (s *Store) List() ([]Entry, error) {
	paths, err := filepath.Glob(filepath.Join(s.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var (
		out  []Entry
		errs []error
	)
	for _, p := range paths {
		e, err := ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e.IsOpen() {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return a.Opened.Compare(b.Opened) })
	return out, errors.Join(errs...)
}

// Remove deletes journal id's file and its copy in the cluster: the
// journal is done with (recovered, or closed and kept elsewhere).
func (s *Store) Remove(ctx context.Context, id string) error {
	var errs []error
	if err := os.Remove(s.Path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if s.Mirror != nil {
		if err := s.Mirror.Delete(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("delete the cluster's copy of journal %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// ReadFile reads one journal file.
func ReadFile(path string) (Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Entry{}, fmt.Errorf("read journal: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("read journal %s: %w", path, err)
	}
	if e.Schema != Schema {
		return Entry{}, fmt.Errorf("read journal %s: schema %q, want %q", path, e.Schema, Schema)
	}
	return e, nil
}

// Journal is one open journal.
type Journal struct {
	store  *Store
	mirror *mirrorLoop

	mu sync.Mutex
	e  Entry
}

// Entry returns the journal as last written.
func (j *Journal) Entry() Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.e
	e.Steps = slices.Clone(e.Steps)
	return e
}

// SetTarget records what the fault acts on.
func (j *Journal) SetTarget(target string) {
	j.mu.Lock()
	j.e.Target = target
	j.mu.Unlock()
}

// Step records that step was reached, with the fault's state as of now
// (nil keeps the last one), on disk before it returns; the cluster's copy
// follows in the background.
func (j *Journal) Step(ctx context.Context, step string, state any) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.e.Closed.IsZero() {
		return fmt.Errorf("journal %s: step %q after it was closed", j.e.ID, step)
	}
	if state != nil {
		raw, err := json.Marshal(state)
		if err != nil {
			return fmt.Errorf("journal %s: encode the state at %q: %w", j.e.ID, step, err)
		}
		j.e.State = raw
	}
	now := time.Now()
	j.e.Step, j.e.Updated = step, now
	j.e.Steps = append(j.e.Steps, Step{Name: step, At: now})
	if err := j.write(); err != nil {
		return err
	}
	if j.mirror != nil {
		j.mirror.put(j.e)
	}
	if killAt(step) {
		killHere(j.mirror, step)
	}
	return nil
}

func (j *Journal) write() error {
	data, err := json.MarshalIndent(j.e, "", "  ")
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.e.ID, err)
	}
	if err := atomicfile.WriteFile(j.store.Path(j.e.ID), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("journal %s: write %s: %w", j.e.ID, j.store.Path(j.e.ID), err)
	}
	return nil
}

// killAt says whether the test-only switch (KillAtEnv) stops the harness at
// step.
func killAt(step string) bool {
	expr := os.Getenv(KillAtEnv)
	if expr == "" {
		return false
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	return err == nil && re.MatchString(step)
}

// killHere is the test-only stop (KillAtEnv): the cluster's copy is written
// first, so that a test can recover from it alone.
func killHere(m *mirrorLoop, step string) {
	if m != nil {
		m.flush(30 * time.Second)
	}
	fmt.Fprintf(os.Stderr, "journal: %s=%s: killing the harness (SIGKILL)\n", KillAtEnv, step)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// Close closes the journal with outcome: the fault is reverted (or
// recovered). The closed journal is kept in keepDir (the run's directory)
// when it is not "". Its cluster copy is marked closed, then deleted, and
// the open file removed.
func (j *Journal) Close(ctx context.Context, outcome, keepDir string) error {
	j.mu.Lock()
	if !j.e.Closed.IsZero() {
		j.mu.Unlock()
		return nil
	}
	now := time.Now()
	j.e.Closed, j.e.Updated, j.e.Outcome = now, now, outcome
	j.e.Steps = append(j.e.Steps, Step{Name: "closed: " + outcome, At: now})
	e, m := j.e, j.mirror
	j.mirror = nil
	j.mu.Unlock()

	var errs []error
	if keepDir != "" {
		if err := Keep(keepDir, e); err != nil {
			errs = append(errs, err)
		}
	}
	if m != nil {
		m.stop()
		// Marked closed first: a copy whose delete fails, or that a late
		// write re-creates, is still not taken for an open fault.
		if err := j.store.Mirror.Put(ctx, e); err != nil {
			errs = append(errs, fmt.Errorf("mark the cluster's copy of journal %s closed: %w", e.ID, err))
		}
	}
	if err := j.store.Remove(ctx, e.ID); err != nil {
		errs = append(errs, err)
	}
	untrack(j)
	return errors.Join(errs...)
}

// Keep writes a closed journal into dir/journal/<id>.json, as evidence of
// the run.
func Keep(dir string, e Entry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	kept := filepath.Join(dir, "journal")
	if err := os.MkdirAll(kept, 0o755); err != nil {
		return fmt.Errorf("keep journal %s: %w", e.ID, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(kept, e.ID+".json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("keep journal %s: %w", e.ID, err)
	}
	return nil
}

// Abandon stops the journal's background copy and leaves it open: the
// fault may still be in effect (a revert failed, or the harness is told to
// stop without waiting).
func (j *Journal) Abandon() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stopMirrorLocked()
}

func (j *Journal) stopMirror() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stopMirrorLocked()
}

func (j *Journal) stopMirrorLocked() {
	if j.mirror != nil {
		j.mirror.stop()
		j.mirror = nil
	}
}

// Resume takes up an open journal that another process left, to record
// its recovery and close it.
func (s *Store) Resume(e Entry) *Journal {
	_ = os.MkdirAll(s.Dir, 0o700) // a recovery from the cluster's copy alone may have none
	j := &Journal{store: s, e: e}
	if s.Mirror != nil && e.ClusterCopy {
		j.mirror = newMirrorLoop(s.Mirror, s.logger())
	}
	track(j)
	return j
}
