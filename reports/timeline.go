package reports

import (
	"cmp"
	"fmt"
	"html/template"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/svgplot"
)

// A drill's timeline in report.html is one SVG: gonum draws the time axis
// (seconds from the injection) and its grid (package svgplot), and the page
// writes a row per thing the drill recorded over it, each a <g class="row"
// data-row="KEY"> holding its label and its bars, steps and marks, each of
// them with a <title> that says what it is, when, and the recorded message.
//
// The rows, top to bottom, each only when the drill has data for it:
//
//	fault               injected → effective → revert started → reverted
//	step:LOCATOR        the fault's own steps (Fault.Steps), a row per
//	                    locator: "velero", "etcd/snapshot", "etcd/restore"
//	api-new, api-reused the API through the load balancer: outages
//	apiserver:HOST:PORT each API server: outages
//	etcd-leader         the leader's terms, and the outages without one
//	etcd-member:NAME    each etcd member: outages
//	app                 the workload from outside: outages
//	ready, pdb          Ready pods and the PDB's disruptionsAllowed, as the
//	                    state samplers recorded them: step lines
//	alert:NAME          each alert seen: pending, firing, notified
//	deadline:OBJECTIVE  each objective bounded by a duration from the
//	                    injection (or from the revert): its deadline
//
// A sampler's row also shows the window it sampled, from its statistics.
// Nothing is drawn that was not recorded: the lease holders, the etcd
// membership and the rollout have no row. Bars closer than a point are
// drawn as one, whose title counts and sums what it merges, so that a
// flapping sampler does not weigh the page down; every outage is still
// drawn, none narrower than tlMinBar.

// Sizes of a timeline, in points.
const (
	tlWidth  = 760.0
	tlGutter = 184.0 // room for the rows' labels
	tlRowH   = 15.0
	tlAxisH  = 34.0 // gonum's time axis and its label
	tlTop    = 4.0
	tlRight  = 10.0
	// tlMinBar is the narrowest bar drawn; tlGap the least room between
	// two bars of a row, or they merge; tlMinStep the narrowest value
	// of a step line, or the values merge into a range.
	tlMinBar  = 1.5
	tlGap     = 1.0
	tlMinStep = 1.0
	// tlMaxMerged is the widest a merged bar grows, so that its tooltip
	// still says when.
	tlMaxMerged = 24.0
	// tlMaxBars is the most bars of a class a row draws before merging
	// bars further apart.
	tlMaxBars = 16
)

// Text limits of a timeline, in runes: a row's label, a tooltip's
// recorded message, and how many messages a merged bar's tooltip lists.
const (
	tlLabelRunes    = 32
	tlMessageRunes  = 300
	tlMergedListed  = 1
	tlMergedRunes   = 60
	tlStatesListed  = 12
	tlLabelFontSize = 10
)

// timeline is a drill's timeline drawn, for the page's template.
type timeline struct {
	// Drill is the drill's name.
	Drill string
	// Origin says what the axis' zero is.
	Origin string
	// SVG is gonum's open <svg> element (svgplot.Figure).
	SVG  template.HTML
	Rows []tlRow
}

// tlRow is one row drawn: its key (data-row), its label, and its shapes.
type tlRow struct {
	Key string
	// Label is shown at LabelX, LabelY; Title is the label unclipped with
	// what the row shows.
	Label, Title   string
	LabelX, LabelY string
	Shapes         []tlShape
}

// tlShape is a bar (a rect), or a line or mark (a path), with its tooltip.
type tlShape struct {
	Rect       bool
	Class      string
	X, Y, W, H string
	D          string
	Title      string
	// Opacity, when set, is the share of a merged bar's time that its
	// bars cover, drawn as its opacity.
	Opacity string
}

// tlData is a row before it is laid out: times in seconds from the origin.
type tlData struct {
	key, label, title string
	group             int
	bars              []tlBar
	states            []tlState
	marks             []tlMark
	lines             []tlMark // vertical lines across the plot
	sampled           []tlBar  // the sampler's window, beneath the rest
}

