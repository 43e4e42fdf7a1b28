// Package svgplot draws a gonum plot as an SVG element to inline in an HTML
// page, and says where the plot's data coordinates fall in it, so that the
// page can draw its own elements over the plot: marks and bars that carry
// their text as <title> tooltips, rows of a timeline.
//
// gonum computes the scales, ticks and axes; the page only places its own
// elements with the transforms Draw returns. The SVG holds no recorded text:
// its only words are the axes' numbers and labels the caller set.
package svgplot

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Colours shared by the pages' drawings, as their verdict classes.
var (
	Line  = color.RGBA{R: 0x57, G: 0x60, B: 0x6a, A: 0xff}
	Pass  = color.RGBA{R: 0x1a, G: 0x7f, B: 0x37, A: 0xff}
	Fail  = color.RGBA{R: 0xcf, G: 0x22, B: 0x2e, A: 0xff}
	Bound = color.RGBA{R: 0xbc, G: 0x4c, B: 0x00, A: 0xff}
	Grid  = color.RGBA{R: 0xea, G: 0xee, B: 0xf2, A: 0xff}
)

// Sans is the sans-serif face gonum measures and writes text with, at size
// points. The pages' stylesheets name the same family first, so the text
// drawn fits the room gonum measured for it.
func Sans(size vg.Length) font.Font {
	return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, size)
}

// Figure is a plot drawn as SVG, left open for the page to add its own
// elements before closing it with </svg>.
type Figure struct {
	// SVG is gonum's SVG element without its XML prolog and its closing
	// </svg>.
	SVG template.HTML
	// Width and Height are the figure's size in points, its viewBox.
	Width, Height float64
	// X and Y map data coordinates to the SVG's: in points, from its top
	// left corner.
	X, Y func(float64) float64
}

// Inset is room left empty around the plot, in points: the page writes
// there (row labels on the left of a timeline).
type Inset struct {
	Left, Right, Top, Bottom float64
}

// Draw draws p on a width × height canvas, the plot inset by in.
func Draw(p *plot.Plot, width, height float64, in Inset) (Figure, error) {
	c := vgsvg.New(vg.Points(width), vg.Points(height))
	dc := draw.Crop(draw.New(c), vg.Points(in.Left), -vg.Points(in.Right), vg.Points(in.Bottom), -vg.Points(in.Top))
	p.Draw(dc)
	data := p.DataCanvas(dc)
	tx, ty := p.Transforms(&data)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return Figure{}, fmt.Errorf("draw plot: %w", err)
	}
	svg, err := open(buf.String())
	if err != nil {
		return Figure{}, err
	}
	return Figure{
		SVG:    template.HTML(svg), //nolint:gosec // gonum's own SVG: numbers and the caller's labels, its text escaped
		Width:  width,
		Height: height,
		X:      func(v float64) float64 { return tx(v).Points() },
		Y:      func(v float64) float64 { return height - ty(v).Points() },
	}, nil
}

// Coord formats an SVG coordinate, to a tenth of a point.
func Coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// open strips gonum's SVG document of what cannot be inlined in HTML (its
// XML prolog and comment) and of its closing tag, which the page writes
// after its own elements.
func open(doc string) (string, error) {
	start := strings.Index(doc, "<svg")
	end := strings.LastIndex(doc, "</svg>")
	if start < 0 || end < start {
		return "", fmt.Errorf("draw plot: gonum wrote no <svg> element")
	}
	return doc[start:end], nil
}
