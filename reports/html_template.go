package reports

import "html/template"

// htmlTemplate is report.html. Recorded text only reaches it as strings,
// which html/template escapes in every context (text, attributes, the
// timeline's <text> and <title>); the one template.HTML is gonum's SVG of
// each timeline, numbers and the axis' label only.
var htmlTemplate = template.Must(template.New("report").Parse(htmlPageText))

// htmlStyle is the page's stylesheet: a column that reads on a desktop,
// tables and timelines that scroll sideways in their own box on a phone,
// and a print layout that scales the timelines to the page, keeps the
// colours and starts each drill on a page.
const htmlStyle = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:76em;padding:0 1em;color:#1f2328;background:#fff}
h1{font-size:1.6em;margin:.2em 0 .4em}
h2{font-size:1.3em;margin:2em 0 .5em;border-bottom:1px solid #d1d9e0;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.5em 0 .4em}
h1,h2,h3,p,li,dd{overflow-wrap:anywhere}
a{color:#0969da}
.note{color:#59636e;font-size:.9em}
code{font:13px ui-monospace,monospace;background:#f6f8fa;padding:.1em .3em;border-radius:4px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.5em 0}
dl.meta dt{color:#59636e}dl.meta dd{margin:0}
#verdict{font-size:1.2em;padding:.5em .8em;border-radius:6px;border:1px solid #d1d9e0;margin:.6em 0}
#verdict.pass{background:#dafbe1;border-color:#1a7f37}
#verdict.fail{background:#ffebe9;border-color:#cf222e}
#verdict.error{background:#fff8c5;border-color:#9a6700}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.4em 0}
th,td{border:1px solid #d1d9e0;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.num{white-space:nowrap}
td.detail{min-width:14em;max-width:40em;overflow-wrap:anywhere}
.v{font-weight:600;white-space:nowrap}
.v.pass{color:#1a7f37}.v.fail{color:#cf222e}.v.error,.v.other{color:#9a6700}
.obj{display:flex;align-items:center;gap:.4em;white-space:nowrap}
.gauge{flex:none}
.gauge .track{fill:#eaeef2}.gauge .bar{fill:#57606a}.gauge .bar.pass{fill:#1a7f37}.gauge .bar.fail{fill:#cf222e}
.gauge .bound{stroke:#1f2328;stroke-width:1.5}
section.drill{margin-top:2.5em}
section.drill>h2 .v{font-size:.8em;margin-left:.5em}
ul.failures li{color:#cf222e}
figure.timeline{margin:1em 0;overflow-x:auto;border:1px solid #d1d9e0;border-radius:6px;padding:.3em}
figure.timeline svg{display:block;width:100%;min-width:60em;height:auto}
figure.timeline text{font-family:"Liberation Sans",Arial,Helvetica,sans-serif!important}
figure.timeline figcaption{font-size:.85em;color:#59636e;padding:.2em .4em;min-width:20em}
.row text{font-size:10px;fill:#1f2328}
.row rect:hover,.row path:hover{opacity:.65}
.sampled{fill:none;stroke:#8c959f;stroke-width:1}
.edge{fill:none;stroke:#57606a;stroke-width:.8;stroke-dasharray:2,2}
.fault.injecting{fill:#bc4c00}.fault.effective{fill:#fb8f44}.fault.noeffect{fill:#8c959f}
.fault.revert{fill:#0969da}.fault.revert.failed{fill:#cf222e}
.step{fill:#8250df}.step.failed{fill:#cf222e}
.down{fill:#cf222e}.open{fill-opacity:.55}
.leader{fill:#b6e3ff}.leader.alt{fill:#80ccff}
.unread,.info,.state{fill:#afb8c1}
.step-line{fill:none;stroke:#1a7f37;stroke-width:1.6}
.step-range{fill:#1a7f37;fill-opacity:.4}
.pending{fill:#d4a72c}.firing{fill:#cf222e}
.notified{fill:#0969da}.notified.resolved{fill:#1a7f37}
.deadline{fill:#bc4c00}.deadline.fail{fill:#cf222e}.deadline.pass{fill:#1a7f37}
.deadline.line{fill:none;stroke:#bc4c00;stroke-width:1;stroke-dasharray:4,3}
.deadline.line.fail{stroke:#cf222e}.deadline.line.pass{stroke:#1a7f37}
@media (max-width:40em){body{font-size:14px;padding:0 .5em;margin-top:.8em}h2{font-size:1.2em}}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9.5pt;color:#000}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
a{color:inherit;text-decoration:none}
.scroll,figure.timeline{overflow:visible}
figure.timeline svg{min-width:0}
td.detail{max-width:none}
section.drill{break-before:page;margin-top:0}
h2,h3{break-after:avoid}figure.timeline,tr{break-inside:avoid}
}
`

const htmlPageText = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + htmlStyle + `</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p id="verdict" class="{{.Verdict}}" data-verdict="{{.Verdict}}">Game day: <strong>{{.Verdict}}</strong>. {{.Summary}}.</p>
<dl class="meta">
{{if .Cluster}}<dt>Cluster</dt><dd><code>{{.Cluster}}</code></dd>
{{end}}<dt>Started</dt><dd>{{.Started}}</dd>
<dt>Finished</dt><dd>{{.Finished}}</dd>
<dt>Wall time</dt><dd>{{.Wall}}</dd>
</dl>
</header>
<main>
<h2 id="overview">Drills</h2>
{{if .Drills}}<div class="scroll"><table id="drills">
<thead><tr><th>Drill</th><th>Verdict</th><th>RTO</th><th>RPO</th><th>Fault</th><th>Duration</th></tr></thead>
<tbody>
{{range .Drills}}<tr data-drill="{{.Name}}">
<td><a href="#{{.Slug}}">{{.Name}}</a></td>
<td class="v {{.Class}}">{{.Verdict}}</td>
<td>{{range .RTO}}{{template "objective" .}}{{else}}-{{end}}</td>
<td>{{range .RPO}}{{template "objective" .}}{{else}}-{{end}}</td>
<td>{{.FaultType}}</td>
<td class="num">{{.Duration}}</td>
</tr>
{{end}}</tbody>
</table></div>
<p class="note">Beside each objective, its measured value against its bound (the line); red: outside it.</p>
{{else}}<p>No drills ran.</p>
{{end}}{{if .HasPhases}}<h2 id="time">Where the time went</h2>
<p>{{.TimeSpan}}</p>
<div class="scroll"><table>
<thead><tr>{{range .TimeHead}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .TimeRows}}<tr>{{range $i, $c := .}}{{if eq $i 0}}<th>{{$c}}</th>{{else}}<td class="num">{{$c}}</td>{{end}}{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}{{range .Drills}}{{template "drill" .}}{{end}}</main>
</body>
</html>
{{define "objective"}}<div class="obj">{{with .Gauge}}<svg class="gauge" width="60" height="10" viewBox="0 0 60 10" role="img"><title>{{.Title}}</title><rect class="track" width="60" height="10"/><rect class="bar {{$.Class}}" width="{{.Width}}" height="10"/><path class="bound" d="M{{.Bound}},0V10"/></svg>{{end}}<span>{{.Name}} {{.Measured}} <span class="note">/ {{.Bound}}</span></span></div>{{end}}
{{define "drill"}}<section class="drill" id="{{.Slug}}" data-verdict="{{.Class}}">
<h2>{{.Name}}<span class="v {{.Class}}">{{.Verdict}}</span></h2>
{{if .Description}}<p>{{.Description}}</p>
{{end}}<dl class="meta">
<dt>Fault</dt><dd><code>{{.FaultType}}</code> on {{.Target}}</dd>
{{if .File}}<dt>File</dt><dd><code>{{.File}}</code></dd>
{{end}}<dt>Sampled</dt><dd>{{.Sampled}}</dd>
{{if .TimeSummary}}<dt>Time</dt><dd>{{.TimeSummary}}</dd>
{{end}}{{if .Host}}<dt>Host</dt><dd>{{.Host}}</dd>
{{end}}</dl>
{{if .Failures}}<h3>Failures</h3>
<ul class="failures">{{range .Failures}}<li>{{.}}</li>{{end}}</ul>
{{end}}<h3>Timeline</h3>
{{with .Timeline}}<figure class="timeline" data-drill="{{.Drill}}">{{.SVG}}
{{range .Rows}}<g class="row" data-row="{{.Key}}"><text x="{{.LabelX}}" y="{{.LabelY}}"><title>{{.Title}}</title>{{.Label}}</text>
{{range .Shapes}}{{if .Rect}}<rect class="{{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"{{with .Opacity}} opacity="{{.}}"{{end}}><title>{{.Title}}</title></rect>{{else}}<path class="{{.Class}}" d="{{.D}}"><title>{{.Title}}</title></path>{{end}}
{{end}}</g>
{{end}}</svg>
<figcaption>Seconds from {{.Origin}}. {{if .Rows}}Each bar, line and mark says what it is when pointed at; a thin grey line is the time a sampler ran.{{else}}Nothing was recorded to draw.{{end}}</figcaption>
</figure>
{{end}}<h3>Fault</h3>
<p class="note">Offsets are from {{.Origin}}.</p>
<div class="scroll"><table>
<thead><tr><th>Event</th><th>At</th><th>Detail</th></tr></thead>
<tbody>{{range .FaultEvents}}<tr><td>{{.Event}}</td><td class="num">{{.At}}</td><td class="detail">{{.Detail}}</td></tr>
{{end}}</tbody>
</table></div>
<h3>Objectives</h3>
{{if .Objectives}}<div class="scroll"><table>
<thead><tr><th>Objective</th><th>Bound</th><th>Measured</th><th>Verdict</th><th>Detail</th></tr></thead>
<tbody>{{range .Objectives}}<tr><td>{{.Name}}</td><td class="num">{{.Bound}}</td><td class="num">{{.Measured}}</td><td class="v {{.Class}}">{{.Verdict}}</td><td class="detail">{{.Detail}}</td></tr>
{{end}}</tbody>
</table></div>
{{else}}<p>No objectives declared.</p>
{{end}}{{if .Measurements}}<h3>Measurements</h3>
<div class="scroll"><table>
<thead><tr><th>Measurement</th><th>Value</th><th>Detail</th></tr></thead>
<tbody>{{range .Measurements}}<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td><td class="detail">{{.Detail}}</td></tr>
{{end}}</tbody>
</table></div>
{{end}}{{if .Findings}}<h3>Findings</h3>
<ul>{{range .Findings}}<li>{{.}}</li>{{end}}</ul>
{{end}}{{if .Preflight}}<h3>Preflight</h3>
<div class="scroll"><table>
<thead><tr><th>Check</th><th>Status</th><th>Detail</th></tr></thead>
<tbody>{{range .Preflight}}<tr><td>{{.Name}}</td><td class="v {{.Class}}">{{.Status}}</td><td class="detail">{{.Detail}}</td></tr>
{{end}}</tbody>
</table></div>
{{end}}{{with .Alerts}}<h3>Alerts</h3>
<p>{{.Source}}</p>
{{if .Rows}}<div class="scroll"><table>
<thead><tr><th>Alert</th><th>Severity</th><th>Pending</th><th>Firing</th><th>Notified</th><th>Notified resolved</th></tr></thead>
<tbody>{{range .Rows}}<tr><td class="detail">{{.Name}}</td><td>{{.Severity}}</td><td>{{.Pending}}</td><td>{{.Firing}}</td><td class="num">{{.Notified}}</td><td class="num">{{.NotifiedResolved}}</td></tr>
{{end}}</tbody>
</table></div>
{{else}}<p>No alert was pending or firing during the drill.</p>
{{end}}{{end}}<h3>Unavailability</h3>
{{if .Outages}}<div class="scroll"><table>
<thead><tr><th>Locator</th><th>Outages</th><th>Down in all</th><th>Longest</th><th>Open at the end</th><th>First</th></tr></thead>
<tbody>{{range .Outages}}<tr><td>{{.Locator}}</td><td class="num">{{.Count}}</td><td class="num">{{.Down}}</td><td class="num">{{.Longest}}</td><td>{{.Open}}</td><td class="detail">{{.Message}}</td></tr>
{{end}}</tbody>
</table></div>
<p class="note">Every outage is on the timeline, with its message.</p>
{{else}}<p>None recorded.</p>
{{end}}{{if .TimeRows}}<h3>Where the time went</h3>
<div class="scroll"><table>
<thead><tr><th>Bucket</th><th>Time (share of {{.TimeWall}})</th></tr></thead>
<tbody>{{range .TimeRows}}<tr><td>{{index . 0}}</td><td class="num">{{index . 1}}</td></tr>
{{end}}</tbody>
</table></div>
{{end}}</section>
{{end}}`