// tlBar is a stretch of time in a row.
type tlBar struct {
	from, to float64
	class    string
	// noun names bars of this class in a merged bar's title ("outages");
	// msg is what merged titles group by.
	noun, msg string
	title     string
	dur       time.Duration
}

// tlState is a value a state held.
type tlState struct {
	from, to float64
	value    float64
	text     string
	title    string
}

// tlMark is a point in time in a row.
type tlMark struct {
	at    float64
	class string
	title string
	// deadline marks also draw a dashed line down from the plot's top.
	deadline bool
}

// Row groups, top to bottom.
const (
	tlGroupFault = iota
	tlGroupStep
	tlGroupAPINew
	tlGroupAPIReused
	tlGroupAPIServer
	tlGroupEtcdLeader
	tlGroupEtcdMember
	tlGroupApp
	tlGroupReady
	tlGroupPDB
	tlGroupAlert
	tlGroupDeadline
)

// tlRowOf says which row intervals under locator go in: its key, label and
// group; ok is false for locators that have no row.
func tlRowOf(locator string) (key, label string, group int, ok bool) {
	legacy := func(conn string) bool {
		return strings.HasPrefix(locator, "url/") && strings.HasSuffix(locator, " connection/"+conn)
	}
	switch {
	case locator == monitor.LocatorAPINew || legacy("new"):
		return "api-new", "API, new connections", tlGroupAPINew, true
	case locator == monitor.LocatorAPIReused || legacy("reused"):
		return "api-reused", "API, reused connection", tlGroupAPIReused, true
	case strings.HasPrefix(locator, "apiserver/"):
		hp, _, _ := strings.Cut(strings.TrimPrefix(locator, "apiserver/"), " ")
		return "apiserver:" + hp, "API server " + hp, tlGroupAPIServer, true
	case locator == monitor.LocatorEtcdLeader:
		return "etcd-leader", "etcd leader", tlGroupEtcdLeader, true
	case strings.HasPrefix(locator, "etcd/member/"):
		name := strings.TrimPrefix(locator, "etcd/member/")
		return "etcd-member:" + name, "etcd member " + name, tlGroupEtcdMember, true
	case strings.HasPrefix(locator, "app/"):
		return "app", "app", tlGroupApp, true
	case locator == monitor.LocatorReadyPods:
		return "ready", "Ready pods", tlGroupReady, true
	case locator == monitor.LocatorDisruptionsAllowed:
		return "pdb", "PDB disruptions allowed", tlGroupPDB, true
	}
	return "", "", 0, false
}

