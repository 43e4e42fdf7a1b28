package reports

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/drill-sre/drill/internal/monitor"
)

// drawnRow is a timeline row as the page draws it.
type drawnRow struct {
	key, label string
	// shapes counts the bars, lines and marks, untitled those without a
	// <title>; titles is the text of all their titles.
	shapes, untitled int
	titles           []string
}

// timelineRows renders d alone and returns its timeline's rows, top to
// bottom.
func timelineRows(t *testing.T, d Drill) []drawnRow {
	t.Helper()
	doc, _ := renderHTML(t, Report{Drills: []Drill{d}})
	fig := findFirst(doc, func(n *html.Node) bool { return hasClass("figure", "timeline")(n) && attr(n, "data-drill") == d.Name })
	if fig == nil {
		t.Fatalf("no figure.timeline for %s", d.Name)
	}
	svgs := findAll(fig, tag("svg"))
	if len(svgs) != 1 {
		t.Fatalf("%d svg in the timeline, want 1", len(svgs))
	}
	var rows []drawnRow
	for _, g := range findAll(svgs[0], hasClass("g", "row")) {
		r := drawnRow{key: attr(g, "data-row")}
		for _, txt := range findAll(g, tag("text")) {
			for c := txt.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode {
					r.label += c.Data
				}
			}
		}
		for _, s := range findAll(g, func(n *html.Node) bool { return n.Data == "rect" || n.Data == "path" }) {
			r.shapes++
			title := findFirst(s, tag("title"))
			if title == nil || title.Parent != s {
				r.untitled++
				continue
			}
			r.titles = append(r.titles, textOf(title))
		}
		rows = append(rows, r)
	}
	return rows
}

// The timeline has a row for each kind of data the drill has, and only
// those, top to bottom; every row is labelled and all its shapes titled.
func TestTimelineRows(t *testing.T) {
	sampledOnly := errorDrill()
	sampledOnly.Name = "not-injected"
	sampledOnly.Intervals = []monitor.Interval{{From: at(301), To: at(302), Locator: monitor.LocatorApp, Level: monitor.Error, Message: "refused"}}
	sampledOnly.Objectives = []Objective{{Name: "rto.app", Bound: "20s", Unit: "s", Verdict: Error}}

	for _, tc := range []struct {
		name  string
		drill Drill
		want  []string
	}{
		{"a pass: the legacy url/ locator, an RPO in writes", passDrill(), []string{"fault", "api-new", "deadline:rto.api"}},
		{"a fail: the app, a revert that failed", failDrill(), []string{"fault", "app", "deadline:rto.app"}},
		{"an error: nothing recorded", errorDrill(), nil},
		{"not injected: no fault, no deadline", sampledOnly, []string{"app"}},
		{"every kind", richDrill(), []string{
			"fault", "step:etcd/snapshot", "step:velero",
			"api-new", "api-reused", "apiserver:172.18.0.3:6443", "apiserver:172.18.0.4:6443",
			"etcd-leader", "etcd-member:drill-control-plane2", "app", "ready", "pdb",
			"alert:KubeAPIDown", "alert:EtcdMembersDown",
			"deadline:rto.api", "deadline:alerts.KubeAPIDown.firing", "deadline:rto.app",
			"deadline:alerts.EtcdMembersDown.resolved", "deadline:maxDuration",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := timelineRows(t, tc.drill)
			var keys []string
			for _, r := range rows {
				keys = append(keys, r.key)
				if strings.TrimSpace(r.label) == "" {
					t.Errorf("row %s has no label", r.key)
				}
				if r.shapes == 0 || r.untitled > 0 {
					t.Errorf("row %s: %d shapes, %d without a <title>", r.key, r.shapes, r.untitled)
				}
			}
			if !slices.Equal(keys, tc.want) {
				t.Errorf("rows\n %q\nwant\n %q", keys, tc.want)
			}
		})
	}
}

