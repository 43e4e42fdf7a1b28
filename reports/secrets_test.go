package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/drill-sre/drill/internal/monitor"
)

// Credentials leak into recorded text through error messages and URLs.
const (
	secretURL   = "https://user:pass@example.invalid/x"
	secretToken = "Authorization: Bearer abcDEF0123456789token"
)

// leakyDrill is a drill whose every recorded text holds secretURL and
// secretToken.
func leakyDrill() Drill {
	both := "GET " + secretURL + " with " + secretToken
	d := failDrill()
	d.Name = "leaky"
	d.Description = "Restores from " + secretURL
	d.File = "/tmp/" + secretURL
	d.Failures = []string{both, "rpo: " + secretURL}
	d.Fault.Target = "bucket " + secretURL
	d.Fault.Facts = []string{both}
	d.Fault.RevertError = both
	d.Fault.Steps = []monitor.Interval{{From: at(1), To: at(2), Locator: "velero/" + secretURL, Level: monitor.Error, Message: both}}
	d.Objectives = append(d.Objectives, Objective{Name: "rto.app", Bound: "1s", Measured: "2s", Verdict: Fail, Detail: both})
	d.Measurements = []Measurement{{Name: "restore", Value: 1, Unit: "s", Detail: both}}
	d.Intervals = append(d.Intervals, monitor.Interval{From: at(3), To: at(4), Locator: "url/" + secretURL, Level: monitor.Error, Message: both})
	d.Samplers = []monitor.Stats{{Locator: "url/" + secretURL}}
	d.Findings = []string{both}
	d.Preflight = []Check{{Name: "api", Status: "failed", Detail: both}}
	d.Alerts = &Alerts{
		Prometheus: secretURL, Alertmanager: secretURL, Receiver: secretURL + "?token=s3cr3tvalue",
		Seen: []Alert{{Name: "X", Labels: map[string]string{"url": secretURL, "note": secretToken}, Firing: []Span{{From: at(5), To: at(6)}}}},
	}
	return d
}

// No report file carries a credential that a drill recorded: the drill's
// JSON, report.json, report.md, report.html, junit-drills.xml and the
// table.
func TestReportsRedactCredentials(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteDrill(dir, leakyDrill()); err != nil {
		t.Fatal(err)
	}
	r, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Cluster = secretURL
	// Collect read the redacted drill file; render the original too, as
	// drill run does from memory.
	r.Drills = append(r.Drills, func() Drill { d := leakyDrill(); d.Name = "leaky-in-memory"; return d }())
	if err := Write(filepath.Join(dir, "report.json"), r); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, name := range []string{"drills/leaky.json", "report.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	for name, w := range map[string]func(*bytes.Buffer, Report) error{
		"report.md":        func(b *bytes.Buffer, r Report) error { return WriteMarkdown(b, r) },
		"report.html":      func(b *bytes.Buffer, r Report) error { return WriteHTML(b, r) },
		"junit-drills.xml": func(b *bytes.Buffer, r Report) error { return WriteJUnit(b, r) },
		"table":            func(b *bytes.Buffer, r Report) error { return WriteTable(b, r) },
	} {
		var b bytes.Buffer
		if err := w(&b, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files[name] = b.Bytes()
	}
	for name, b := range files {
		s := string(b)
		for _, leak := range []string{"user:pass", "abcDEF0123456789token", "s3cr3tvalue"} {
			if strings.Contains(s, leak) {
				t.Errorf("%s holds %q", name, leak)
			}
		}
		// What is kept says where it went.
		if !strings.Contains(s, "example.invalid") {
			t.Errorf("%s lost the host too", name)
		}
	}
	if !strings.Contains(string(files["report.json"]), "https://REDACTED@example.invalid/x") {
		t.Errorf("report.json does not show the redacted URL:\n%s", files["report.json"])
	}
}

// report.html renders no markup from recorded text: no script, no
// element with an on* attribute, no javascript: link, whatever the case,
// through the whole path (the drill's file, Collect, the page).
func TestHTMLRendersNoRecordedMarkup(t *testing.T) {
	hostile := []string{
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"[x](javascript:alert(1))",
		"[y](JaVaScRiPt:alert(2))",
		"![z](javascript:alert(3))",
		"<a href=\"javascript:alert(4)\">a</a>",
		"[w](vbscript:msgbox(5))",
		"[v](data:text/html;base64,PHNjcmlwdD4=)",
		"<javascript:alert(6)>",
		"<svg onload=alert(7)>",
	}
	all := strings.Join(hostile, "\n")
	d := failDrill()
	d.Name = "hostile"
	d.Description = all
	d.Failures = hostile
	d.Fault.Target = all
	d.Fault.Facts = hostile
	d.Findings = hostile
	d.Objectives = append(d.Objectives, Objective{Name: "rto.app", Verdict: Fail, Detail: all})
	d.Measurements = []Measurement{{Name: "m", Detail: all}}
	d.Intervals = append(d.Intervals, monitor.Interval{From: at(1), To: at(2), Locator: all, Level: monitor.Error, Message: all},
		monitor.Interval{From: at(101), To: at(102), Locator: monitor.LocatorApp, Level: monitor.Error, Message: all})
	d.Preflight = []Check{{Name: "api", Status: "failed", Detail: all}}
	d.Alerts = &Alerts{Prometheus: "javascript:alert(8)", Seen: []Alert{{Name: all, Labels: map[string]string{"x": all}}}}
	dir := t.TempDir()
	if _, err := WriteDrill(dir, d); err != nil {
		t.Fatal(err)
	}
	r, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	// Every element is one the page's template writes (or gonum's SVG:
	// g, path, text); an <svg> is a timeline's or a gauge's.
	allowed := strings.Fields(`html head meta title style body header main h1 h2 h3 p strong dl dt dd code
		div table thead tbody tr th td a span section ul li figure figcaption svg g text rect path`)
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if !slices.Contains(allowed, n.Data) {
				t.Errorf("element <%s> rendered", n.Data)
			}
			if n.Data == "svg" && !hasClass("figure", "timeline")(n.Parent) && !hasClass("svg", "gauge")(n) {
				t.Errorf("<svg> rendered outside a timeline")
			}
			for _, a := range n.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(strings.ToLower(a.Key), "on"):
					t.Errorf("<%s %s=%q> rendered", n.Data, a.Key, a.Val)
				case (a.Key == "href" || a.Key == "src") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:")):
					t.Errorf("<%s %s=%q> rendered", n.Data, a.Key, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	// The text still shows as written, in the timeline's tooltips too.
	if !strings.Contains(textOf(doc), "<script>alert(1)</script>") {
		t.Errorf("the recorded text is not shown as text")
	}
	app := findFirst(doc, func(n *html.Node) bool { return n.Data == "g" && attr(n, "data-row") == "app" })
	if titles := findAll(app, tag("title")); len(titles) == 0 || !strings.Contains(textOf(app), "<script>alert(1)</script> <img src=x onerror=alert(1)>") {
		t.Errorf("the app's outage in the timeline does not show its message as text: %q", textOf(app))
	}
}
