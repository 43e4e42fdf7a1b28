package reports

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/drill-sre/drill/internal/monitor"
)

// The HTML report is the Markdown summary as a page: every table becomes a
// table, a verdict other than pass is bold in its cell, and recorded text
// shows as written, markup included, without becoming markup.
func TestWriteHTML(t *testing.T) {
	r := sampleReport()
	d := passDrill()
	d.Name = "markup"
	d.Description = "Checks <b>escaping</b> & co."
	d.Findings = []string{"probe said <script>alert(1)</script>"}
	d.Intervals = append(d.Intervals, monitor.Interval{
		From: at(30), To: at(31), Locator: "app/probe-app", Level: monitor.Error, Message: "error: <nil>\nthen &amp; again",
	})
	r.Drills = append(r.Drills, d)

	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parse the page: %v", err)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}

	var tables, scripts, bolds int
	var title string
	var failCell bool
	var links []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "table":
				tables++
			case "script", "b":
				scripts++
			case "title":
				title = textOf(n)
			case "strong":
				bolds++
			case "tr":
				// The overview's row of the drill that failed.
				if cells := children(n, "td"); len(cells) == 5 && textOf(cells[0]) == "drain-zone-blocked" {
					s := children(cells[3], "strong")
					failCell = len(s) == 1 && textOf(s[0]) == "fail"
				}
			}
			for _, a := range n.Attr {
				if a.Key == "src" || a.Key == "href" {
					links = append(links, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	want := 0
	for _, l := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(l, "| --- |") {
			want++
		}
	}
	if tables != want || want == 0 {
		t.Errorf("%d tables, want %d (one per Markdown table)", tables, want)
	}
	if title != "Drill report: drill" {
		t.Errorf("title %q", title)
	}
	if !failCell {
		t.Error("the overview row of drain-zone-blocked lacks a bold fail verdict")
	}
	if bolds == 0 {
		t.Error("no verdict is bold")
	}
	if scripts != 0 {
		t.Errorf("%d script or b elements: recorded text became markup", scripts)
	}
	if len(links) != 0 {
		t.Errorf("the page loads %v", links)
	}
	page := textOf(doc)
	for _, want := range []string{
		"Checks <b>escaping</b> & co.",
		"probe said <script>alert(1)</script>",
		"error: <nil>",
		"then &amp; again",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", buf.String())
	}
}

// textOf is the text n holds, markup left out.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// children are n's child elements named tag.
func children(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == tag {
			out = append(out, c)
		}
	}
	return out
}
