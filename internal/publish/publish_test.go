package publish

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history"
	"github.com/drill-sre/drill/reports/history/historytest"
)

// writeHistory writes historytest's runs under a new runs directory, with
// one run holding more than a report: its renderings, which are published,
// and its journals, artifacts and logs, which are not.
func writeHistory(t *testing.T) historytest.Want {
	t.Helper()
	want, err := historytest.Write(t.TempDir(), historytest.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(want.Dir, want.RunIDs[5])
	for rel, data := range map[string]string{
		"report.html":          "<!DOCTYPE html><title>r</title>",
		"report.md":            "# Drill report\n",
		"report.prom":          "drill_drill_pass{drill=\"a\"} 1\n",
		"summary.md":           "## ✅ Drills\n",
		"junit-drills.xml":     "<testsuites/>\n",
		"junit.xml":            "<testsuites/>\n",
		"drills/a.json":        `{"name": "a"}`,
		"phases/bring-up.json": "[]",
		"journal/x.json":       "{}",
		"artifacts/etcd.db":    "snapshot",
		"logs/node/kubelet":    "log",
		"STOPPED":              "",
		"drills/notes.txt":     "not json",
	} {
		write(t, filepath.Join(run, rel), data)
	}
	return want
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func publish(t *testing.T, runs, dest string, dryRun bool) Result {
	t.Helper()
	store, err := Open(context.Background(), dest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Publish(context.Background(), Input{Runs: runs, Store: store, DryRun: dryRun})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return res
}

// publishedSite publishes the generated history to a site directory and
// returns the history, the directory and its store.
func publishedSite(t *testing.T) (historytest.Want, string, Store) {
	t.Helper()
	want := writeHistory(t)
	dest := filepath.Join(t.TempDir(), "site")
	publish(t, want.Dir, dest, false)
	store, err := Open(context.Background(), dest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return want, dest, store
}

func readManifest(t *testing.T, dest string) Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dest, ManifestKey))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPublishDir(t *testing.T) {
	want := writeHistory(t)
	dest := filepath.Join(t.TempDir(), "site")
	newest := want.RunIDs[len(want.RunIDs)-1]

	// A dry run writes nothing.
	res := publish(t, want.Dir, dest, true)
	if len(res.Written) == 0 {
		t.Fatal("a dry run plans nothing")
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("a dry run wrote %s (%v)", dest, err)
	}

	res = publish(t, want.Dir, dest, false)
	if len(res.Local) != 30 || len(res.Fetched) != 0 || res.Latest != newest || res.Unchanged != 0 {
		t.Errorf("result: %d local, %d fetched, latest %s, %d unchanged", len(res.Local), len(res.Fetched), res.Latest, res.Unchanged)
	}

	// Every run's report.json, the oldest's gathered from its drills.
	for _, id := range want.RunIDs {
		if _, err := reports.Read(filepath.Join(dest, RunsDir, id, "report.json")); err != nil {
			t.Errorf("run %s: %v", id, err)
		}
	}
	// What drill report writes is published; journals, artifacts, logs
	// and whatever else is not.
	run := filepath.Join(dest, RunsDir, want.RunIDs[5])
	for _, rel := range []string{"report.html", "report.md", "report.prom", "summary.md", "junit-drills.xml", "junit.xml", "drills/a.json", "phases/bring-up.json"} {
		if _, err := os.Stat(filepath.Join(run, rel)); err != nil {
			t.Errorf("not published: %v", err)
		}
	}
	for _, rel := range []string{"journal", "artifacts", "logs", "STOPPED", "drills/notes.txt"} {
		if _, err := os.Stat(filepath.Join(run, rel)); !os.IsNotExist(err) {
			t.Errorf("%s published (%v)", rel, err)
		}
	}
	for _, rel := range []string{"20261031T000000Z", "README", "latest/report.json"} {
		if _, err := os.Stat(filepath.Join(dest, RunsDir, rel)); !os.IsNotExist(err) {
			t.Errorf("%s published: not a run (%v)", rel, err)
		}
	}

	// The history at the top, the runs' index, the manifest, latest.
	index, err := os.ReadFile(filepath.Join(dest, "index.html"))
	if err != nil || !strings.Contains(string(index), want.RegressionRunID) {
		t.Errorf("index.html (%v) lacks the regression", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "drill-"+historytest.FlakyDrill+".html")); err != nil {
		t.Error(err)
	}
	m := readManifest(t, dest)
	if m.SchemaVersion != ManifestSchema || m.Latest != newest || len(m.Runs) != 30 || m.Runs[0].ID != newest {
		t.Errorf("manifest: schema %s, latest %s, %d runs, first %s", m.SchemaVersion, m.Latest, len(m.Runs), m.Runs[0].ID)
	}
	if r := m.Runs[len(m.Runs)-1-5]; r.ID != want.RunIDs[5] || !slices.Contains(r.Files, "report.html") || !slices.Contains(r.Files, "drills/a.json") {
		t.Errorf("manifest run %s: files %v", r.ID, r.Files)
	}
	latest, err := os.ReadFile(filepath.Join(dest, LatestKey))
	if err != nil || !strings.Contains(string(latest), `url=../runs/`+newest+`/report.json"`) {
		t.Errorf("latest (%v):\n%s", err, latest)
	}
	runsIndex, err := os.ReadFile(filepath.Join(dest, RunsIndexKey))
	if err != nil || !strings.Contains(string(runsIndex), `<a href="`+want.RunIDs[5]+`/report.html">`) {
		t.Errorf("runs index (%v):\n%s", err, runsIndex)
	}
	// The history's columns link the runs' report.html, where they have one.
	histIndex, err := os.ReadFile(filepath.Join(dest, history.IndexFile))
	if err != nil || !strings.Contains(string(histIndex), `<a href="runs/`+want.RunIDs[5]+`/report.html">`) ||
		strings.Contains(string(histIndex), `runs/`+newest+`/report.html`) {
		t.Errorf("history index (%v) does not link run %s's report.html, or links the newest's, which has none", err, want.RunIDs[5])
	}

	// Again: nothing changed, nothing written.
	res = publish(t, want.Dir, dest, false)
	if len(res.Written) != 0 || res.Unchanged == 0 {
		t.Errorf("again: wrote %v, %d unchanged", res.Written, res.Unchanged)
	}

	// One file changed: it alone is written.
	write(t, filepath.Join(want.Dir, want.RunIDs[5], "report.html"), "<!DOCTYPE html><title>again</title>")
	res = publish(t, want.Dir, dest, false)
	if !slices.Equal(res.Written, []string{"runs/" + want.RunIDs[5] + "/report.html"}) {
		t.Errorf("one file changed: wrote %v", res.Written)
	}
}

// A nightly job on a fresh machine: the runs directory holds the new run
// only, the site every earlier one.
func TestPublishMergesWhatTheSiteHolds(t *testing.T) {
	want := writeHistory(t)
	dest := filepath.Join(t.TempDir(), "site")
	publish(t, want.Dir, dest, false)
	before, err := (&Dir{root: dest}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	fresh := t.TempDir()
	next := historytest.Report(historytest.DefaultOptions(), 30)
	next.Started = next.Started.Add(time.Hour) // a new run, a day after the last
	id := next.Started.UTC().Format("20060102T150405Z")
	if err := os.MkdirAll(filepath.Join(fresh, id), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := reports.Write(filepath.Join(fresh, id, "report.json"), next); err != nil {
		t.Fatal(err)
	}
	// A broken report on the site is left out, not fatal.
	write(t, filepath.Join(dest, RunsDir, "20200101T000000Z", "report.json"), "{")

	res := publish(t, fresh, dest, false)
	if !slices.Equal(res.Local, []string{id}) || len(res.Fetched) != 30 || res.Latest != id {
		t.Errorf("local %v, %d fetched, latest %s", res.Local, len(res.Fetched), res.Latest)
	}
	if len(res.Skipped) != 1 || !strings.HasPrefix(res.Skipped[0], "20200101T000000Z: ") {
		t.Errorf("skipped %v", res.Skipped)
	}
	for _, k := range res.Written {
		if strings.HasPrefix(k, RunsDir+"/") && !strings.HasPrefix(k, RunsDir+"/"+id+"/") && k != RunsIndexKey {
			t.Errorf("rewrote %s, an earlier run's", k)
		}
	}
	for _, k := range []string{"index.html", ManifestKey, LatestKey, RunsIndexKey, runKey(id, "report.json")} {
		if !slices.Contains(res.Written, k) {
			t.Errorf("did not write %s: %v", k, res.Written)
		}
	}
	// Pointers last: the runs' index, the manifest, then latest.
	if n := len(res.Written); n < 3 || !slices.Equal(res.Written[n-3:], []string{RunsIndexKey, ManifestKey, LatestKey}) {
		t.Errorf("written in the order %v", res.Written)
	}
	m := readManifest(t, dest)
	if len(m.Runs) != 31 || m.Latest != id {
		t.Errorf("manifest: %d runs, latest %s", len(m.Runs), m.Latest)
	}
	// The earlier runs' files are still there, as they were.
	after, err := (&Dir{root: dest}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for k, o := range before {
		if strings.HasPrefix(k, RunsDir+"/2") && after[k] != o {
			t.Errorf("%s changed", k)
		}
	}
	index, err := os.ReadFile(filepath.Join(dest, "index.html"))
	if err != nil || !strings.Contains(string(index), id) || !strings.Contains(string(index), want.RunIDs[0]) {
		t.Errorf("the history (%v) lacks the new run or the oldest", err)
	}
}

func TestFetch(t *testing.T) {
	want, dest, store := publishedSite(t)

	runs := filepath.Join(t.TempDir(), "runs")
	// A directory of the same name is left as it is.
	write(t, filepath.Join(runs, want.RunIDs[3], "drills", "x.json"), `{"name": "x"}`)
	res, err := Fetch(context.Background(), FetchInput{Store: store, Runs: runs})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fetched) != 29 || !slices.Equal(res.Present, []string{want.RunIDs[3]}) || len(res.Skipped) != 0 {
		t.Errorf("fetched %d, present %v, skipped %v", len(res.Fetched), res.Present, res.Skipped)
	}
	if _, err := os.Stat(filepath.Join(runs, want.RunIDs[3], "report.json")); !os.IsNotExist(err) {
		t.Errorf("wrote into a run that was there (%v)", err)
	}
	h, err := history.Load(runs)
	if err != nil || len(h.Runs) != 30 {
		t.Errorf("history of the fetched runs: %d runs (%v)", len(h.Runs), err)
	}

	// A report that cannot be read leaves nothing behind.
	write(t, filepath.Join(dest, RunsDir, "20200101T000000Z", "report.json"), `{"schemaVersion": "drill.sre/report/v0"}`)
	res, err = Fetch(context.Background(), FetchInput{Store: store, Runs: runs})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fetched) != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "drill.sre/report/v0") {
		t.Errorf("fetched %v, skipped %v", res.Fetched, res.Skipped)
	}
	if _, err := os.Stat(filepath.Join(runs, "20200101T000000Z")); !os.IsNotExist(err) {
		t.Errorf("a broken run left a directory (%v)", err)
	}
}

func TestPublishErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	write(t, file, "x")
	if _, err := Open(context.Background(), file, Options{}); err == nil || err.Error() != "destination "+file+" is not a directory" {
		t.Errorf("a file: %v", err)
	}
	for _, dest := range []string{"", "gs://bucket/x", "https://example.com/site"} {
		if _, err := Open(context.Background(), dest, Options{}); err == nil {
			t.Errorf("%q: no error", dest)
		}
	}
	store, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// No runs here, none there.
	_, err = Publish(context.Background(), Input{Runs: t.TempDir(), Store: store})
	if err == nil || !strings.Contains(err.Error(), "nothing to publish") {
		t.Errorf("nothing to publish: %v", err)
	}
	_, err = Publish(context.Background(), Input{Runs: filepath.Join(t.TempDir(), "none"), Store: store})
	if err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("no runs directory: %v", err)
	}
	// A write that fails names what it was writing.
	want := writeHistory(t)
	dest := t.TempDir()
	write(t, filepath.Join(dest, "runs"), "a file where the runs go")
	_, err = Publish(context.Background(), Input{Runs: want.Dir, Store: &Dir{root: dest}})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dest, "runs")) {
		t.Errorf("a failed write: %v", err)
	}
}

