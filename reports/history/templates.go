package history

import "html/template"

// The site's templates. Recorded text (drill, figure and run names,
// measured values, bounds) only ever reaches them as strings, which
// html/template escapes; the one template.HTML is gonum's SVG (chart).
var (
	indexTemplate = template.Must(template.Must(template.New("index").Parse(pageHead)).Parse(indexBody))
	drillTemplate = template.Must(template.Must(template.New("drill").Parse(pageHead)).Parse(drillBody))
)

// pageHead is the head of every page, with its stylesheet: a grid that
// scrolls sideways on a phone with the drill names kept in view, and a
// print layout that keeps the verdicts' colours and drops the scrolling.
const pageHead = `{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1em auto;max-width:90em;padding:0 .8em;color:#1f2328}
h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #d1d9e0}
a{color:#0969da}.note{color:#59636e;font-size:.9em}
.wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse}th,td{border:1px solid #d1d9e0;padding:.2em .4em;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
.grid td.c{font-size:12px;white-space:nowrap;min-width:3.5em}
.grid td.c a.cell{color:inherit;text-decoration:none}.grid td.c a.cell:hover{text-decoration:underline}
.grid th.run{writing-mode:vertical-rl;font-weight:normal;font-size:11px;padding:.3em .1em}
.grid th.drill{position:sticky;left:0;z-index:1;white-space:nowrap}
.pass{background:#dafbe1}.fail{background:#ffebe9}.error{background:#fff1c2}.other{background:#eaeef2}.none{background:#fff}
.c.fail,.c.error,.c.other{font-weight:600}
td.reg{outline:2px solid #cf222e;outline-offset:-2px}
.rn{display:block;color:#cf222e;font-weight:600}
.badge{display:inline-block;padding:0 .45em;border-radius:1em;font-size:11px;font-weight:600;background:#fff1c2;color:#7d4e00;border:1px solid #d4a72c}
.regs li{margin:.2em 0}.regs .newest{font-weight:600}
.strip td{width:1.2em;text-align:center;font-size:11px;padding:.1em}
.figure{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.chart{flex:1 1 26em;max-width:44em}.chart svg{width:100%;height:auto}
.chart text{font-family:"Liberation Sans",Arial,Helvetica,sans-serif!important}
.hit{fill:#0969da;fill-opacity:0}.hit:hover{fill-opacity:.35}
.points{font-size:12px}
@media (max-width:40em){body{font-size:13px;padding:0 .4em}.grid td.c{min-width:2.5em}}
@media print{body{max-width:none;margin:0;padding:0;font-size:9pt;color:#000}
.wrap{overflow:visible}a{color:inherit;text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.grid th.drill{position:static}.hit{display:none}
section{break-inside:avoid}h2{break-after:avoid}.chart{max-width:16cm}}
</style>
</head>
<body>
{{end}}`

