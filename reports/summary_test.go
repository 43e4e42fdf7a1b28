package reports

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func summaryReport() Report {
	t0 := time.Date(2026, 12, 7, 3, 15, 0, 0, time.UTC)
	return Report{
		Cluster: "drill",
		Started: t0, Finished: t0.Add(6 * time.Minute),
		Drills: []Drill{
			{
				Name: "kill-apiserver", Verdict: Pass,
				Objectives: []Objective{
					{Name: "rto.api", Bound: "20.0s", Measured: "11.3s", Value: 11.3, Unit: "s", Verdict: Pass},
					{Name: "rpo.maxLostWrites", Bound: "0 writes", Measured: "0 writes", Unit: "writes", Verdict: Pass},
					{Name: "availability", Bound: "≥ 2 Ready", Measured: "2 Ready", Value: 2, Unit: "pods", Verdict: Pass},
				},
			},
			{
				Name: "etcd-restore", Verdict: Fail,
				Objectives: []Objective{
					{Name: "rto.api", Bound: "20.0s", Measured: "31.2s", Value: 31.2, Unit: "s", Verdict: Fail},
					{Name: "rto.app", Bound: "30.0s", Measured: "12.0s", Value: 12, Unit: "s", Verdict: Pass},
					{Name: "maxDuration", Bound: "600.0s", Measured: "300.0s", Value: 300, Unit: "s", Verdict: Pass},
				},
				Failures: []string{"rto.api: measured 31.2s, bound 20.0s (fail) | see <b>[here](javascript:alert(1))</b> @oncall"},
			},
			{
				Name: "drain-zone", Verdict: Error,
				Objectives: []Objective{
					{Name: "rpo", Bound: "declared", Measured: "not measured", Verdict: Error},
				},
			},
		},
	}
}

func TestWriteSummary(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, summaryReport(), SummaryOptions{Link: "https://drills.example.com/runs/20261207T031500Z/report.html"}); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"## ❌ Drills: 2 of 3 did not pass\n",
		"3 drills: 1 pass, 1 fail, 1 error · cluster `drill` · started 2026-12-07T03:15:00Z, wall time 360.0s (6m0s)\n",
		"| Drill | Verdict | RTO (measured / bound) | RPO (measured / bound) | Other objectives |\n",
		"| kill-apiserver | ✅ pass | api 11.3s / 20.0s | maxLostWrites 0 writes / 0 writes | 1 of 1 passed |\n",
		"| etcd-restore | ❌ **fail** | **api 31.2s / 20.0s** (fail)<br>app 12.0s / 30.0s | - | 1 of 1 passed |\n",
		"| drain-zone | ⚠️ **error** | - | **rpo not measured / declared** (error) | - |\n",
		"### Failures\n\n",
		// Escaped: no HTML, no link, no mention.
		"- **etcd-restore** (fail): rto.api: measured 31.2s, bound 20.0s (fail) | see &lt;b>&#91;here](javascript:alert(1))&lt;/b> &#64;oncall\n",
		// No Failures recorded: the failing objectives say why.
		"- **drain-zone** (error): rpo: measured not measured, bound declared (error)\n",
		"Full report: [https://drills.example.com/runs/20261207T031500Z/report.html](<https://drills.example.com/runs/20261207T031500Z/report.html>)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "cut to stay under") {
		t.Errorf("a short summary says it was cut:\n%s", got)
	}
}

func TestWriteSummaryAllPass(t *testing.T) {
	r := summaryReport()
	r.Drills = r.Drills[:1]
	var buf bytes.Buffer
	if err := WriteSummary(&buf, r, SummaryOptions{Link: "javascript:alert(1)"}); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"## ✅ Drills: the drill passed\n",
		"Full report: report.html (and report.md) in the run's directory",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Failures") || strings.Contains(got, "javascript") {
		t.Errorf("summary:\n%s", got)
	}
	buf.Reset()
	if err := WriteSummary(&buf, Report{}, SummaryOptions{}); err != nil || !strings.Contains(buf.String(), "## ⚠️ Drills: none ran") {
		t.Errorf("no drills (%v):\n%s", err, buf.String())
	}
}

// bigReport has n drills that all fail with long, many-line failures.
func bigReport(n int) Report {
	r := summaryReport()
	r.Drills = nil
	for i := range n {
		d := Drill{Name: fmt.Sprintf("drill-%02d-%s", i, strings.Repeat("x", 150)), Verdict: Fail}
		for j := range 4 {
			d.Objectives = append(d.Objectives, Objective{Name: fmt.Sprintf("rto.%d", j), Bound: "20.0s",
				Measured: strings.Repeat("9", 400) + "s", Unit: "s", Verdict: Fail})
		}
		for j := range 8 {
			d.Failures = append(d.Failures, fmt.Sprintf("failure %d: %s", j, strings.Repeat("long reason ", 100)))
		}
		r.Drills = append(r.Drills, d)
	}
	return r
}

func TestWriteSummaryCap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		drills   int
		max      int
		allRows  bool
		wantNote string
	}{
		// 50 drills fit in rows; their failures are cut.
		{name: "50 drills, default cap", drills: 50, allRows: true, wantNote: "0 of 50 drill rows and "},
		{name: "a tight cap", drills: 50, max: 8000, wantNote: "of 50 drill rows and 300 of 300 failure lines left out"},
		{name: "one drill fits", drills: 1, max: 1 << 20, allRows: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSummary(&buf, bigReport(tc.drills), SummaryOptions{MaxBytes: tc.max}); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			limit := tc.max
			if limit == 0 {
				limit = MaxSummaryBytes
			}
			if len(got) > limit {
				t.Errorf("%d bytes, over %d", len(got), limit)
			}
			if n := strings.Count(got, "| drill-"); tc.allRows && n != tc.drills {
				t.Errorf("%d of %d rows", n, tc.drills)
			}
			switch {
			case tc.wantNote == "" && strings.Contains(got, "cut to stay under"):
				t.Errorf("cut:\n%s", got)
			case tc.wantNote != "" && !strings.Contains(got, tc.wantNote):
				t.Errorf("no note %q:\n%s", tc.wantNote, got[max(0, len(got)-600):])
			}
			if !strings.HasSuffix(got, "beside this summary.\n") {
				t.Errorf("the link hint is not last:\n%s", got[max(0, len(got)-300):])
			}
			// Five reasons a drill at most.
			if strings.Contains(got, "failure 5:") {
				t.Error("more than five failures of a drill")
			}
		})
	}
}

// A recorded backslash cannot turn an escaped pipe back into a cell
// separator.
func TestSummaryTextBackslash(t *testing.T) {
	got := strings.ReplaceAll(summaryText(`a\|b`), "|", `\|`)
	if strings.Contains(got, `\\|`) || got != `a&#92;\|b` {
		t.Errorf("%q", got)
	}
}
