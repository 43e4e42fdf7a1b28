package history

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/drill-sre/drill/internal/redact"
)

// WriteSummary writes a terminal summary of a: the runs, a line per drill
// (runs it ran in, pass rate, its last runs, flaky) and every regression of
// the newest run, then how many earlier runs had some.
func WriteSummary(w io.Writer, a Analysis) error {
	a = redact.Value(a)
	var buf bytes.Buffer
	runs := a.History.Runs
	if len(runs) == 0 {
		buf.WriteString("0 runs\n")
	} else {
		fmt.Fprintf(&buf, "%s from %s to %s, %s\n", count(len(runs), "run"), oneLine(runs[0].ID), oneLine(runs[len(runs)-1].ID), count(len(a.Drills), "drill"))
	}
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "DRILL\tRAN\tPASSED\tLAST %d\tFLAKY\n", a.FlakyRule.Window)
	for _, d := range a.Drills {
		flaky := "-"
		if d.Flaky {
			flaky = fmt.Sprintf("flaky (%d flips)", d.Flips)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d/%d passed\t%s\n", oneLine(d.Name), d.Ran, percent(d.PassRate()), d.RecentPassed, d.Recent, flaky)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write history summary: %w", err)
	}
	newest := a.NewestRegressions()
	switch {
	case len(runs) == 0:
	case len(newest) == 0:
		fmt.Fprintf(&buf, "no regression in the newest run %s\n", oneLine(runs[len(runs)-1].ID))
	default:
		fmt.Fprintf(&buf, "%s in the newest run %s:\n", count(len(newest), "regression"), oneLine(runs[len(runs)-1].ID))
		for _, r := range newest {
			fmt.Fprintf(&buf, "  %s %s: %s, %s\n", oneLine(r.Drill), oneLine(r.Figure), oneLine(r.Point.Measured), against(r))
		}
	}
	if earlier := len(a.Regressions) - len(newest); earlier > 0 {
		fmt.Fprintf(&buf, "%s in earlier runs\n", count(earlier, "regression"))
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write history summary: %w", err)
	}
	return nil
}

// oneLine folds control characters, line breaks and tabs included, into
// spaces, so that recorded text keeps the terminal's lines.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
}

// count writes n nouns: "1 run", "2 runs".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
