//go:build browser

package pagecheck_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/pagecheck"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history"
	"github.com/drill-sre/drill/reports/history/historytest"
)

// The pages test renders drill's pages and opens them in Chromium: the
// report of a game day (report.json recorded from a real run: by default
// testdata/report.json, in make test the run it just made) and the history
// site of a generated history of 30 runs with one regression and one
// flaky drill. Screenshots, printed PDFs and the measurements go to -out.
var (
	reportJSON = flag.String("report", "testdata/report.json", "a report.json recorded from a real run")
	outDir     = flag.String("out", "", "where to save screenshots and measurements (default: a temporary directory)")
)

// maxPage is the most a page may weigh.
const maxPage = 1 << 20

// loads is how many times each page is loaded to measure its load event.
const loads = 5

// out returns the directory for screenshots and measurements.
func out(t *testing.T) string {
	t.Helper()
	dir := *outDir
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// measurement is what measurements.json records of one page.
type measurement struct {
	Page  string `json:"page"`
	Bytes int64  `json:"bytes"`
	// LoadEventMs are the load events of each cold load, MedianMs their
	// median.
	LoadEventMs []float64 `json:"loadEventMs"`
	MedianMs    float64   `json:"medianMs"`
}

// record adds m to DIR/measurements.json.
func record(t *testing.T, dir string, m measurement) {
	t.Helper()
	path := filepath.Join(dir, "measurements.json")
	var all []measurement
	if data, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(data, &all)
	}
	all = slices.DeleteFunc(all, func(o measurement) bool { return o.Page == m.Page })
	all = append(all, m)
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReportPage(t *testing.T) {
	b, ctx := browser(t)
	dir := out(t)
	r, err := reports.Read(*reportJSON)
	if err != nil {
		t.Fatalf("the report to draw: %v", err)
	}
	if len(r.Drills) == 0 {
		t.Fatalf("%s holds no drill", *reportJSON)
	}
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := reports.WriteHTML(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page
	p := open(ctx, t, b, url, dir, "report")
	defer p.Close()

	// The game day's verdict at the top.
	var top struct {
		Verdict string `json:"verdict"`
		First   bool   `json:"first"`
	}
	if err := p.Eval(`(() => {
  const v = document.getElementById("verdict");
  if (!v) return {verdict: "", first: false};
  const h = document.querySelector("section.drill");
  return {verdict: v.getAttribute("data-verdict"),
          first: !h || !!(v.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING)};
})()`, &top); err != nil {
		t.Fatal(err)
	}
	wantVerdict := "pass"
	if len(r.NotPassed()) > 0 {
		wantVerdict = "not pass"
	}
	if got := top.Verdict; (got == "pass") != (wantVerdict == "pass") || got == "" {
		t.Errorf("game day verdict shown %q, want %s", got, wantVerdict)
	}
	if !top.First {
		t.Errorf("the game day's verdict is not above the drills")
	}

	// A row per drill linking to its section, and each section's timeline.
	type drawn struct {
		Drill    string `json:"drill"`
		FigDrill string `json:"figDrill"`
		Summary  bool   `json:"summary"`
		Link     bool   `json:"link"`
		Section  bool   `json:"section"`
		Timeline bool   `json:"timeline"`
		Rows     []row  `json:"rows"`
	}
	// By position: a report may hold two drills of one name.
	var seen []drawn
	if err := p.Eval(`(() => {
  const trs = [...document.querySelectorAll("#drills tr[data-drill]")];
  const figs = [...document.querySelectorAll("figure.timeline")];
  return trs.map((tr, i) => {
    const a = tr.querySelector('a[href^="#"]');
    const target = a && document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
    const fig = figs[i];
    const svg = fig && fig.querySelector("svg");
    const rows = svg ? [...svg.querySelectorAll("g.row")].map((g) => {
      const shapes = [...g.querySelectorAll("rect, path")];
      return {key: g.getAttribute("data-row"),
              label: [...g.querySelectorAll("text")].map((x) => x.textContent).join(" "),
              shapes: shapes.length,
              titled: shapes.filter((s) => [...s.children].some((c) => c.tagName === "title" && c.textContent.trim() !== "")).length};
    }) : [];
    return {drill: tr.getAttribute("data-drill"), figDrill: fig ? fig.getAttribute("data-drill") : "",
            summary: true, link: !!a,
            section: !!(target && target.matches("section.drill") && fig && target.contains(fig)),
            timeline: !!svg, rows: rows};
  });
})()`, &seen); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(r.Drills) {
		t.Fatalf("the drills table has %d rows, the report %d drills", len(seen), len(r.Drills))
	}
	anchors := reports.DrillAnchors(r.Drills)
	for i, d := range r.Drills {
		s := seen[i]
		if s.Drill != d.Name || s.FigDrill != d.Name {
			t.Errorf("drill %d: %s in the report, %q in the table, %q over the timeline", i, d.Name, s.Drill, s.FigDrill)
		}
		if !s.Summary || !s.Link || !s.Section || !s.Timeline {
			t.Errorf("drill %s: summary row %v, link %v, section holding the timeline %v, timeline drawn %v",
				d.Name, s.Summary, s.Link, s.Section, s.Timeline)
			continue
		}
		keys := map[string]row{}
		for _, rw := range s.Rows {
			keys[rw.Key] = rw
		}
		for _, want := range expectedRows(d) {
			rw, ok := keys[want]
			switch {
			case !ok:
				t.Errorf("drill %s: timeline row %q missing; drawn: %v", d.Name, want, rowKeys(s.Rows))
			case rw.Shapes == 0 || rw.Titled != rw.Shapes:
				t.Errorf("drill %s: timeline row %q: %d of its %d bars and marks have a tooltip (<title>)", d.Name, want, rw.Titled, rw.Shapes)
			case strings.TrimSpace(rw.Label) == "":
				t.Errorf("drill %s: timeline row %q has no label", d.Name, want)
			}
		}
		t.Logf("drill %s: timeline rows %v", d.Name, rowKeys(s.Rows))
		// Each drill's timeline alone, and its whole section, for a reader
		// of the screenshots.
		section := fmt.Sprintf(`section.drill[id=%q]`, anchors[i])
		base := filepath.Join(dir, fmt.Sprintf("drill-%d-%s", i+1, safeName(d.Name)))
		if err := p.ScreenshotOf(section+" figure.timeline", base+"-timeline.png"); err != nil {
			t.Error(err)
		}
		if err := p.ScreenshotOf(section, base+".png"); err != nil {
			t.Error(err)
		}
	}
}

func TestHistoryPages(t *testing.T) {
	b, ctx := browser(t)
	dir := out(t)
	want, err := historytest.Write(t.TempDir(), historytest.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	h, err := history.Load(want.Dir)
	if err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(dir, "history")
	if _, err := history.WriteSite(site, history.Analyze(h, history.DefaultThresholds(), history.DefaultFlakyRule())); err != nil {
		t.Fatal(err)
	}
	p := open(ctx, t, b, "file://"+filepath.Join(site, history.IndexFile), dir, "history-index")
	defer p.Close()

	var grid struct {
		Runs   []string                      `json:"runs"`
		Regs   []struct{ Drill, Run string } `json:"regs"`
		Flaky  []string                      `json:"flaky"`
		Empty  int                           `json:"empty"`
		Listed string                        `json:"listed"`
	}
	if err := p.Eval(`(() => {
  const table = document.querySelector("table.grid");
  const runs = [...table.querySelectorAll("thead th.run")].map((th) => th.textContent.trim());
  const heads = [...table.querySelectorAll("thead th")];
  const regs = [...table.querySelectorAll("td.c.reg")].map((td) => {
    const tr = td.closest("tr");
    return {Drill: tr.querySelector("th.drill a").textContent.trim(),
            Run: heads[td.cellIndex].textContent.trim()};
  });
  const flaky = [...table.querySelectorAll("tbody tr")].filter((tr) => tr.querySelector("th.drill .badge"))
    .map((tr) => tr.querySelector("th.drill a").textContent.trim());
  const regsList = document.querySelector("ul.regs");
  return {runs: runs, regs: regs, flaky: flaky,
          empty: table.querySelectorAll("td.c.none").length,
          listed: regsList ? regsList.textContent : ""};
})()`, &grid); err != nil {
		t.Fatal(err)
	}
	if len(grid.Runs) != len(want.RunIDs) {
		t.Errorf("grid shows %d runs, want %d", len(grid.Runs), len(want.RunIDs))
	}
	if len(grid.Regs) != 1 || grid.Regs[0].Drill != historytest.RegressedDrill || grid.Regs[0].Run != want.RegressionRunID {
		t.Errorf("regressed cells %+v, want one: %s in run %s", grid.Regs, historytest.RegressedDrill, want.RegressionRunID)
	}
	if !strings.Contains(grid.Listed, historytest.RegressedDrill) || !strings.Contains(grid.Listed, want.RegressionRunID) {
		t.Errorf("the regressions listed at the top (%q) do not name %s in %s", grid.Listed, historytest.RegressedDrill, want.RegressionRunID)
	}
	if !slices.Equal(grid.Flaky, []string{historytest.FlakyDrill}) {
		t.Errorf("flaky badges on %q, want on %s only", grid.Flaky, historytest.FlakyDrill)
	}
	if grid.Empty < len(want.SometimesMissing) {
		t.Errorf("%d empty cells, want at least %d (the runs %s skipped)", grid.Empty, len(want.SometimesMissing), historytest.SometimesDrill)
	}

	// The regressed drill's page: its trend charts drawn, the regressed
	// point marked.
	var dp struct {
		Charts    int `json:"charts"`
		Regressed int `json:"regressed"`
	}
	page := filepath.Join(site, "drill-"+historytest.RegressedDrill+".html")
	d := open(ctx, t, b, "file://"+page, dir, "history-"+historytest.RegressedDrill)
	defer d.Close()
	if err := d.Eval(`({charts: document.querySelectorAll(".chart svg").length,
  regressed: document.querySelectorAll("table.points td.reg").length})`, &dp); err != nil {
		t.Fatal(err)
	}
	if dp.Charts == 0 || dp.Regressed != 1 {
		t.Errorf("%s: %d charts, %d regressed points; want charts and 1", page, dp.Charts, dp.Regressed)
	}
}

// open checks the page at path (a file:// URL) as a reader's browser sees
// it: no console error, no request leaving the page, no wider than a
// phone, no heavier than maxPage. It saves NAME-desktop.png,
// NAME-phone.png and NAME.pdf in dir, records the median of loads cold
// loads' load events in dir/measurements.json, and returns the page open
// at the desktop viewport.
func open(ctx context.Context, t *testing.T, b *pagecheck.Browser, url, dir, name string) *pagecheck.Page {
	t.Helper()
	path := strings.TrimPrefix(url, "file://")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > maxPage {
		t.Errorf("%s weighs %d bytes, more than %d", path, st.Size(), maxPage)
	}
	m := measurement{Page: name, Bytes: st.Size()}
	for range loads {
		p, err := b.Open(ctx, url, pagecheck.Desktop)
		if err != nil {
			t.Fatal(err)
		}
		m.LoadEventMs = append(m.LoadEventMs, float64(p.LoadEvent)/float64(time.Millisecond))
		p.Close()
	}
	sorted := slices.Clone(m.LoadEventMs)
	sort.Float64s(sorted)
	m.MedianMs = sorted[len(sorted)/2]
	record(t, dir, m)
	t.Logf("%s: %d bytes, load event median %.0f ms of %v", name, m.Bytes, m.MedianMs, m.LoadEventMs)

	phone, err := b.Open(ctx, url, pagecheck.Phone)
	if err != nil {
		t.Fatal(err)
	}
	if phone.ScrollWidth > phone.ViewportWidth {
		t.Errorf("%s: %d px wide on a %d px phone: the page scrolls sideways", name, phone.ScrollWidth, phone.ViewportWidth)
	}
	if err := phone.Screenshot(filepath.Join(dir, name+"-phone.png")); err != nil {
		t.Error(err)
	}
	phone.Close()

	p, err := b.Open(ctx, url, pagecheck.Desktop)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) > 0 {
		t.Errorf("%s: console errors:\n%s", name, strings.Join(p.Errors, "\n"))
	}
	if o := p.Outside(); len(o) > 0 {
		t.Errorf("%s: requests leaving the page: %q", name, o)
	}
	if err := p.Screenshot(filepath.Join(dir, name+"-desktop.png")); err != nil {
		t.Error(err)
	}
	if err := p.PDF(filepath.Join(dir, name+".pdf")); err != nil {
		t.Error(err)
	}
	return p
}

// row is a timeline's row as drawn: its key (data-row), its label and
// its bars and marks, and how many carry a tooltip.
type row struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// Shapes are its bars and marks (rect, path); Titled those with a
	// tooltip of their own.
	Shapes int `json:"shapes"`
	Titled int `json:"titled"`
}

// rowKeys are the drawn rows' keys.
func rowKeys(rows []row) []string {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.Key
	}
	return keys
}

