package reports

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/drill-sre/drill/internal/monitor"
)

// The page holds the game day's verdict above the drills, a summary row per
// drill linking to the drill's section, and in each section the drill's
// timeline; recorded text shows as written, markup included, without
// becoming markup; nothing is loaded from elsewhere.
func TestWriteHTML(t *testing.T) {
	r := sampleReport()
	d := passDrill()
	d.Name = "markup & co"
	d.Description = "Checks <b>escaping</b> & co."
	d.Findings = []string{"probe said <script>alert(1)</script>"}
	d.Intervals = append(d.Intervals, monitor.Interval{
		From: at(30), To: at(31), Locator: "app/probe-app", Level: monitor.Error, Message: "error: <nil>\nthen &amp; again",
	})
	r.Drills = append(r.Drills, d)
	doc, page := renderHTML(t, r)

	if got := textOf(findFirst(doc, tag("title"))); got != "Drill report: drill" {
		t.Errorf("title %q", got)
	}
	if findFirst(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "name") == "viewport" }) == nil {
		t.Error("no viewport meta")
	}
	if !strings.Contains(page, "@media print") || !strings.Contains(page, "@media (max-width:") {
		t.Error("no print or phone layout")
	}

	// The verdict, above the drills.
	v := findFirst(doc, func(n *html.Node) bool { return attr(n, "id") == "verdict" })
	if v == nil || attr(v, "data-verdict") != "fail" {
		t.Fatalf("game day verdict %v, want data-verdict=fail", v)
	}
	if sections := findAll(doc, hasClass("section", "drill")); len(sections) == 0 || !before(doc, v, sections[0]) {
		t.Error("the game day's verdict is not above the drills")
	}

	// A summary row per drill, in order, linking to its section, which
	// holds its timeline.
	table := findFirst(doc, func(n *html.Node) bool { return n.Data == "table" && attr(n, "id") == "drills" })
	if table == nil {
		t.Fatal("no table#drills")
	}
	rows := findAll(table, func(n *html.Node) bool { return n.Data == "tr" && hasAttr(n, "data-drill") })
	if len(rows) != len(r.Drills) {
		t.Fatalf("%d summary rows, want %d", len(rows), len(r.Drills))
	}
	for i, want := range r.Drills {
		tr := rows[i]
		if got := attr(tr, "data-drill"); got != want.Name {
			t.Errorf("summary row %d is %q, want %q", i, got, want.Name)
			continue
		}
		a := findFirst(tr, tag("a"))
		if a == nil || !strings.HasPrefix(attr(a, "href"), "#") {
			t.Errorf("%s: no link to its section", want.Name)
			continue
		}
		id := strings.TrimPrefix(attr(a, "href"), "#")
		sec := findFirst(doc, func(n *html.Node) bool { return attr(n, "id") == id })
		switch {
		case sec == nil || !hasClass("section", "drill")(sec):
			t.Errorf("%s: link #%s leads to %v, not a section.drill", want.Name, id, sec)
		case attr(sec, "data-verdict") != string(want.Verdict):
			t.Errorf("%s: section's data-verdict %q, want %q", want.Name, attr(sec, "data-verdict"), want.Verdict)
		default:
			figs := findAll(sec, func(n *html.Node) bool {
				return hasClass("figure", "timeline")(n) && attr(n, "data-drill") == want.Name
			})
			if len(figs) != 1 || len(findAll(figs[0], tag("svg"))) != 1 {
				t.Errorf("%s: %d timelines in its section, want one figure.timeline holding one svg", want.Name, len(figs))
			}
		}
		if cells := findAll(tr, tag("td")); len(cells) < 2 || textOf(cells[1]) != string(want.Verdict) {
			t.Errorf("%s: summary row does not show its verdict", want.Name)
		}
	}
	// The RTO beside its bound, with a gauge.
	if cells := findAll(rows[1], tag("td")); len(cells) < 3 || !strings.Contains(textOf(cells[2]), "rto.app 31.2s / 20s") ||
		len(findAll(cells[2], hasClass("svg", "gauge"))) != 1 {
		t.Errorf("drain-zone-blocked's RTO cell lacks rto.app 31.2s / 20s and its gauge")
	}

	var elements []string
	walkNodes(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		elements = append(elements, n.Data)
		for _, a := range n.Attr {
			if (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(a.Val, "#") {
				t.Errorf("<%s %s=%q>: the page loads or links out", n.Data, a.Key, a.Val)
			}
		}
	})
	for _, bad := range []string{"script", "b", "img", "link", "iframe"} {
		if slices.Contains(elements, bad) {
			t.Errorf("element <%s> rendered", bad)
		}
	}
	text := textOf(doc)
	for _, want := range []string{
		"Checks <b>escaping</b> & co.",
		"probe said <script>alert(1)</script>",
		"error: <nil>",
		"then &amp; again",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}
}

