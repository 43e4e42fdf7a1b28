package svgplot

import (
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// The drawing is an open <svg> the page can add to, and the transforms put
// the data range inside the inset, y growing down.
func TestDraw(t *testing.T) {
	p := plot.New()
	p.X.Min, p.X.Max = 0, 100
	p.Y.Min, p.Y.Max = 0, 10
	p.HideY()
	fig, err := Draw(p, 400, 200, Inset{Left: 120, Top: 5})
	if err != nil {
		t.Fatal(err)
	}
	svg := string(fig.SVG)
	if !strings.HasPrefix(svg, "<svg ") || strings.Contains(svg, "</svg>") || strings.Contains(svg, "<?xml") {
		t.Errorf("not an open <svg> element:\n%.200s", svg)
	}
	if !strings.Contains(svg, `viewBox="0 0 400 200"`) {
		t.Errorf("no 400x200 viewBox:\n%.200s", svg)
	}
	x0, x1 := fig.X(0), fig.X(100)
	if x0 < 120 || x1 > 400 || x1 <= x0 {
		t.Errorf("x from %v to %v, want within 120..400", x0, x1)
	}
	ytop, ybottom := fig.Y(10), fig.Y(0)
	if ytop < 5 || ybottom > 200 || ybottom <= ytop {
		t.Errorf("y from %v (10) to %v (0), want 10 above 0 within 5..200", ytop, ybottom)
	}
	if got := Coord(12.345); got != "12.3" {
		t.Errorf("Coord(12.345) = %q", got)
	}
}
