package history

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drill-sre/drill/reports"
)

// verdicts builds a history of one drill "d" from a verdict per run: p
// pass, f fail, e error, - did not run.
func verdicts(s string) History {
	var h History
	for i, c := range s {
		r := run(fmt.Sprintf("r%d", i))
		v := map[rune]reports.Verdict{'p': reports.Pass, 'f': reports.Fail, 'e': reports.Error}[c]
		if v != "" {
			r.Report.Drills = []reports.Drill{drillWith("d", v)}
		}
		h.Runs = append(h.Runs, r)
	}
	return h
}

func TestStats(t *testing.T) {
	for _, tc := range []struct {
		name     string
		verdicts string
		rule     FlakyRule
		want     DrillStats
	}{
		{
			name: "always passes", verdicts: strings.Repeat("p", 20), rule: DefaultFlakyRule(),
			want: DrillStats{Ran: 20, Passed: 20, Recent: 10, RecentPassed: 10},
		},
		{
			name: "alternates in the last runs", verdicts: strings.Repeat("p", 10) + "pfpfpfpfpf", rule: DefaultFlakyRule(),
			want: DrillStats{Ran: 20, Passed: 15, Recent: 10, RecentPassed: 5, Flips: 9, Flaky: true},
		},
		{
			// Fail and error are both not pass: no flip between them.
			name: "fail then error", verdicts: strings.Repeat("p", 10) + "ffffeeeeee", rule: DefaultFlakyRule(),
			want: DrillStats{Ran: 20, Passed: 10, Recent: 10, RecentPassed: 0},
		},
		{
			name: "broke once, in the window", verdicts: strings.Repeat("p", 15) + "f", rule: DefaultFlakyRule(),
			want: DrillStats{Ran: 16, Passed: 15, Recent: 10, RecentPassed: 9, Flips: 1, Flaky: true},
		},
		{
			name: "flipped before the window only", verdicts: "pfpfp" + strings.Repeat("p", 10), rule: DefaultFlakyRule(),
			want: DrillStats{Ran: 15, Passed: 13, Recent: 10, RecentPassed: 10},
		},
		{
			// The runs it did not run in are skipped: p - - f is one flip.
			name: "missing from some runs", verdicts: "p--f--p-", rule: DefaultFlakyRule(),
			want: DrillStats{Ran: 3, Passed: 2, Recent: 3, RecentPassed: 2, Flips: 2, Flaky: true},
		},
		{
			name: "more flips wanted", verdicts: "pppfpp", rule: FlakyRule{Window: 10, Flips: 3},
			want: DrillStats{Ran: 6, Passed: 5, Recent: 6, RecentPassed: 5, Flips: 2},
		},
		{
			name: "a shorter window", verdicts: "pfpfppp", rule: FlakyRule{Window: 3, Flips: 1},
			want: DrillStats{Ran: 7, Passed: 5, Recent: 3, RecentPassed: 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := verdicts(tc.verdicts).Stats(tc.rule)
			tc.want.Name = "d"
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPassRate(t *testing.T) {
	s := verdicts("pfp-p").Stats(DefaultFlakyRule())[0]
	if got := s.PassRate(); got != 0.75 {
		t.Errorf("pass rate %v, want 0.75", got)
	}
	if got := (DrillStats{}).PassRate(); got != 0 {
		t.Errorf("pass rate of a drill that never ran %v, want 0", got)
	}
}