func TestLayout(t *testing.T) {
	for key, want := range map[string]string{
		"runs/20261207T031500Z/report.json":   "20261207T031500Z",
		"runs/20261207T031500Z-2/report.json": "20261207T031500Z-2",
		"runs/x/drills/report.json":           "",
		"runs/../report.json":                 "",
		"runs/.hidden/report.json":            "",
		"runs/latest/report.json":             "",
		"runs/a b/report.json":                "",
		"runs/x/report.html":                  "",
		"report.json":                         "",
	} {
		id, ok := runReportID(key)
		if id != want || ok != (want != "") {
			t.Errorf("runReportID(%q) = %q, %v; want %q", key, id, ok, want)
		}
	}
	for rel, want := range map[string]bool{
		"report.json": true, "junit-drills.xml": true, "drills/a.json": true, "phases/x.json": true,
		"journal/x.json": false, "drills/a/b.json": false, "artifacts/etcd.db": false, "report.json.tmp": false,
	} {
		if got := isRunFile(rel); got != want {
			t.Errorf("isRunFile(%q) = %v", rel, got)
		}
	}
	for key, want := range map[string]string{
		"index.html": "text/html; charset=utf-8", "runs.json": "application/json", "a/chart.svg": "image/svg+xml",
		"r/report.md": "text/markdown; charset=utf-8", "r/junit.xml": "application/xml",
		"r/report.prom": "text/plain; version=0.0.4; charset=utf-8", "x.bin": "application/octet-stream",
	} {
		if got := ContentType(key); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", key, got, want)
		}
	}
	for _, key := range []string{"", "/abs", "../x", "a/../b", "a//b", `a\b`, "./a"} {
		if checkKey(key) == nil {
			t.Errorf("checkKey(%q) accepted", key)
		}
	}
}

// flakyStore fails to get one key, as a store with a network error would.
type flakyStore struct {
	Store
	failing string
}

func (s flakyStore) Get(ctx context.Context, key string) ([]byte, error) {
	if key == s.failing {
		return nil, errors.New("connection reset by peer")
	}
	return s.Store.Get(ctx, key)
}

// A published report that cannot be fetched (not one that cannot be read)
// stops the publish: going on would drop that run from the site's history
// and manifest.
func TestPublishStopsWhenAFetchFails(t *testing.T) {
	want, _, store := publishedSite(t)
	failing := runKey(want.RunIDs[7], "report.json")
	_, err := Publish(context.Background(), Input{Runs: t.TempDir(), Store: flakyStore{store, failing}})
	if err == nil || !strings.Contains(err.Error(), "connection reset") || !strings.Contains(err.Error(), failing) {
		t.Errorf("publish with %s failing: %v", failing, err)
	}
	if _, err := Fetch(context.Background(), FetchInput{Runs: t.TempDir(), Store: flakyStore{store, failing}}); err == nil {
		t.Errorf("fetch with %s failing: no error", failing)
	}
}
