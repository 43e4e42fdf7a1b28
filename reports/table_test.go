package reports

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWriteTable(t *testing.T) {
	r := sampleReport()
	r.Drills[0].Name = strings.Repeat("long-drill-name-", 4)
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatalf("WriteTable: %v", err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, want := range []string{
		"DRILL                           FAULT               TARGET                        VERDICT  DURATION",
		"long-drill-name-long-drill-na…  kill-control-plane  node drill-control-plane2 (…  pass     94.2s",
		"    objective  rto.api             20s       11.3s     pass",
		"    measured   etcd leader change  1 count   drill-control-plane2 → drill-control-pl…",
		"    measured   rejoin              8.2s",
		"drain-zone-blocked              drain-zone          zone zone-a                   fail     111.3s",
		"    objective  rto.app      20s  31.2s  fail",
		"    failure    rto.app: 31.2s exceeds 20s",
		"crashloop-pods                  crashloop-pods      deployment probe-app          error    5.0s",
		"3 drills: 1 pass, 1 fail, 1 error",
	} {
		if !contains(lines, want) {
			t.Errorf("table lacks line %q:\n%s", want, out)
		}
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line of %d columns: %q", n, l)
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing space: %q", l)
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    Drill
		want string
	}{
		{Drill{Started: at(0), Finished: at(11.34)}, "11.3s"},
		{Drill{Started: at(0), Finished: at(0.05)}, "0.1s"},
		{Drill{Started: at(0), Finished: at(600)}, "600.0s"},
		{Drill{Started: at(0)}, "-"},
		{Drill{Finished: at(1)}, "-"},
		{Drill{Started: at(5), Finished: at(1)}, "-"},
	} {
		if got := drillDuration(tc.d); got != tc.want {
			t.Errorf("drillDuration(%s → %s) = %q, want %q", tc.d.Started, tc.d.Finished, got, tc.want)
		}
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