// Every bar, step and mark says what it is, when, and what was recorded.
func TestTimelineTooltips(t *testing.T) {
	rows := map[string]drawnRow{}
	for _, r := range timelineRows(t, richDrill()) {
		rows[r.key] = r
	}
	for key, want := range map[string][]string{
		"fault": {
			"injected at +0.0s (2025-11-27T14:00:10Z) on node drill-control-plane2 (etcd leader); took effect at +2.1s (2.1s later)",
			"in effect from +2.1s to +60.0s: container exited; etcd has 2 members",
			"revert from +60.0s to +75.3s (15.3s)",
			"revert started at +60.0s",
		},
		"step:velero": {
			"velero from -30.0s to -18.0s (12.0s): Backup drill-1 to default: Completed, 40/40 items",
			"velero from +62.0s to +70.0s (8.0s): failed: restore drill-1: PartiallyFailed",
		},
		"api-new": {
			"API, new connections down from +0.5s to +11.8s (11.3s): dial tcp: connection refused",
			"API, new connections sampled from -10.0s to +84.2s every 1s: 94 samples, 11 failed, 1 outage",
		},
		"apiserver:172.18.0.3:6443": {"API server 172.18.0.3:6443 down from +0.2s to +84.2s (84.0s, still so when recording stopped): no route to host"},
		"apiserver:172.18.0.4:6443": {"94 samples, 0 failed, 0 outages"},
		"etcd-leader": {
			"etcd leader drill-control-plane2 from -10.0s to +1.0s (11.0s)",
			"etcd without a leader from +1.0s to +4.0s (3.0s): no leader",
			"etcd leader drill-control-plane3 from +4.0s to +84.2s (80.2s, still so when recording stopped)",
		},
		"etcd-member:drill-control-plane2": {"context deadline exceeded"},
		"app":                              {"app down from +2.0s to +21.0s (19.0s): 503 Service Unavailable"},
		"ready": {
			"Ready pods: 3 from -10.0s to +2.0s (12.0s)",
			"Ready pods: 2 from +2.0s to +20.0s (18.0s)",
			"Ready pods not read from +5.0s to +6.0s (1.0s): list pods: timeout",
		},
		"pdb": {"PDB disruptions allowed: 0 from +2.0s to +84.2s"},
		"alert:KubeAPIDown": {
			"KubeAPIDown {severity=critical, job=apiserver} pending from +5.0s to +35.0s (30.0s)",
			"KubeAPIDown {severity=critical, job=apiserver} firing from +35.0s to the end of the window (still firing)",
			"KubeAPIDown {severity=critical, job=apiserver} notified firing at +40.0s",
		},
		"alert:EtcdMembersDown": {"EtcdMembersDown {severity=warning} notified resolved at +80.0s"},
		"deadline:rto.api":      {"rto.api deadline at +20.0s, 20.0s after the injection (bound 20s); measured 11.3s: pass"},
		"deadline:alerts.EtcdMembersDown.resolved": {
			"alerts.EtcdMembersDown.resolved deadline at +85.3s, 10.0s after the revert (bound within 10.0s of the revert); measured 2.7s: pass",
		},
	} {
		r, ok := rows[key]
		if !ok {
			t.Errorf("no row %s", key)
			continue
		}
		for _, w := range want {
			if !slices.ContainsFunc(r.titles, func(s string) bool { return strings.Contains(s, w) }) {
				t.Errorf("row %s: no tooltip says %q; they say:\n  %s", key, w, strings.Join(r.titles, "\n  "))
			}
		}
	}
	if r := rows["ready"]; r.label != "Ready pods 2–3" {
		t.Errorf("Ready pods' label %q, want its range", r.label)
	}
}

// Bars too close to draw apart are merged, never dropped: every bar's time
// is still covered and counted, and a row draws no more than tlMaxBars.
func TestTimelineThinning(t *testing.T) {
	x := func(s float64) float64 { return s } // a point per second
	bars := func(n int, every, long float64) []tlBar {
		var out []tlBar
		for i := range n {
			from := float64(i) * every
			out = append(out, tlBar{from: from, to: from + long, class: "down", noun: "outages", msg: fmt.Sprintf("m%d", i%3),
				dur: time.Duration(long * float64(time.Second)), title: fmt.Sprintf("outage %d", i)})
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		bars       []tlBar
		drawn      int // -1: any up to tlMaxBars
		mergedSome bool
	}{
		{"far apart", bars(5, 100, 10), 5, false},
		{"a sub-point outage", bars(1, 1, 0.01), 1, false},
		{"touching", bars(10, 0.5, 0.2), 1, true},
		{"a long flapping", bars(3000, 3, 1), -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drawn := tlThin(tc.bars, x)
			switch {
			case tc.drawn >= 0 && len(drawn) != tc.drawn:
				t.Errorf("%d bars drawn, want %d", len(drawn), tc.drawn)
			case len(drawn) > tlMaxBars:
				t.Errorf("%d bars drawn, more than %d", len(drawn), tlMaxBars)
			}
			count, merged := 0, false
			for _, d := range drawn {
				if d.x1-d.x0 < tlMinBar-1e-9 {
					t.Errorf("a bar %.2f wide, narrower than %v", d.x1-d.x0, tlMinBar)
				}
				if !d.merged {
					count++
					continue
				}
				merged = true
				n, err := strconv.Atoi(strings.Fields(d.title)[0])
				if err != nil || !strings.Contains(d.title, " outages from ") || !listsMessage.MatchString(d.title) {
					t.Errorf("merged title %q does not count the outages and list a message", d.title)
				}
				count += n
				if d.cover <= 0 || d.cover > 1 {
					t.Errorf("merged bar covers %v of its time", d.cover)
				}
			}
			if count != len(tc.bars) {
				t.Errorf("the bars drawn stand for %d outages, want %d", count, len(tc.bars))
			}
			if merged != tc.mergedSome {
				t.Errorf("merged: %v, want %v", merged, tc.mergedSome)
			}
			for _, b := range tc.bars {
				if !covered(drawn, x(b.from), x(b.to)) {
					t.Errorf("%s (%.1f to %.1f) is not drawn", b.title, b.from, b.to)
					break
				}
			}
		})
	}
}