// drawTimeline draws d's timeline. Times are offsets from the injection,
// or from the start of sampling when the fault was not injected.
func drawTimeline(d Drill) (timeline, error) {
	origin, originName := d.Fault.Injected, "the injection"
	if origin.IsZero() {
		origin, originName = d.Started, "the start of sampling (the fault was not injected)"
	}
	tl := timeline{Drill: d.Name, Origin: originName}
	sec := func(t time.Time) float64 { return t.Sub(origin).Seconds() }
	at := func(t time.Time) string { return offset(t, origin) }

	rows := map[string]*tlData{}
	row := func(key, label string, group int) *tlData {
		r, ok := rows[key]
		if !ok {
			r = &tlData{key: key, label: label, title: label, group: group}
			rows[key] = r
		}
		return r
	}
	span := func(from, to time.Time, open bool) string {
		still := ""
		if open {
			still = ", still so when recording stopped"
		}
		return fmt.Sprintf("from %s to %s (%s%s)", at(from), at(to), seconds(to.Sub(from)), still)
	}

	if !d.Fault.Injected.IsZero() {
		tlFault(d, row, sec, at)
	}

	// The fault's own steps, a row per locator in the order they began.
	steps := slices.Clone(d.Fault.Steps)
	monitor.Sort(steps)
	for _, s := range steps {
		if s.From.IsZero() || s.To.IsZero() {
			continue // nowhere to draw it
		}
		r := row("step:"+s.Locator, "step "+s.Locator, tlGroupStep)
		class, what := "step", s.Message
		if s.Level == monitor.Error {
			class, what = "step failed", "failed: "+s.Message
		}
		r.bars = append(r.bars, tlBar{from: sec(s.From), to: sec(s.To), class: class, noun: "steps", msg: what, dur: s.Duration(),
			title: fmt.Sprintf("%s %s: %s", s.Locator, span(s.From, s.To, s.Open), clip(what, tlMessageRunes))})
	}

	// What the samplers recorded.
	leaderTerm := 0
	for _, iv := range d.Intervals {
		key, label, group, ok := tlRowOf(iv.Locator)
		if !ok || iv.From.IsZero() || iv.To.IsZero() {
			continue
		}
		r := row(key, label, group)
		b := tlBar{from: sec(iv.From), to: sec(iv.To), msg: iv.Message, dur: iv.Duration()}
		switch {
		case (group == tlGroupReady || group == tlGroupPDB) && iv.Level == monitor.Info:
			v, err := strconv.ParseFloat(strings.TrimSpace(iv.Message), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				b.class, b.noun = "state", "values"
				b.title = fmt.Sprintf("%s: %s %s", label, clip(iv.Message, tlMessageRunes), span(iv.From, iv.To, iv.Open))
				r.bars = append(r.bars, b)
				continue
			}
			r.states = append(r.states, tlState{from: b.from, to: b.to, value: v, text: number(v),
				title: fmt.Sprintf("%s: %s %s", label, number(v), span(iv.From, iv.To, iv.Open))})
			continue
		case group == tlGroupReady || group == tlGroupPDB:
			b.class, b.noun = "unread", "failed reads"
			b.title = fmt.Sprintf("%s not read %s: %s", label, span(iv.From, iv.To, iv.Open), clip(iv.Message, tlMessageRunes))
		case group == tlGroupEtcdLeader && iv.Level == monitor.Info:
			b.class, b.noun = "leader", "leader terms"
			if leaderTerm%2 == 1 {
				b.class = "leader alt"
			}
			leaderTerm++
			b.title = fmt.Sprintf("etcd leader %s %s", clip(orDash(iv.Message), tlMessageRunes), span(iv.From, iv.To, iv.Open))
		case group == tlGroupEtcdLeader:
			b.class, b.noun = "down", "stretches without a leader"
			b.title = fmt.Sprintf("etcd without a leader %s: %s", span(iv.From, iv.To, iv.Open), clip(iv.Message, tlMessageRunes))
		case iv.Level == monitor.Error:
			b.class, b.noun = "down", "outages"
			b.title = fmt.Sprintf("%s down %s: %s", label, span(iv.From, iv.To, iv.Open), clip(iv.Message, tlMessageRunes))
		default:
			b.class, b.noun = "info", "intervals"
			b.title = fmt.Sprintf("%s %s %s: %s", label, strings.ToLower(string(iv.Level)), span(iv.From, iv.To, iv.Open), clip(iv.Message, tlMessageRunes))
		}
		if iv.Open {
			b.class += " open"
		}
		r.bars = append(r.bars, b)
	}
	for _, s := range d.Samplers {
		key, label, group, ok := tlRowOf(s.Locator)
		if !ok || s.Started.IsZero() || s.Stopped.Before(s.Started) {
			continue
		}
		r := row(key, label, group)
		every := ""
		if s.Interval > 0 {
			every = " every " + s.Interval.String()
		}
		r.sampled = append(r.sampled, tlBar{from: sec(s.Started), to: sec(s.Stopped), class: "sampled",
			title: fmt.Sprintf("%s sampled from %s to %s%s: %d samples, %d failed, %d %s",
				label, at(s.Started), at(s.Stopped), every, s.Samples, s.Failures, s.Outages, plural(s.Outages, "outage", "outages"))})
	}
	for _, key := range []string{"ready", "pdb"} {
		if r, ok := rows[key]; ok && len(r.states) > 0 {
			lo, hi := tlValueRange(r.states)
			r.label = fmt.Sprintf("%s %s–%s", r.label, number(lo), number(hi))
			r.title = r.label
		}
	}

	if d.Alerts != nil {
		tlAlerts(d.Alerts.Seen, row, sec, at)
	}
	for _, o := range d.Objectives {
		t, after, from, ok := objectiveDeadline(o, d.Fault)
		if !ok {
			continue
		}
		r := row("deadline:"+o.Name, "deadline "+o.Name, tlGroupDeadline)
		r.title = fmt.Sprintf("%s: bound %s", o.Name, o.Bound)
		r.marks = append(r.marks, tlMark{at: sec(t), class: "deadline " + verdictClass(o.Verdict), deadline: true,
			title: fmt.Sprintf("%s deadline at %s, %s after %s (bound %s); measured %s: %s",
				o.Name, at(t), seconds(after), from, o.Bound, orDash(o.Measured), orDash(string(o.Verdict)))})
	}

	ordered := slices.Collect(maps.Values(rows))
	slices.SortFunc(ordered, func(a, b *tlData) int {
		return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(tlFirst(a), tlFirst(b)), strings.Compare(a.key, b.key))
	})
	return tl.layout(ordered, d)
}

