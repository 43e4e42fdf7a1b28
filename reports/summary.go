package reports

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/drill-sre/drill/internal/redact"
)

// MaxSummaryBytes is what WriteSummary keeps a summary under unless told
// otherwise: below GitHub's limit on a pull request comment (65,536
// characters, and a character is at least a byte), and so far below its
// 1 MiB limit on a job summary, with room for what a CI step adds.
const MaxSummaryBytes = 60000

// SummaryOptions shape WriteSummary.
type SummaryOptions struct {
	// Link is where the full report is (an http or https URL); without
	// one the summary says to look for report.html beside it.
	Link string
	// MaxBytes caps the summary's size; 0 means MaxSummaryBytes.
	MaxBytes int
}

// Summary limits: recorded text is clipped so that one drill cannot take
// the whole summary.
const (
	summaryNameRunes    = 80
	summaryCellRunes    = 80
	summaryFailureRunes = 300
	summaryFailures     = 5
)

// WriteSummary writes a short Markdown summary of r, sized for a CI job
// summary or a pull request comment: a verdict line, one table row per drill
// with its RTOs and RPOs measured against their bounds, its other
// objectives counted and its verdict, then why each drill that did not pass
// failed (at most five reasons each, each clipped), and where the full
// report is. Recorded text is escaped: it never becomes a link, markup or an
// @mention. The summary stays under o.MaxBytes: past it, failures and then
// table rows are left out, and a line says how many.
func WriteSummary(w io.Writer, r Report, o SummaryOptions) error {
	r = redact.Value(r)
	limit := o.MaxBytes
	if limit <= 0 {
		limit = MaxSummaryBytes
	}
	var head bytes.Buffer
	writeSummaryHead(&head, r)

	var rows []string
	for _, d := range r.Drills {
		rows = append(rows, summaryRow(clip(d.Name, summaryNameRunes), summaryVerdict(d.Verdict),
			objectiveCell(d, isRTO), objectiveCell(d, isRPO), otherObjectives(d)))
	}
	var failures []string // one line each, "- **drill** (fail): reason"
	for _, d := range r.NotPassed() {
		reasons := d.Failures
		if len(reasons) == 0 {
			for _, ob := range failingObjectives(d) {
				reasons = append(reasons, describeObjective(ob))
			}
		}
		if len(reasons) == 0 {
			reasons = []string{"no reason recorded"}
		}
		prefix := fmt.Sprintf("- **%s** (%s): ", summaryText(clip(d.Name, summaryNameRunes)), summaryText(orDash(string(d.Verdict))))
		for i, reason := range reasons {
			if i == summaryFailures {
				failures = append(failures, fmt.Sprintf("%s… and %d more in the full report\n", prefix, len(reasons)-i))
				break
			}
			failures = append(failures, prefix+summaryText(clip(reason, summaryFailureRunes))+"\n")
		}
	}
	foot := "\n" + summaryLink(o.Link) + "\n"

	// What must fit: the head, the footer and, in case anything is left
	// out, the line that says so.
	const noteRoom = 300
	var b bytes.Buffer
	b.Write(head.Bytes())
	budget := limit - len(foot) - noteRoom
	keptRows := 0
	if len(rows) > 0 {
		table(&b, []string{"Drill", "Verdict", "RTO (measured / bound)", "RPO (measured / bound)", "Other objectives"}, func(func(...string)) {})
		for _, row := range rows {
			if b.Len()+len(row) > budget {
				break
			}
			b.WriteString(row)
			keptRows++
		}
	}
	keptFailures := 0
	if len(failures) > 0 && keptRows == len(rows) {
		const title = "\n### Failures\n\n"
		if b.Len()+len(title)+len(failures[0]) <= budget {
			b.WriteString(title)
			for _, f := range failures {
				if b.Len()+len(f) > budget {
					break
				}
				b.WriteString(f)
				keptFailures++
			}
		}
	}
	if keptRows < len(rows) || keptFailures < len(failures) {
		fmt.Fprintf(&b, "\n_Summary cut to stay under %d bytes: %d of %d drill rows and %d of %d failure lines left out; the full report has them all._\n",
			limit, len(rows)-keptRows, len(rows), len(failures)-keptFailures, len(failures))
	}
	b.WriteString(foot)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// writeSummaryHead writes the verdict line and what the game day was.
func writeSummaryHead(b *bytes.Buffer, r Report) {
	bad := len(r.NotPassed())
	switch {
	case len(r.Drills) == 0:
		b.WriteString("## ⚠️ Drills: none ran\n\n")
	case bad == 0:
		fmt.Fprintf(b, "## ✅ Drills: %s passed\n\n", all(len(r.Drills)))
	default:
		fmt.Fprintf(b, "## ❌ Drills: %d of %d did not pass\n\n", bad, len(r.Drills))
	}
	var facts []string
	if len(r.Drills) > 0 {
		facts = append(facts, summaryText(verdictCount(r)))
	}
	if r.Cluster != "" {
		// A code span shows its text as written: nothing to escape
		// but its backticks.
		facts = append(facts, "cluster `"+inlineCode(clip(r.Cluster, summaryNameRunes))+"`")
	}
	if !r.Started.IsZero() {
		facts = append(facts, fmt.Sprintf("started %s, wall time %s", timestamp(r.Started), wallTime(r.Started, r.Finished)))
	}
	if len(facts) > 0 {
		b.WriteString(strings.Join(facts, " · ") + "\n\n")
	}
}

// all says "the drill" or "all N drills".
func all(n int) string {
	if n == 1 {
		return "the drill"
	}
	return fmt.Sprintf("all %d drills", n)
}

func isRTO(name string) bool { return name == "rto" || strings.HasPrefix(name, "rto.") }
func isRPO(name string) bool { return name == "rpo" || strings.HasPrefix(name, "rpo.") }

// objectiveCell lists d's objectives that match, one per line: "api 11.3s
// / 20s", the name without its rto. or rpo. prefix, a failure in bold with
// its verdict.
func objectiveCell(d Drill, match func(string) bool) string {
	var lines []string
	for _, o := range d.Objectives {
		if !match(o.Name) {
			continue
		}
		name := o.Name
		if _, rest, ok := strings.Cut(o.Name, "."); ok {
			name = rest
		}
		s := clip(fmt.Sprintf("%s %s / %s", name, orDash(o.Measured), orDash(o.Bound)), summaryCellRunes)
		if o.Verdict != Pass {
			s = fmt.Sprintf("**%s** (%s)", s, clip(orDash(string(o.Verdict)), summaryNameRunes))
		}
		lines = append(lines, s)
	}
	if len(lines) == 0 {
		return "-"
	}
	return strings.Join(lines, "\n")
}

// otherObjectives counts d's objectives that are neither RTOs nor RPOs:
// "2 of 3 passed", or "-".
func otherObjectives(d Drill) string {
	n, passed := 0, 0
	for _, o := range d.Objectives {
		if isRTO(o.Name) || isRPO(o.Name) {
			continue
		}
		n++
		if o.Verdict == Pass {
			passed++
		}
	}
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%d of %d passed", passed, n)
}

// summaryVerdict shows a verdict with a mark GitHub renders in colour.
func summaryVerdict(v Verdict) string {
	switch v {
	case Pass:
		return "✅ pass"
	case Fail:
		return "❌ **fail**"
	case Error:
		return "⚠️ **error**"
	case "":
		return "-"
	}
	return "❓ **" + string(v) + "**"
}

// summaryText escapes s for the summary's prose: what text escapes, and @,
// so that recorded text never mentions (and notifies) someone in a pull
// request comment.
func summaryText(s string) string { return strings.ReplaceAll(text(s), "@", "&#64;") }

// summaryRow writes a table row, each cell escaped (summaryText) with its
// lines joined by <br> and its pipes escaped.
func summaryRow(cells ...string) string {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range cells {
		lines := strings.Split(c, "\n")
		for i, l := range lines {
			lines[i] = summaryText(oneLine(l))
		}
		b.WriteString(" " + strings.ReplaceAll(strings.Join(lines, "<br>"), "|", `\|`) + " |")
	}
	b.WriteString("\n")
	return b.String()
}

// summaryLink says where the full report is: a Markdown link to an http or
// https URL, or else the file beside the summary.
func summaryLink(link string) string {
	if (strings.HasPrefix(link, "https://") || strings.HasPrefix(link, "http://")) &&
		!strings.ContainsAny(link, "<> \t\r\n") {
		return fmt.Sprintf("Full report: [%s](<%s>)", summaryText(clip(link, summaryCellRunes)), link)
	}
	return "Full report: report.html (and report.md) in the run's directory, beside this summary."
}
