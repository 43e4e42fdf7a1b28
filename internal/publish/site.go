package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history"
)

// The site's layout:
//
//	index.html, drill-NAME.html   the history of every run published (package history)
//	runs/index.html               every run, newest first, linked to its report
//	runs/<id>/...                 a run: RunFiles of its directory
//	runs.json                     the manifest: every run, the latest, their files
//	latest/index.html             sends a browser on to the latest run's report
const (
	RunsDir      = "runs"
	RunsIndexKey = "runs/index.html"
	ManifestKey  = "runs.json"
	LatestKey    = "latest/index.html"
)

// RunFiles are the files of a run directory that are published, as
// patterns (path.Match) relative to it: what drill report writes, and the
// drills' and phases' own records. The rest is not: journals, artifacts
// (etcd snapshots) and node logs are large, and not for a web page.
var RunFiles = []string{
	history.ReportFile, "report.html", "report.md", "report.prom", "summary.md", "junit*.xml",
	reports.DrillsDir + "/*.json", reports.PhasesDir + "/*.json",
}

// isRunFile says whether rel, a slash-separated path in a run directory,
// is published.
func isRunFile(rel string) bool {
	for _, p := range RunFiles {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
	}
	return false
}

// runKey returns the key of a run's file.
func runKey(id, rel string) string { return RunsDir + "/" + id + "/" + rel }

// runReportID returns the run whose report.json key is, and false when key
// is no run's report.json.
func runReportID(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, RunsDir+"/")
	if !ok {
		return "", false
	}
	id, file, ok := strings.Cut(rest, "/")
	if !ok || file != history.ReportFile || !validRunID(id) {
		return "", false
	}
	return id, true
}

// validRunID says whether id can name a run directory: letters, digits,
// dots, dashes and underscores, as runs.New names them, and not a name the
// site or the runs directory keeps for itself.
func validRunID(id string) bool {
	if id == "" || id == "." || id == ".." || strings.HasPrefix(id, ".") || id == "latest" {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// ContentType returns the Content-Type a file is served with, by its name.
func ContentType(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".md":
		return "text/markdown; charset=utf-8"
	case ".xml":
		return "application/xml"
	case ".prom":
		return "text/plain; version=0.0.4; charset=utf-8"
	case ".txt", ".log":
		return "text/plain; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// noCache is the Cache-Control of what each publish rewrites (the history's
// pages, the runs' index, the manifest, latest): a cache must ask again.
const noCache = "no-cache"

// ManifestSchema names the shape of runs.json.
const ManifestSchema = "drill.sre/site/v1"

// Manifest is runs.json: what the site holds, for a program (or a person)
// that cannot list it.
type Manifest struct {
	SchemaVersion string `json:"schemaVersion"`
	// Latest is the newest run's ID.
	Latest string `json:"latest"`
	// Runs are newest first.
	Runs []ManifestRun `json:"runs"`
}

// ManifestRun is one run of the site.
type ManifestRun struct {
	ID       string    `json:"id"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	Drills   int       `json:"drills"`
	// Passed counts the drills that passed.
	Passed int `json:"passed"`
	// Files are the run's files under runs/<id>/, sorted.
	Files []string `json:"files"`
}

// newManifest describes h's runs, whose files files gives by run.
func newManifest(h history.History, files map[string][]string) Manifest {
	m := Manifest{SchemaVersion: ManifestSchema, Runs: []ManifestRun{}}
	if newest, ok := h.Newest(); ok {
		m.Latest = newest.ID
	}
	for _, r := range slices.Backward(h.Runs) {
		mr := ManifestRun{ID: r.ID, Started: r.Started, Finished: r.Report.Finished, Drills: len(r.Report.Drills),
			Files: slices.Sorted(slices.Values(files[r.ID]))}
		mr.Passed = len(r.Report.Drills) - len(r.Report.NotPassed())
		m.Runs = append(m.Runs, mr)
	}
	return m
}

func (m Manifest) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode %s: %w", ManifestKey, err)
	}
	return buf.Bytes(), nil
}

// runPage is the page of a run a link goes to: its report.html, else its
// report.md, else its report.json.
func runPage(files []string) string {
	for _, f := range []string{"report.html", "report.md", history.ReportFile} {
		if slices.Contains(files, f) {
			return f
		}
	}
	return ""
}

// latestPage sends a browser on to the latest run's page: a static host
// has no link to follow, and a page that moves is what it has.
func latestPage(m Manifest) ([]byte, error) {
	data := struct{ ID, Target string }{ID: m.Latest}
	for _, r := range m.Runs {
		if r.ID == m.Latest {
			data.Target = "../" + RunsDir + "/" + r.ID + "/" + runPage(r.Files)
		}
	}
	if m.Latest == "" || strings.HasSuffix(data.Target, "/") {
		data.Target = "../" + RunsIndexKey
	}
	var buf bytes.Buffer
	if err := latestTemplate.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", LatestKey, err)
	}
	return buf.Bytes(), nil
}

var latestTemplate = template.Must(template.New("latest").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0; url={{.Target}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>drill: latest run{{with .ID}} {{.}}{{end}}</title>
</head>
<body>
<p>The latest run{{with .ID}}, {{.}},{{end}} is at <a href="{{.Target}}">{{.Target}}</a>.</p>
</body>
</html>
`))

// runsIndexPage lists every run, newest first, each linked to its page.
func runsIndexPage(m Manifest) ([]byte, error) {
	type row struct {
		ID, Href, Started, Verdict, Class string
		Drills, Passed                    int
	}
	var rows []row
	for _, r := range m.Runs {
		rw := row{ID: r.ID, Drills: r.Drills, Passed: r.Passed, Class: "pass", Verdict: "all passed"}
		if p := runPage(r.Files); p != "" {
			rw.Href = r.ID + "/" + p
		}
		if !r.Started.IsZero() {
			rw.Started = r.Started.UTC().Format("2006-01-02 15:04 UTC")
		}
		if r.Passed < r.Drills {
			rw.Class, rw.Verdict = "fail", fmt.Sprintf("%d did not pass", r.Drills-r.Passed)
		}
		rows = append(rows, rw)
	}
	var buf bytes.Buffer
	if err := runsIndexTemplate.Execute(&buf, struct {
		Latest string
		Rows   []row
	}{m.Latest, rows}); err != nil {
		return nil, fmt.Errorf("render %s: %w", RunsIndexKey, err)
	}
	return buf.Bytes(), nil
}

var runsIndexTemplate = template.Must(template.New("runs").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>drill: runs</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1f2328; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .3em .8em; border-bottom: 1px solid #d0d7de; }
.pass { color: #1a7f37; } .fail { color: #cf222e; font-weight: 600; }
</style>
</head>
<body>
<h1>drill: runs</h1>
<p><a href="../index.html">History</a>{{with .Latest}} · <a href="../latest/">latest run ({{.}})</a>{{end}}</p>
{{if .Rows}}<table>
<thead><tr><th>Run</th><th>Started</th><th>Drills</th><th>Verdict</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{if .Href}}<a href="{{.Href}}">{{.ID}}</a>{{else}}{{.ID}}{{end}}</td><td>{{.Started}}</td><td>{{.Drills}}</td><td class="{{.Class}}">{{.Verdict}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p>No runs published yet.</p>{{end}}
</body>
</html>
`))
