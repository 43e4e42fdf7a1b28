package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// parsedSuites is what a JUnit reader sees of WriteJUnit's output.
type parsedSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	r := sampleReport()
	// Characters XML cannot carry, and the end of a CDATA section.
	r.Drills[1].Failures = append(r.Drills[1].Failures, "bad\x01byte ]]> end")
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatalf("WriteJUnit: %v", err)
	}
	var got parsedSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, buf.String())
	}
	if len(got.Suites) != 1 {
		t.Fatalf("%d suites, want 1", len(got.Suites))
	}
	s := got.Suites[0]
	if s.Name != "drill" || s.Tests != 3 || s.Failures != 1 || s.Errors != 1 {
		t.Errorf("suite %q: tests %d failures %d errors %d, want drill 3 1 1", s.Name, s.Tests, s.Failures, s.Errors)
	}
	if len(s.Cases) != 3 {
		t.Fatalf("%d cases, want 3", len(s.Cases))
	}

	for i, want := range []struct {
		name, classname, time string
		failure, error        bool
	}{
		{"kill-control-plane-etcd-leader", "kill-control-plane", "94.200", false, false},
		{"drain-zone-blocked", "drain-zone", "111.300", true, false},
		{"crashloop-pods", "crashloop-pods", "5.000", false, true},
	} {
		c := s.Cases[i]
		if c.Name != want.name || c.Classname != want.classname || c.Time != want.time {
			t.Errorf("case %d: %s/%s time %s, want %s/%s time %s", i, c.Classname, c.Name, c.Time, want.classname, want.name, want.time)
		}
		if (c.Failure != nil) != want.failure || (c.Error != nil) != want.error {
			t.Errorf("case %s: failure %v error %v, want %v %v", c.Name, c.Failure != nil, c.Error != nil, want.failure, want.error)
		}
	}

	fail := s.Cases[1].Failure
	for _, want := range []string{
		"rto.app: 31.2s exceeds 20s",                                  // a failure
		"rto.app: measured 31.2s, bound 20s (fail): a|b pods unready", // the failing objective
		"byte ]]> end",
	} {
		if !strings.Contains(fail.Message, want) || !strings.Contains(fail.Text, want) {
			t.Errorf("failure lacks %q:\nmessage %q\ntext %q", want, fail.Message, fail.Text)
		}
	}
	if !strings.Contains(fail.Text, "bad\uFFFDbyte") {
		t.Errorf("failure text keeps a character XML cannot carry: %q", fail.Text)
	}
	if strings.Contains(fail.Message, "rpo.records") {
		t.Errorf("failure names a passing objective: %q", fail.Message)
	}
	if m := s.Cases[2].Error.Message; m != "cluster not healthy before injection" {
		t.Errorf("error message %q", m)
	}
	if out := s.Cases[1].SystemOut; !strings.Contains(out, "rpo.records  0      0         pass\n") {
		t.Errorf("system-out lacks the objectives table:\n%s", out)
	}
}

// TestJUnitNamesStable checks that case names carry nothing that changes
// between runs of the same drills.
func TestJUnitNamesStable(t *testing.T) {
	names := func(r Report) string {
		var buf bytes.Buffer
		if err := WriteJUnit(&buf, r); err != nil {
			t.Fatal(err)
		}
		var got parsedSuites
		if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, c := range got.Suites[0].Cases {
			n = append(n, c.Classname+"/"+c.Name)
		}
		return strings.Join(n, ",")
	}
	r1, r2 := sampleReport(), sampleReport()
	for i := range r2.Drills {
		r2.Drills[i].Started = r2.Drills[i].Started.Add(7e9)
		r2.Drills[i].Finished = r2.Drills[i].Finished.Add(13e9)
		r2.Drills[i].Verdict = Pass
	}
	if a, b := names(r1), names(r2); a != b {
		t.Errorf("case names changed between runs:\n%s\n%s", a, b)
	}
}
