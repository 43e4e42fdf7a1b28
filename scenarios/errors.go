package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/drill-sre/drill/internal/textfile"
)

// Error is one problem in a drill file.
type Error struct {
	// File is the file as given to the loader; empty for a Scenario built
	// in Go.
	File string
	// Line and Column locate the field, 1-based; 0 when unknown.
	Line, Column int
	// Path is the field's path, such as "objectives.rto.app" or
	// "objectives.alerts.expect[0].name"; empty for the whole file.
	Path string
	// Reason says what is wrong.
	Reason string
}

// Error formats e as "file:line:column: path: reason", leaving out what is
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// ErrorList is every problem found in one or more drill files, in file order,
// then line order. The loaders return one as their error.
type ErrorList []*Error

// Error lists the errors, one a line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Files returns the files that have errors, in order, each once.
func (l ErrorList) Files() []string {
	var files []string
	for _, e := range l {
		if !slices.Contains(files, e.File) {
			files = append(files, e.File)
		}
	}
	return files
}

// err returns l as an error, nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// capped returns the first MaxErrors errors of l, all of file, and one more
// that counts the others.
func (l ErrorList) capped(file string) ErrorList {
	if len(l) <= MaxErrors {
		return l
	}
	more := len(l) - MaxErrors
	return append(l[:MaxErrors:MaxErrors], &Error{File: file, Reason: textfile.MoreErrors(more, MaxErrors)})
}

// Values repeated in errors are cut (textfile.MaxEcho).
var (
	quote  = textfile.Quote
	clip   = textfile.Clip
	plural = textfile.Plural
)

// sortByLine orders the errors of one file by position, keeping the order of
// errors at the same position.
func (l ErrorList) sortByLine() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}