// listsMessage matches a merged title's message and its count.
var listsMessage = regexp.MustCompile(`: m[0-9] \(×[0-9]+\)`)

// covered says whether the drawn bars cover from..to without a gap.
func covered(drawn []tlDrawn, from, to float64) bool {
	const eps = 0.05
	ds := slices.Clone(drawn)
	slices.SortFunc(ds, func(a, b tlDrawn) int { return int(math.Copysign(1, a.x0-b.x0)) })
	at := from
	for _, d := range ds {
		if d.x0 <= at+eps && d.x1 > at {
			at = d.x1
		}
		if at >= to-eps {
			return true
		}
	}
	return at >= to-eps
}

// A state's values are a step line; values too short to draw apart are a
// range titled with them, and a state changing all the time stays within
// tlMaxBars shapes.
func TestTimelineSteps(t *testing.T) {
	x := func(s float64) float64 { return s }
	states := func(n int, every float64) []tlState {
		var out []tlState
		for i := range n {
			v := float64(i % 3)
			out = append(out, tlState{from: float64(i) * every, to: float64(i+1) * every, value: v, text: number(v), title: fmt.Sprintf("value %d", i)})
		}
		return out
	}
	got := tlSteps(states(3, 10), x, 0, 10)
	if len(got) != 3 || got[0].D != "M0.0,10.0H10.0" || got[1].D != "M10.0,10.0V5.0H20.0" || got[2].Title != "value 2" {
		t.Errorf("three values drawn as %+v", got)
	}
	got = tlSteps(states(6, 0.2), x, 0, 10)
	if len(got) != 1 || !got[0].Rect || !strings.HasPrefix(got[0].Title, "6 values from +0.0s to +1.2s: 0, 1, 2, 0, 1, 2 (least 0, greatest 2)") {
		t.Errorf("six short values drawn as %+v", got)
	}
	if got = tlSteps(states(3000, 2), x, 0, 10); len(got) > tlMaxBars {
		t.Errorf("3000 values drawn as %d shapes, more than %d", len(got), tlMaxBars)
	}
}

func TestObjectiveDeadline(t *testing.T) {
	f := Fault{Injected: at(10), Reverted: at(80)}
	for _, tc := range []struct {
		o    Objective
		want time.Time
		from string
	}{
		{Objective{Name: "rto.api", Bound: "20.0s", Unit: "s"}, at(30), "the injection"},
		{Objective{Name: "maxDuration", Bound: "5m", Unit: "s"}, at(310), "the injection"},
		{Objective{Name: "alerts.X.firing", Bound: "within 30.0s", Unit: "s"}, at(40), "the injection"},
		{Objective{Name: "alerts.X.resolved", Bound: "within 10.0s of the revert", Unit: "s"}, at(90), "the revert"},
		{Objective{Name: "rpo.maxDataLoss", Bound: "5.0s", Unit: "s"}, time.Time{}, ""},
		{Objective{Name: "rpo.maxLostWrites", Bound: "0 writes", Unit: "writes"}, time.Time{}, ""},
		{Objective{Name: "availability", Bound: "≥ 2 Ready", Unit: "pods"}, time.Time{}, ""},
		{Objective{Name: "rto.app", Bound: "declared", Unit: "s"}, time.Time{}, ""},
	} {
		got, _, from, ok := objectiveDeadline(tc.o, f)
		if !got.Equal(tc.want) || from != tc.from || ok == tc.want.IsZero() {
			t.Errorf("objectiveDeadline(%s %q) = %v, %q, %v; want %v, %q", tc.o.Name, tc.o.Bound, got, from, ok, tc.want, tc.from)
		}
	}
	if _, _, _, ok := objectiveDeadline(Objective{Name: "alerts.X.resolved", Bound: "within 10.0s of the revert", Unit: "s"}, Fault{Injected: at(10)}); ok {
		t.Error("a deadline from a revert that did not end")
	}
}