// tlFault adds the fault's row: the injection taking effect, the fault in
// effect, the revert; and lines across the plot at the injection and at
// the revert's start.
func tlFault(d Drill, row func(key, label string, group int) *tlData, sec func(time.Time) float64, at func(time.Time) string) {
	f := d.Fault
	r := row("fault", "fault "+orDash(f.Type), tlGroupFault)
	r.title = fmt.Sprintf("fault %s on %s", orDash(f.Type), orDash(f.Target))
	end := cmp.Or(f.RevertStarted, f.Reverted, d.Finished)
	if end.Before(f.Injected) {
		end = f.Injected
	}
	facts := clip(strings.Join(f.Facts, "; "), tlMessageRunes)
	bar := func(from, to time.Time, class, title string) {
		r.bars = append(r.bars, tlBar{from: sec(from), to: sec(to), class: class, noun: "fault stretches", msg: class, title: title, dur: to.Sub(from)})
	}
	if f.Effective.IsZero() {
		bar(f.Injected, end, "fault noeffect", fmt.Sprintf("injected at %s (%s) on %s; it did not take effect", at(f.Injected), timestamp(f.Injected), clip(f.Target, tlMessageRunes)))
	} else {
		bar(f.Injected, f.Effective, "fault injecting", fmt.Sprintf("injected at %s (%s) on %s; took effect at %s (%s later)",
			at(f.Injected), timestamp(f.Injected), clip(f.Target, tlMessageRunes), at(f.Effective), seconds(f.Effective.Sub(f.Injected))))
		if end.After(f.Effective) {
			bar(f.Effective, end, "fault effective", fmt.Sprintf("in effect from %s to %s: %s", at(f.Effective), at(end), orDash(facts)))
		}
	}
	if !f.RevertStarted.IsZero() {
		done, class, title := f.Reverted, "fault revert", ""
		switch {
		case f.RevertError != "":
			done, class = cmp.Or(f.Reverted, d.Finished), "fault revert failed"
			title = fmt.Sprintf("revert from %s failed: %s", at(f.RevertStarted), clip(f.RevertError, tlMessageRunes))
		case done.IsZero():
			done, class = d.Finished, "fault revert failed"
			title = fmt.Sprintf("revert from %s: not reverted", at(f.RevertStarted))
		default:
			title = fmt.Sprintf("revert from %s to %s (%s)", at(f.RevertStarted), at(done), seconds(done.Sub(f.RevertStarted)))
		}
		if done.Before(f.RevertStarted) {
			done = f.RevertStarted
		}
		bar(f.RevertStarted, done, class, title)
		r.lines = append(r.lines, tlMark{at: sec(f.RevertStarted), class: "edge", title: "revert started at " + at(f.RevertStarted)})
	}
	r.lines = append(r.lines, tlMark{at: sec(f.Injected), class: "edge", title: fmt.Sprintf("injected at %s (%s)", at(f.Injected), timestamp(f.Injected))})
}