func TestGameDayVerdict(t *testing.T) {
	for _, tc := range []struct {
		name     string
		verdicts []Verdict
		want     Verdict
	}{
		{"all pass", []Verdict{Pass, Pass}, Pass},
		{"a failure", []Verdict{Pass, Fail}, Fail},
		{"an error", []Verdict{Pass, Error}, Error},
		{"a failure and an error", []Verdict{Error, Fail, Pass}, Fail},
		{"an unknown verdict", []Verdict{Pass, "skipped"}, Error},
		{"no drills", nil, Error},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Report
			for _, v := range tc.verdicts {
				r.Drills = append(r.Drills, Drill{Verdict: v})
			}
			if got := r.GameDayVerdict(); got != tc.want {
				t.Errorf("GameDayVerdict() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDrillSlugs(t *testing.T) {
	var drills []Drill
	for _, n := range []string{"kill-control-plane", "a b/c", "", "a-b-c", "ümlaut", "x.y_z", "a b/c"} {
		drills = append(drills, Drill{Name: n})
	}
	want := []string{"drill-kill-control-plane", "drill-a-b-c", "drill-unnamed", "drill-a-b-c-2", "drill-mlaut", "drill-x.y_z", "drill-a-b-c-3"}
	if got := drillSlugs(drills); !slices.Equal(got, want) {
		t.Errorf("drillSlugs = %q, want %q", got, want)
	}
}

// The page of a long game day stays small: seven drills, every sampler of
// each flapping n times over an hour with a message of its own each time.
func TestHTMLPageSize(t *testing.T) {
	const limit = 512 << 10
	for _, n := range []int{10, 300} {
		r := sampleReport()
		r.Drills = nil
		for i := range 7 {
			r.Drills = append(r.Drills, flappingDrill(fmt.Sprintf("flapping-%d", i), n))
		}
		// Rendered without redacting: the page is the same, and
		// redacting 25,000 messages is slow under the race detector.
		var page bytes.Buffer
		if err := writeHTMLPage(&page, r); err != nil {
			t.Fatal(err)
		}
		t.Logf("7 drills, %d outages per sampler: %d bytes", n, page.Len())
		if page.Len() > limit {
			t.Errorf("7 drills, %d outages per sampler: %d bytes, more than %d", n, page.Len(), limit)
		}
	}
	_, page := renderHTML(t, sampleReport())
	t.Logf("the sample report: %d bytes", len(page))
}

// renderHTML renders r and parses the page.
func renderHTML(t *testing.T, r Report) (*html.Node, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parse the page: %v", err)
	}
	return doc, buf.String()
}

// walkNodes calls f on n and every node under it, in document order.
func walkNodes(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walkNodes(c, f)
	}
}

// findAll are the elements under n (n included) that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walkNodes(n, func(c *html.Node) {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	})
	return out
}

// findFirst is the first element under n that matches, or nil.
func findFirst(n *html.Node, match func(*html.Node) bool) *html.Node {
	if m := findAll(n, match); len(m) > 0 {
		return m[0]
	}
	return nil
}

// before says whether a comes before b in doc.
func before(doc, a, b *html.Node) bool {
	i, ia, ib := 0, -1, -1
	walkNodes(doc, func(n *html.Node) {
		switch n {
		case a:
			ia = i
		case b:
			ib = i
		}
		i++
	})
	return ia >= 0 && ib >= 0 && ia < ib
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

// hasClass matches elements named tag with class among their classes.
func hasClass(tag, class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return n.Data == tag && slices.Contains(strings.Fields(attr(n, "class")), class)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

// textOf is the text n holds, markup left out.
func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	walkNodes(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}