const indexBody = `{{template "head" "Drill history"}}<h1>Drill history</h1>
<p>{{len .Runs}} runs{{if .Runs}} from {{.Oldest}} to {{.Newest}}{{end}}, {{len .Rows}} drills.
Runs are columns, newest first. A cell is the drill's verdict (✓ pass, ✗ fail, ! error) and its first objective's measured value; an empty cell: the drill did not run.</p>
<h2 id="regressions">Regressions</h2>
{{with .Regressions}}<ul class="regs">
{{range .}}<li{{if .Newest}} class="newest"{{end}}>{{.RunID}}{{if .Newest}} (newest){{end}}: <a href="{{.Page}}">{{.Drill}}</a> {{.Figure}} {{.Measured}}, {{.Against}}; the objective: {{.Verdict}}</li>
{{end}}</ul>
{{else}}<p>None.</p>
{{end}}<p class="note">A figure regresses when it is worse than P{{.Thresholds.Percentile}} of the same drill's previous {{.Thresholds.Window}} runs that measured it (P5 and smaller for a floor such as Ready pods), by more than {{.Thresholds.Absolute}} in its unit or ×{{.Thresholds.Relative}}, once there are {{.Thresholds.MinRuns}} such runs; it can regress while passing its objective.</p>
<h2 id="flaky">Flaky</h2>
{{with .Flaky}}<p>{{range $i, $d := .}}{{if $i}}, {{end}}{{$d}}{{end}}</p>
{{else}}<p>None.</p>
{{end}}<p class="note">Flaky: among the last {{.FlakyRule.Window}} runs, its verdict flipped between pass and not pass at least {{.FlakyRule.Flips}} time(s).</p>
<h2 id="grid">Runs × drills</h2>
<div class="wrap"><table class="grid">
<thead><tr><th class="drill">Drill</th><th>Passed</th>{{range .Runs}}<th class="run" title="{{.Started}}">{{if .Link}}<a href="{{.Link}}">{{.ID}}</a>{{else}}{{.ID}}{{end}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><th class="drill"><a href="{{.Page}}">{{.Drill}}</a>{{if .Stats.Flaky}} <span class="badge" title="{{.Stats.Flips}} flips in its last {{.Stats.Recent}} runs">flaky</span>{{end}}</th><td>{{.PassRate}} <span class="note">{{.Stats.Passed}}/{{.Stats.Ran}}</span></td>
{{range .Cells}}{{if .Ran}}<td class="c {{.Class}}{{if .Regressions}} reg{{end}}" title="{{.Title}}">{{if .Link}}<a class="cell" href="{{.Link}}">{{.Mark}} {{.Headline}}</a>{{else}}{{.Mark}} {{.Headline}}{{end}}{{range .Regressions}}<span class="rn">{{.}}</span>{{end}}</td>{{else}}<td class="c none"></td>{{end}}{{end}}</tr>
{{end}}</tbody>
</table></div>
</body>
</html>
`

const drillBody = `{{template "head" .Name}}<p><a href="index.html">← all drills</a></p>
<h1>{{.Name}}</h1>
<p>Ran in {{.Stats.Ran}} of {{.Runs}} runs and passed {{.Stats.Passed}} ({{.PassRate}}).
In the last {{.FlakyRule.Window}} runs: ran {{.Stats.Recent}}, passed {{.Stats.RecentPassed}}, {{.Stats.Flips}} flips between pass and not pass{{if .Stats.Flaky}} <span class="badge">flaky</span>{{end}}.</p>
<div class="wrap"><table class="strip" aria-label="verdict per run, newest first"><tr>{{range .Strip}}<td class="{{if .Ran}}{{.Class}}{{else}}none{{end}}" title="{{.Title}}">{{.Mark}}</td>{{end}}</tr></table></div>
<p class="note">Verdicts, newest first. In the charts the runs are numbered from 1, the oldest, on the left; a dot is a run that measured the figure (red: the objective failed; ringed: it regressed), the dashed line its bound.</p>
{{range .Figures}}<section>
<h2>{{.Figure}} <span class="note">({{.Unit}})</span></h2>
<p>Bound: {{.Bound}}{{if not .Chart.HasBound}} <span class="note">(not drawn: not read as a number in {{.Unit}})</span>{{end}}.
{{range .Regressions}}<br><strong>Regressed</strong> in {{.}}{{end}}</p>
<div class="figure"><div class="chart">{{.Chart.SVG}}{{range .Chart.Marks}}<circle class="hit" cx="{{.X}}" cy="{{.Y}}" r="6"><title>{{.Title}}</title></circle>{{end}}</svg></div>
<div class="wrap"><table class="points"><thead><tr><th>#</th><th>Run</th><th>Measured</th><th>Verdict</th></tr></thead>
<tbody>{{range .Rows}}<tr><td>{{.N}}</td><td>{{.RunID}}</td><td{{if .Regressed}} class="reg"{{end}}>{{.Measured}}{{if .Regressed}} <strong>regressed</strong>{{end}}</td><td class="{{.Class}}">{{.Verdict}}</td></tr>
{{end}}</tbody></table></div></div>
</section>
{{end}}</body>
</html>
`
