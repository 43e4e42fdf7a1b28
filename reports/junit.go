package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drill-sre/drill/internal/redact"
)

// JUnitSuite is the name of the one test suite WriteJUnit writes.
const JUnitSuite = "drill"

// junitSuites is the JUnit document: one suite, one case per drill.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// junitText is an element whose text is kept as written, line breaks
// included.
type junitText struct {
	Text string `xml:",cdata"`
}

// WriteJUnit writes r as JUnit XML: one test suite named "drill" with one
// test case per drill. A case is named by the drill's name alone, so that
// names stay stable across runs; its classname is the fault type and its
// time how long the drill sampled. A failed drill carries a <failure> with
// its failures and failing objectives, a drill that could not measure an
// <error>; system-out holds the drill's objectives table.
func WriteJUnit(w io.Writer, r Report) error {
	r = redact.Value(r)
	suite := junitSuite{
		Name:  JUnitSuite,
		Tests: len(r.Drills),
		Time:  junitTime(r.Started, r.Finished),
		Cases: make([]junitCase, 0, len(r.Drills)),
	}
	if !r.Started.IsZero() {
		suite.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, d := range r.Drills {
		c := junitCase{
			Name:      d.Name,
			Classname: d.Fault.Type,
			Time:      fmt.Sprintf("%.3f", d.Duration().Seconds()),
		}
		out, err := objectivesText(d)
		if err != nil {
			return fmt.Errorf("write junit: drill %s: %w", d.Name, err)
		}
		if out != "" {
			c.SystemOut = &junitText{Text: xmlText(out)}
		}
		switch d.Verdict {
		case Pass:
		case Fail:
			c.Failure = problem(d, "drill failed")
			suite.Failures++
		default:
			c.Error = problem(d, "drill could not measure")
			suite.Errors++
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitSuites{
		Name:     JUnitSuite,
		Tests:    suite.Tests,
		Failures: suite.Failures,
		Errors:   suite.Errors,
		Time:     suite.Time,
		Suites:   []junitSuite{suite},
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	buf.WriteString("\n")
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

// problem builds the <failure> or <error> of a drill: its failures and the
// objectives that did not pass, on one line in the message and one a line
// in the text.
func problem(d Drill, fallback string) *junitProblem {
	var reasons []string
	reasons = append(reasons, d.Failures...)
	for _, o := range failingObjectives(d) {
		reasons = append(reasons, describeObjective(o))
	}
	if len(reasons) == 0 {
		reasons = []string{fmt.Sprintf("%s (verdict %q)", fallback, d.Verdict)}
	}
	folded := make([]string, len(reasons))
	for i, s := range reasons {
		folded[i] = oneLine(s)
	}
	return &junitProblem{
		Message: strings.Join(folded, "; "),
		Type:    string(d.Verdict),
		Text:    xmlText(strings.Join(reasons, "\n")),
	}
}

// objectivesText renders a drill's objectives as a plain-text table.
func objectivesText(d Drill) (string, error) {
	if len(d.Objectives) == 0 {
		return "", nil
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECTIVE\tBOUND\tMEASURED\tVERDICT\tDETAIL")
	for _, o := range d.Objectives {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", oneLine(o.Name), orDash(oneLine(o.Bound)),
			orDash(oneLine(o.Measured)), orDash(string(o.Verdict)), oneLine(o.Detail))
	}
	if err := tw.Flush(); err != nil {
		return "", err
	}
	return trimLines(buf.String()), nil
}

// xmlText replaces the characters XML 1.0 cannot carry with U+FFFD. The
// encoder does so for attributes and escaped text, not for CDATA.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

// junitTime is the seconds between from and to, or 0 when unknown.
func junitTime(from, to time.Time) string {
	if from.IsZero() || to.Before(from) {
		return "0.000"
	}
	return fmt.Sprintf("%.3f", to.Sub(from).Seconds())
}
