package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drill-sre/drill/internal/hostload"
	"github.com/drill-sre/drill/internal/timing"
)

func TestWriteMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, sampleReport()); err != nil {
		t.Fatalf("WriteMarkdown: %v", err)
	}
	out := buf.String()
	lines := strings.Split(out, "\n")
	for _, want := range []string{
		"# Drill report",
		"- Cluster: `drill`",
		"- Started: 2025-11-27T14:00:00Z",
		"- Finished: 2025-11-27T14:05:05Z",
		"- Wall time: 305.0s (5m5s)",
		// Overview.
		"| Drill | Fault | Target | Verdict | Duration |",
		"| kill-control-plane-etcd-leader | kill-control-plane | node drill-control-plane2 (etcd leader) | pass | 94.2s |",
		"| drain-zone-blocked | drain-zone | zone zone-a | **fail** | 111.3s |",
		"| crashloop-pods | crashloop-pods | deployment probe-app | **error** | 5.0s |",
		// A drill's section.
		"## kill-control-plane-etcd-leader",
		"Kill the control-plane node that leads etcd.",
		"| Injected | +0.0s | 2025-11-27T14:00:10Z |",
		"| Effective | +2.1s | container exited; etcd has 2 members |",
		"| Revert started | +60.0s |  |",
		"| Reverted | +75.3s |  |",
		"| rto.api | 20s | 11.3s | pass | longest outage |",
		"| etcd leader change | 1 count | drill-control-plane2 → drill-control-plane3 |",
		"| url/https://127.0.0.1:6443/readyz connection/new | +0.5s | 11.3s | no | connection refused |",
		// Pipes escaped, outages ordered by From, a failed revert, failures.
		"| rto.app | 20s | 31.2s | **fail** | a\\|b pods unready |",
		"| app/probe-app | +3.0s | 31.2s | no | timeout |",
		"| app/probe-app | +35.0s | 71.3s | yes | 503 \\| upstream |",
		"| Reverted | - | revert failed: uncordon drill-worker: timeout |",
		"- rto.app: 31.2s exceeds 20s",
		// A drill whose fault was never injected.
		"Offsets are from the start of sampling (the fault was not injected).",
		"| Injected | - | not injected |",
		"None recorded.",
	} {
		if !contains(lines, want) {
			t.Errorf("markdown lacks line %q", want)
		}
	}
	if strings.Contains(out, "fault/") {
		t.Error("markdown lists intervals that are not unavailability (Level Error)")
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", out)
	}
}

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a|b", `a\|b`},
		{"||", `\|\|`},
		{" two\nlines ", "two<br>lines"},
		{"error: <nil>\n<br> &lt;", "error: &lt;nil><br>&lt;br> &amp;lt;"},
		{"", ""},
	} {
		if got := cell(tc.in); got != tc.want {
			t.Errorf("cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Where the time went: the game day's buckets (its phases outside the drills
// included) and each drill's, in the overview and in the drill's section.
func TestWriteMarkdownTime(t *testing.T) {
	r := sampleReport()
	r.Phases = []timing.Phase{{Name: "cluster up", Bucket: timing.Cluster, From: at(-100), To: at(-40)}}
	d := &r.Drills[0]
	d.Phases = []timing.Phase{
		{Name: "drill", Bucket: timing.Harness, From: at(0), To: at(100)},
		{Name: "baseline", Bucket: timing.Declared, From: at(0), To: at(5)},
		{Name: "revert", Bucket: timing.Recovery, From: at(60), To: at(75)},
	}
	d.Host = &hostload.Summary{Samples: 40, CPUSome: hostload.Stat{Mean: 62, Max: 90}}
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"## Where the time went",
		"| game day | 3m20s | 5s (2%) | 15s (8%) | 1m0s (30%) | 1m20s (40%) | 40s (20%) |",
		"| kill-control-plane-etcd-leader | 1m40s | 5s (5%) | 15s (15%) | 0s (0%) | 1m20s (80%) | 0s (0%) |",
		"- Time: wall 1m40s: declared waits 5s (5%), cluster recovery 15s (15%), cluster and images 0s (0%), harness overhead 1m20s (80%)\n",
		"- Host: host CPU pressure (some, avg10) mean 62% max 90%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	var table bytes.Buffer
	if err := WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"time: wall 3m20s: ", "not attributed 40s (20%)", "starved: tasks waited for a CPU 62%"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

// A recorded backslash before a pipe stays text in its cell.
func TestCellBackslash(t *testing.T) {
	if got := cell(`a\|b`); got != `a&#92;\|b` {
		t.Errorf("%q", got)
	}
}
