package history

import (
	"fmt"
	"html/template"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/drill-sre/drill/internal/svgplot"
	"github.com/drill-sre/drill/reports"
)

// chartWidth and chartHeight are a trend chart's size, in points; the page
// scales it to its width.
const (
	chartWidth  = 480
	chartHeight = 170
)

// chart is a trend chart: an SVG document gonum drew, left open so that the
// page can add a mark per point carrying its run and value as a <title>.
type chart struct {
	// SVG is gonum's SVG, without its XML prolog and closing </svg>. It
	// holds no recorded text: its only words are the axes' numbers.
	SVG template.HTML
	// Marks are the points, in the SVG's coordinates.
	Marks []mark
	// HasBound says a bound line is drawn.
	HasBound bool
}

// mark is a point of a chart: where it is and what it says.
type mark struct {
	X, Y  string
	Title string
}

// drawChart draws s across runs runs (numbered from 1, oldest left): the
// values as a line broken where the drill did not run, a dot per run
// (red when the objective failed, ringed when it regressed) and, where the
// bound reads as a number in the figure's unit (reports.ParseBound), the bound as
// a dashed line.
func drawChart(s Series, runs int, regressed map[int]bool) (chart, error) {
	p := plot.New()
	p.X.Tick.Label.Font = svgplot.Sans(9)
	p.Y.Tick.Label.Font = svgplot.Sans(9)
	p.X.Min, p.X.Max = 0.5, float64(runs)+0.5
	p.X.Tick.Marker = runTicks(runs)
	p.Y.Tick.Marker = plot.DefaultTicks{}

	lo, hi := math.Inf(1), math.Inf(-1)
	note := func(v float64) { lo, hi = math.Min(lo, v), math.Max(hi, v) }
	var bounds plotter.XYs
	for _, pt := range s.Points {
		note(pt.Value)
		if b, ok := reports.ParseBound(pt.Bound, s.Unit); ok {
			bounds = append(bounds, plotter.XY{X: x(pt), Y: b})
			note(b)
		}
	}
	p.Y.Min, p.Y.Max = math.Min(0, lo), hi*1.1
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}

	if len(bounds) > 0 {
		if same(bounds) {
			bounds = plotter.XYs{{X: p.X.Min, Y: bounds[0].Y}, {X: p.X.Max, Y: bounds[0].Y}}
		}
		l, err := plotter.NewLine(bounds)
		if err != nil {
			return chart{}, fmt.Errorf("draw bound: %w", err)
		}
		l.Color, l.Width, l.Dashes = svgplot.Bound, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
	}
	for _, seg := range segments(s.Points) {
		if len(seg) < 2 {
			continue
		}
		l, err := plotter.NewLine(seg)
		if err != nil {
			return chart{}, fmt.Errorf("draw values: %w", err)
		}
		l.Color, l.Width = svgplot.Line, vg.Points(1.2)
		p.Add(l)
	}
	xys := make(plotter.XYs, len(s.Points))
	for i, pt := range s.Points {
		xys[i] = plotter.XY{X: x(pt), Y: pt.Value}
	}
	dots, err := plotter.NewScatter(xys)
	if err != nil {
		return chart{}, fmt.Errorf("draw values: %w", err)
	}
	dots.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		g := draw.GlyphStyle{Color: svgplot.Pass, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		if s.Points[i].Verdict != reports.Pass {
			g.Color = svgplot.Fail
		}
		if regressed[s.Points[i].Run] {
			g.Color, g.Radius, g.Shape = svgplot.Fail, vg.Points(4.5), draw.RingGlyph{}
		}
		return g
	}
	p.Add(dots)

	fig, err := svgplot.Draw(p, chartWidth, chartHeight, svgplot.Inset{})
	if err != nil {
		return chart{}, fmt.Errorf("draw chart: %w", err)
	}
	out := chart{SVG: fig.SVG, HasBound: len(bounds) > 0}
	for _, pt := range s.Points {
		out.Marks = append(out.Marks, mark{
			X:     svgplot.Coord(fig.X(x(pt))),
			Y:     svgplot.Coord(fig.Y(pt.Value)),
			Title: fmt.Sprintf("%s: %s (%s)", pt.RunID, pt.Measured, pt.Verdict),
		})
	}
	return out, nil
}

// x is where a point goes along the runs: its run's number, from 1.
func x(p Point) float64 { return float64(p.Run + 1) }

// same says whether every point has the same Y.
func same(xys plotter.XYs) bool {
	for _, p := range xys {
		if p.Y != xys[0].Y {
			return false
		}
	}
	return true
}

// segments splits points into runs of consecutive runs.
func segments(points []Point) []plotter.XYs {
	var out []plotter.XYs
	for i, p := range points {
		if i == 0 || p.Run != points[i-1].Run+1 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], plotter.XY{X: x(p), Y: p.Value})
	}
	return out
}

// runTicks labels the runs axis with run numbers, at most about ten.
func runTicks(runs int) plot.ConstantTicks {
	step := max(1, int(math.Ceil(float64(runs)/10)))
	var ticks []plot.Tick
	for n := 1; n <= runs; n++ {
		t := plot.Tick{Value: float64(n)}
		if n == 1 || n%step == 0 {
			t.Label = strconv.Itoa(n)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
