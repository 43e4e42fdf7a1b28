package history

import (
	"bytes"
	stdhtml "html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history/historytest"
)

func TestWriteSite(t *testing.T) {
	want, a := generated(t)
	out := t.TempDir()
	written, err := WriteSite(out, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 1+len(a.Drills) || filepath.Base(written[0]) != IndexFile {
		t.Fatalf("wrote %v, want the index and a page per drill", written)
	}
	index, err := os.ReadFile(filepath.Join(out, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(index) > 200<<10 {
		t.Errorf("index.html is %d bytes, want far below 1 MB", len(index))
	}
	t.Logf("index.html: %d bytes", len(index))
	html := string(index)

	// The grid: a column per run, newest first, a row per drill.
	if n := strings.Count(html, `<th class="run"`); n != 30 {
		t.Errorf("%d run columns, want 30", n)
	}
	first := strings.Index(html, ">"+want.RunIDs[29]+"</th>")
	last := strings.Index(html, ">"+want.RunIDs[0]+"</th>")
	if first < 0 || last < first {
		t.Errorf("run columns not newest first")
	}
	if n := strings.Count(html, `<tr><th class="drill"><a href=`); n != len(a.Drills) {
		t.Errorf("%d drill rows, want %d", n, len(a.Drills))
	}
	// SometimesDrill's row has an empty cell for each run it missed.
	row := rowOf(t, html, historytest.SometimesDrill)
	if n := strings.Count(row, `<td class="c none"></td>`); n != len(want.SometimesMissing) {
		t.Errorf("%s: %d empty cells, want %d", historytest.SometimesDrill, n, len(want.SometimesMissing))
	}
	if !strings.Contains(row, `<td>100% <span class="note">10/10</span></td>`) {
		t.Errorf("%s row lacks its pass rate:\n%s", historytest.SometimesDrill, row)
	}
	// The error.
	if !strings.Contains(rowOf(t, html, historytest.ErrorDrill), `<td class="c error" title="etcd-restore-total-loss in `+want.ErrorRunID+`: error, rto.api not measured">! not measured</td>`) {
		t.Errorf("no error cell for %s in %s", historytest.ErrorDrill, want.ErrorRunID)
	}
	// The flaky badge.
	if !strings.Contains(rowOf(t, html, historytest.FlakyDrill), `<span class="badge" title="9 flips in its last 10 runs">flaky</span>`) {
		t.Errorf("no flaky badge on %s", historytest.FlakyDrill)
	}
	if strings.Count(html, `class="badge"`) != 1 {
		t.Errorf("want one flaky badge")
	}
	// The regression: listed at the top and marked in its cell.
	regs := html[strings.Index(html, `id="regressions"`):strings.Index(html, `id="grid"`)]
	if !strings.Contains(regs, want.RegressionRunID+": <a href=\"drill-kill-control-plane-etcd-leader.html\">kill-control-plane-etcd-leader</a> rto.api 27.5s, worse than P95 of the 10 earlier runs") {
		t.Errorf("regression not listed at the top:\n%s", regs)
	}
	cell := regexp.MustCompile(`<td class="c pass reg" title="([^"]*)">([^<]*)<span class="rn">([^<]*)</span></td>`).FindAllStringSubmatch(html, -1)
	if len(cell) != 1 {
		t.Fatalf("%d regression cells, want 1", len(cell))
	}
	if !strings.Contains(cell[0][1], "in "+want.RegressionRunID) || !strings.Contains(cell[0][1], "regressed: rto.api 27.5s") {
		t.Errorf("regression cell's title %q", cell[0][1])
	}
	if !regexp.MustCompile(`^▲ rto\.api \+1[56]\.\ds$`).MatchString(stdhtml.UnescapeString(cell[0][3])) {
		t.Errorf("regression cell says %q, want which figure and by how much", cell[0][3])
	}
	for _, bad := range []string{"<script", "<link", "<img", "http://", "https://", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("index.html holds %q: it must load nothing", bad)
		}
	}

	// A drill's page: a chart per figure, each point titled.
	page, err := os.ReadFile(filepath.Join(out, "drill-kill-control-plane-etcd-leader.html"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drill-kill-control-plane-etcd-leader.html: %d bytes", len(page))
	if n := bytes.Count(page, []byte("<svg ")); n != 3 {
		t.Errorf("%d charts, want 3 (rto.api, rpo.maxLostWrites, alerts.ClusterDown.firing)", n)
	}
	if n := bytes.Count(page, []byte(`<circle class="hit"`)); n != 90 {
		t.Errorf("%d points, want 90", n)
	}
	if !bytes.Contains(page, []byte("<title>"+want.RegressionRunID+": 27.5s (pass)</title>")) {
		t.Errorf("no point titled with the regressed run")
	}
	if bytes.Contains(page, []byte("<?xml")) || bytes.Contains(page, []byte("<script")) {
		t.Errorf("page holds an XML prolog or a script")
	}
	if bytes.Contains(page, []byte("not drawn")) {
		t.Errorf("a bound was not drawn: %s", page)
	}
	for _, f := range written {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 300<<10 {
			t.Errorf("%s is %d bytes", f, len(data))
		}
	}
}

// rowOf returns the grid row of drill.
func rowOf(t *testing.T, html, drill string) string {
	t.Helper()
	start := strings.Index(html, `<tr><th class="drill"><a href="drill-`+drill+`.html">`)
	if start < 0 {
		t.Fatalf("no row for %s", drill)
	}
	end := strings.Index(html[start:], "</tr>")
	return html[start : start+end]
}

func TestWriteSiteEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>`
	o := reports.Objective{Name: "rto." + evil, Bound: "20s" + evil, Measured: "1.0s" + evil, Value: 1, Unit: "s" + evil, Verdict: reports.Pass}
	h := History{Runs: []Run{
		run("r0"+evil, drillWith("d"+evil, reports.Verdict("odd"+evil), o)),
		run("r1", drillWith("d"+evil, reports.Pass, o)),
	}}
	out := t.TempDir()
	written, err := WriteSite(out, Analyze(h, DefaultThresholds(), DefaultFlakyRule()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range written {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("<script")) {
			t.Errorf("%s holds recorded text unescaped:\n%s", f, data)
		}
		if filepath.Dir(f) != out {
			t.Errorf("wrote %s outside %s", f, out)
		}
	}
	if got := filepath.Base(written[1]); got != "drill-d-script-alert--x----script-.html" {
		t.Errorf("drill page named %s", got)
	}
}

func TestPageNames(t *testing.T) {
	got := pageNames([]string{"a", "A", "a/b", "a-b", "../x"})
	want := map[string]string{"a": "drill-a.html", "A": "drill-A-2.html", "a/b": "drill-a-b.html", "a-b": "drill-a-b-2.html", "../x": "drill-..-x.html"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("page of %q: %s, want %s", k, got[k], v)
		}
	}
}

func TestWriteSummary(t *testing.T) {
	want, a := generated(t)
	var buf bytes.Buffer
	if err := WriteSummary(&buf, a); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, s := range []string{
		"30 runs from " + want.RunIDs[0] + " to " + want.RunIDs[29] + ", 5 drills\n",
		"DRILL  ",
		"crashloop-pods                  30   83%     5/10 passed   flaky (9 flips)\n",
		"velero-restore                  10   100%    3/3 passed    -\n",
		"no regression in the newest run " + want.RunIDs[29] + "\n",
		"1 regression in earlier runs\n",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("summary lacks %q:\n%s", s, got)
		}
	}
}

// With RunReports, a run's column links to its report.html and each cell
// to its drill's section there; a run without one links nowhere.
func TestWriteSiteLinksRuns(t *testing.T) {
	want, a := generated(t)
	noReport := want.RunIDs[3]
	out := t.TempDir()
	if _, err := WriteSite(out, a, RunReports(func(id string) string {
		if id == noReport {
			return ""
		}
		return "runs/" + id + "/report.html"
	})); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(out, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(index)
	reg := want.RegressionRunID
	for _, s := range []string{
		`<a href="runs/` + reg + `/report.html">` + reg + `</a></th>`,
		`<a class="cell" href="runs/` + reg + `/report.html#drill-` + historytest.RegressedDrill + `">`,
		`>` + noReport + `</th>`,
	} {
		if !strings.Contains(html, s) {
			t.Errorf("index.html lacks %s", s)
		}
	}
	if strings.Contains(html, "runs/"+noReport+"/") {
		t.Errorf("index.html links run %s, which has no report.html", noReport)
	}
	// Without the option, nothing links to a run.
	plain := t.TempDir()
	if _, err := WriteSite(plain, a); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(plain, IndexFile)); strings.Contains(string(b), "report.html") {
		t.Errorf("index.html links a report.html without RunReports")
	}
}