// expectedRows are the timeline rows drill d's report has data for: a row
// per sampler that recorded an interval, the fault, each alert seen and
// each RTO objective's deadline (its bound a duration).
func expectedRows(d reports.Drill) []string {
	set := map[string]bool{}
	for _, iv := range d.Intervals {
		l := iv.Locator
		switch {
		case l == monitor.LocatorAPINew:
			set["api-new"] = true
		case l == monitor.LocatorAPIReused:
			set["api-reused"] = true
		case strings.HasPrefix(l, "apiserver/"):
			set["apiserver:"+strings.TrimSuffix(strings.TrimPrefix(l, "apiserver/"), " path/readyz")] = true
		case l == monitor.LocatorEtcdLeader:
			set["etcd-leader"] = true
		case strings.HasPrefix(l, "etcd/member/"):
			set["etcd-member:"+strings.TrimPrefix(l, "etcd/member/")] = true
		case l == monitor.LocatorApp:
			set["app"] = true
		case l == monitor.LocatorReadyPods:
			set["ready"] = true
		case l == monitor.LocatorDisruptionsAllowed:
			set["pdb"] = true
		}
	}
	if !d.Fault.Injected.IsZero() {
		set["fault"] = true
	}
	if d.Alerts != nil {
		for _, a := range d.Alerts.Seen {
			set["alert:"+a.Name] = true
		}
	}
	for _, o := range d.Objectives {
		if !strings.HasPrefix(o.Name, "rto.") || d.Fault.Injected.IsZero() {
			continue
		}
		if _, err := time.ParseDuration(o.Bound); err == nil {
			set["deadline:"+o.Name] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// safeName is name fit for a file name.
func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, name)
}