// tlAlerts adds a row per alert name seen: its pending and firing spans
// and its notifications, every label set of the name in the one row.
func tlAlerts(seen []Alert, row func(key, label string, group int) *tlData, sec func(time.Time) float64, at func(time.Time) string) {
	for _, a := range seen {
		r := row("alert:"+a.Name, "alert "+a.Name, tlGroupAlert)
		who := a.Name + tlLabels(a.Labels)
		for _, s := range a.Pending {
			r.bars = append(r.bars, tlAlertSpan(who, "pending", s, sec, at))
		}
		for _, s := range a.Firing {
			r.bars = append(r.bars, tlAlertSpan(who, "firing", s, sec, at))
		}
		if !a.Notified.IsZero() {
			r.marks = append(r.marks, tlMark{at: sec(a.Notified), class: "notified", title: fmt.Sprintf("%s notified firing at %s", who, at(a.Notified))})
		}
		if !a.NotifiedResolved.IsZero() {
			r.marks = append(r.marks, tlMark{at: sec(a.NotifiedResolved), class: "notified resolved", title: fmt.Sprintf("%s notified resolved at %s", who, at(a.NotifiedResolved))})
		}
	}
}

func tlAlertSpan(who, state string, s Span, sec func(time.Time) float64, at func(time.Time) string) tlBar {
	end := at(s.To)
	class := state
	if s.Open {
		end, class = "the end of the window (still "+state+")", state+" open"
	}
	return tlBar{from: sec(s.From), to: sec(s.To), class: class, noun: state + " spans", msg: who, dur: s.To.Sub(s.From),
		title: fmt.Sprintf("%s %s from %s to %s (%s)", clip(who, tlMessageRunes), state, at(s.From), end, seconds(s.To.Sub(s.From)))}
}

