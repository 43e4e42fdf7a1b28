package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"io"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"

	"github.com/drill-sre/drill/internal/redact"
)

// WriteHTML writes r as one self-contained HTML page: the Markdown summary
// (WriteMarkdown) rendered, with its tables, and styled so that a verdict
// other than pass stands out. The page loads nothing: no script, font or
// stylesheet from elsewhere, so it opens as well from a CI artifact as from
// disk.
func WriteHTML(w io.Writer, r Report) error {
	r = redact.Value(r)
	var md, body bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		return err
	}
	// The summary escapes every recorded text (text, cell), "<" and "["
	// included: the HTML left in it is its own <br> in table cells.
	// goldmark then renders no raw HTML (lineBreaks lets that <br>
	// through, and only it) and, should a link get through, no href or
	// src to a javascript:, vbscript:, file: or data: URL, whatever its
	// case.
	gm := goldmark.New(goldmark.WithExtensions(extension.Table),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(lineBreaks{}, 100))))
	if err := gm.Convert(md.Bytes(), &body); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	title := "Drill report"
	if r.Cluster != "" {
		title += ": " + r.Cluster
	}
	err := htmlPage.Execute(w, struct {
		Title string
		Body  template.HTML
	}{title, template.HTML(body.String())}) //nolint:gosec // rendered from escaped Markdown, above
	if err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

// lineBreaks renders the summary's inline HTML: its own <br> (cell) as a
// line break, anything else as the text it is. goldmark's safe renderer
// would drop the <br> with the rest.
type lineBreaks struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (lineBreaks) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, func(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkSkipChildren, nil
		}
		segs := n.(*ast.RawHTML).Segments
		for i := range segs.Len() {
			seg := segs.At(i)
			raw := seg.Value(source)
			if string(raw) == "<br>" {
				_, _ = w.WriteString("<br>")
				continue
			}
			_, _ = w.Write(util.EscapeHTML(raw))
		}
		return ast.WalkSkipChildren, nil
	})
}

// htmlPage wraps the rendered summary. In the summary's tables, bold is a
// verdict other than pass (verdictCell).
var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #1f2328; }
h1, h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; }
h2 { margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #d1d9e0; padding: .35em .7em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fbfcfd; }
td strong { color: #b3261e; }
code { font: 13px ui-monospace, monospace; background: #f6f8fa; padding: .1em .3em; border-radius: 4px; }
</style>
</head>
<body>
{{.Body}}
</body>
</html>
`))