// tlLabels formats an alert's labels, severity first: " {severity=page,
// job=x}", or "" without any.
func tlLabels(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(labels))
	slices.SortStableFunc(keys, func(a, b string) int {
		return cmp.Compare(boolInt(b == "severity"), boolInt(a == "severity"))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return " {" + strings.Join(parts, ", ") + "}"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// objectiveDeadline is when o's bound ran out, for an objective bounded by
// a duration from the injection ("20.0s", "within 480.0s") or from the end
// of the revert ("within 180.0s of the revert"): the deadline, the bound
// and what it runs from. An RPO bound is a window of lost writes, not a
// deadline: none.
func objectiveDeadline(o Objective, f Fault) (time.Time, time.Duration, string, bool) {
	if o.Unit != "s" || o.Name == "rpo" || strings.HasPrefix(o.Name, "rpo.") {
		return time.Time{}, 0, "", false
	}
	v, ok := ParseBound(o.Bound, o.Unit)
	if !ok {
		return time.Time{}, 0, "", false
	}
	from, name := f.Injected, "the injection"
	if strings.HasSuffix(strings.TrimSpace(o.Bound), "of the revert") {
		from, name = f.Reverted, "the revert"
	}
	if from.IsZero() {
		return time.Time{}, 0, "", false
	}
	after := time.Duration(v * float64(time.Second))
	return from.Add(after), after, name, true
}

// tlFirst is when a row's first bar, value or mark begins.
func tlFirst(r *tlData) float64 {
	first := math.Inf(1)
	for _, b := range r.bars {
		first = math.Min(first, b.from)
	}
	for _, s := range r.states {
		first = math.Min(first, s.from)
	}
	for _, m := range r.marks {
		first = math.Min(first, m.at)
	}
	return first
}

// tlValueRange is the least and the greatest value held.
func tlValueRange(states []tlState) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range states {
		lo, hi = math.Min(lo, s.value), math.Max(hi, s.value)
	}
	return lo, hi
}

// layout draws the axis with gonum and places the rows over it.
func (tl timeline) layout(rows []*tlData, d Drill) (timeline, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	note := func(v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	origin := cmp.Or(d.Fault.Injected, d.Started)
	if !origin.IsZero() {
		note(0)
		if !d.Finished.IsZero() && !d.Started.IsZero() {
			note(d.Started.Sub(origin).Seconds())
			note(d.Finished.Sub(origin).Seconds())
		}
	}
	for _, r := range rows {
		for _, b := range slices.Concat(r.bars, r.sampled) {
			note(b.from)
			note(b.to)
		}
		for _, s := range r.states {
			note(s.from)
			note(s.to)
		}
		for _, m := range slices.Concat(r.marks, r.lines) {
			note(m.at)
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if hi <= lo {
		hi = lo + 1
	}
	pad := (hi - lo) * 0.01

	p := plot.New()
	p.X.Min, p.X.Max = lo-pad, hi+pad
	p.Y.Min, p.Y.Max = 0, float64(max(len(rows), 1))
	p.HideY()
	p.X.Tick.Marker = plot.DefaultTicks{}
	p.X.Tick.Label.Font = svgplot.Sans(9)
	p.X.Label.Text = "seconds from " + strings.TrimSuffix(tl.Origin, " (the fault was not injected)")
	p.X.Label.TextStyle.Font = svgplot.Sans(9)
	grid := plotter.NewGrid()
	grid.Horizontal.Color = nil
	grid.Vertical.Color = svgplot.Grid
	p.Add(grid)
	height := tlTop + tlAxisH + tlRowH*float64(max(len(rows), 1))
	fig, err := svgplot.Draw(p, tlWidth, height, svgplot.Inset{Left: tlGutter, Right: tlRight, Top: tlTop})
	if err != nil {
		return timeline{}, fmt.Errorf("draw the timeline of %s: %w", d.Name, err)
	}
	tl.SVG = fig.SVG

	n := float64(len(rows))
	plotTop, plotBottom := fig.Y(n), fig.Y(0)
	x := func(v float64) float64 { return fig.X(v) }
	c := svgplot.Coord
	for i, r := range rows {
		top, bottom := fig.Y(n-float64(i)), fig.Y(n-float64(i)-1)
		h := bottom - top
		mid := top + h/2
		out := tlRow{Key: r.key, Label: clip(r.label, tlLabelRunes), Title: r.title, LabelX: c(4), LabelY: c(mid + tlLabelFontSize*0.35)}
		for _, s := range r.sampled {
			out.Shapes = append(out.Shapes, tlShape{Class: s.class, D: fmt.Sprintf("M%s,%sH%s", c(x(s.from)), c(mid), c(x(s.to))), Title: s.title})
		}
		for _, l := range r.lines {
			out.Shapes = append(out.Shapes, tlShape{Class: l.class, D: fmt.Sprintf("M%s,%sV%s", c(x(l.at)), c(plotTop), c(plotBottom)), Title: l.title})
		}
		for _, b := range tlThin(r.bars, x) {
			sh := tlShape{Rect: true, Class: b.class, X: c(b.x0), Y: c(top + 2), W: c(b.x1 - b.x0), H: c(h - 4), Title: b.title}
			if b.merged {
				sh.Class += " merged"
				sh.Opacity = strconv.FormatFloat(0.3+0.7*b.cover, 'f', 2, 64)
			}
			out.Shapes = append(out.Shapes, sh)
		}
		out.Shapes = append(out.Shapes, tlSteps(r.states, x, top+2, bottom-2)...)
		for _, m := range r.marks {
			mx := x(m.at)
			if m.deadline {
				out.Shapes = append(out.Shapes,
					tlShape{Class: m.class + " line", D: fmt.Sprintf("M%s,%sV%s", c(mx), c(plotTop), c(mid)), Title: m.title},
					tlShape{Class: m.class, D: fmt.Sprintf("M%s,%sl4,4l-4,4l-4,-4z", c(mx), c(mid-4)), Title: m.title})
				continue
			}
			out.Shapes = append(out.Shapes, tlShape{Class: m.class, D: fmt.Sprintf("M%s,%sl3.5,-6h-7z", c(mx), c(bottom-1)), Title: m.title})
		}
		tl.Rows = append(tl.Rows, out)
	}
	return tl, nil
}

// tlDrawn is a bar placed, maybe standing for several (merged): cover is
// then the share of its time they cover.
type tlDrawn struct {
	x0, x1 float64
	class  string
	title  string
	merged bool
	cover  float64
}

// tlThin places a row's bars, class by class: none narrower than
// tlMinBar, and bars of a class that would touch (closer than tlGap) merged
// into one, no wider than tlMaxMerged, whose title counts them, sums their
// time and lists their distinct messages. A class left with more than
// tlMaxBars bars is merged again, bars further apart and up to wider each
// time, until it has no more.
func tlThin(bars []tlBar, x func(float64) float64) []tlDrawn {
	byClass := map[string][]tlBar{}
	var classes []string
	for _, b := range bars {
		if _, ok := byClass[b.class]; !ok {
			classes = append(classes, b.class)
		}
		byClass[b.class] = append(byClass[b.class], b)
	}
	var out []tlDrawn
	for _, class := range classes {
		bs := byClass[class]
		slices.SortStableFunc(bs, func(a, b tlBar) int { return cmp.Compare(a.from, b.from) })
		drawn := tlMerge(bs, x, tlGap, tlMaxMerged)
		for k := 2.0; len(drawn) > tlMaxBars && k <= 64; k *= 2 {
			drawn = tlMerge(bs, x, k*tlGap, k*tlMaxMerged)
		}
		out = append(out, drawn...)
	}
	return out
}

// tlMerge places bars of one class, sorted by start, merging those closer
// than gap up to widest wide.
func tlMerge(bs []tlBar, x func(float64) float64, gap, widest float64) []tlDrawn {
	var out []tlDrawn
	var run []tlBar
	var cur tlDrawn
	flush := func() {
		if len(run) == 0 {
			return
		}
		cur.title, cur.merged = tlMergedTitle(run), len(run) > 1
		if cur.merged {
			var total time.Duration
			from, to := run[0].from, run[0].to
			for _, b := range run {
				total += b.dur
				from, to = math.Min(from, b.from), math.Max(to, b.to)
			}
			cur.cover = 1
			if to > from {
				cur.cover = math.Min(1, total.Seconds()/(to-from))
			}
		}
		out = append(out, cur)
		run = nil
	}
	for _, b := range bs {
		x0 := x(b.from)
		x1 := math.Max(x(b.to), x0+tlMinBar)
		if len(run) > 0 && x0 <= cur.x1+gap {
			if x1-cur.x0 <= widest || x1 <= cur.x1 {
				cur.x1 = math.Max(cur.x1, x1)
				run = append(run, b)
				continue
			}
			// Too wide to merge: it begins where the last ends.
			x0 = math.Max(x0, cur.x1)
			x1 = math.Max(x1, x0+tlMinBar)
		}
		flush()
		cur = tlDrawn{x0: x0, x1: x1, class: b.class}
		run = []tlBar{b}
	}
	flush()
	return out
}

// tlMergedTitle is the title of a bar standing for run: its own when
// alone, else how many, from when to when, how long in all, and the
// distinct messages with their counts.
func tlMergedTitle(run []tlBar) string {
	if len(run) == 1 {
		return run[0].title
	}
	from, to := run[0].from, run[0].to
	var total time.Duration
	counts := map[string]int{}
	var msgs []string
	for _, b := range run {
		from, to = math.Min(from, b.from), math.Max(to, b.to)
		total += b.dur
		if counts[b.msg] == 0 {
			msgs = append(msgs, b.msg)
		}
		counts[b.msg]++
	}
	parts := make([]string, 0, tlMergedListed+1)
	for i, m := range msgs {
		if i == tlMergedListed {
			parts = append(parts, fmt.Sprintf("and %d other %s", len(msgs)-i, plural(len(msgs)-i, "message", "messages")))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (×%d)", clip(orDash(m), tlMergedRunes), counts[m]))
	}
	return fmt.Sprintf("%d %s from %s to %s, %s in all: %s",
		len(run), run[0].noun, tlOffset(from), tlOffset(to), seconds(total), strings.Join(parts, "; "))
}

// tlOffset formats seconds from the origin as offset does.
func tlOffset(s float64) string {
	return offset(time.Unix(0, 0).Add(time.Duration(s*float64(time.Second))), time.Unix(0, 0))
}

// tlSteps draws a state's values as a step line between the levels low
// (the least value, or 0) and high (the greatest): a path per value with
// its title. Values held for less than tlMinStep are drawn together as a
// range, from their least to their greatest, titled with them all; while
// that leaves more than tlMaxBars shapes, values held longer are too.
func tlSteps(states []tlState, x func(float64) float64, high, low float64) []tlShape {
	if len(states) == 0 {
		return nil
	}
	out := tlStepsNarrower(states, x, high, low, tlMinStep, tlMaxMerged)
	for k := 2.0; len(out) > tlMaxBars && k <= 64; k *= 2 {
		out = tlStepsNarrower(states, x, high, low, k*tlMinStep, k*tlMaxMerged)
	}
	return out
}

// tlStepsNarrower is tlSteps with values held for less than minStep drawn
// together, in ranges up to widest wide.
func tlStepsNarrower(states []tlState, x func(float64) float64, high, low, minStep, widest float64) []tlShape {
	lo, hi := tlValueRange(states)
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	level := func(v float64) float64 { return low - (v-lo)/(hi-lo)*(low-high) }
	c := svgplot.Coord
	var out []tlShape
	prev := math.NaN()
	for i := 0; i < len(states); {
		s := states[i]
		x0, x1 := x(s.from), x(s.to)
		if x1-x0 >= minStep {
			y := level(s.value)
			d := fmt.Sprintf("M%s,%sH%s", c(x0), c(y), c(x1))
			if !math.IsNaN(prev) {
				d = fmt.Sprintf("M%s,%sV%sH%s", c(x0), c(prev), c(y), c(x1))
			}
			out = append(out, tlShape{Class: "step-line", D: d, Title: s.title})
			prev = y
			i++
			continue
		}
		// A run of values too short to draw apart.
		j := i
		vlo, vhi := s.value, s.value
		var vals []string
		for j < len(states) && x(states[j].to)-x(states[j].from) < minStep && (j == i || x(states[j].to)-x0 <= widest) {
			vlo, vhi = math.Min(vlo, states[j].value), math.Max(vhi, states[j].value)
			if len(vals) < tlStatesListed {
				vals = append(vals, states[j].text)
			}
			j++
		}
		if j == i+1 {
			// Alone: drawn at its level, only wider.
			y := level(s.value)
			out = append(out, tlShape{Class: "step-line", D: fmt.Sprintf("M%s,%sH%s", c(x0), c(y), c(x0+tlMinStep)), Title: s.title})
			prev = y
			i++
			continue
		}
		more := ""
		if j-i > len(vals) {
			more = fmt.Sprintf(" and %d more", j-i-len(vals))
		}
		end := states[j-1].to
		out = append(out, tlShape{Rect: true, Class: "step-range", X: c(x0), Y: c(level(vhi)), W: c(math.Max(x(end)-x0, tlMinStep)), H: c(math.Max(level(vlo)-level(vhi), 1)),
			Title: fmt.Sprintf("%d values from %s to %s: %s%s (least %s, greatest %s)",
				j-i, tlOffset(s.from), tlOffset(end), strings.Join(vals, ", "), more, number(vlo), number(vhi))})
		prev = level(states[j-1].value)
		i = j
	}
	return out
}

// plural is one or many, by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
