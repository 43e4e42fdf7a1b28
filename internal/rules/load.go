// Package rules checks Prometheus alerting and recording rules offline: it
// loads rule files strictly, with errors that name the file, group, rule and
// reason, and runs rule unit tests written in promtool's format (`promtool
// test rules`) through Prometheus' own PromQL engine and rule manager, with
// no cluster and no Prometheus server.
package rules

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/drill-sre/drill/internal/textfile"
)

// Error is one problem in a rule file.
type Error struct {
	// File is the rule file as given to Load.
	File string
	// Line and Column locate the problem, 1-based; 0 when unknown.
	Line, Column int
	// Group is the name of the group the problem is in; empty when it is
	// outside any group.
	Group string
	// Rule is the rule's 1-based index in its group; 0 when the problem is
	// the group's own.
	Rule int
	// RuleName is the rule's alert or record name.
	RuleName string
	// Reason says what is wrong.
	Reason string
}

// Error formats e as `file:line:column: group "g", rule 2 "Name": reason`,
// leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Group != "" || e.Rule > 0 {
		b.WriteString("group " + textfile.Quote(e.Group))
		if e.Rule > 0 {
			fmt.Fprintf(&b, ", rule %d", e.Rule)
			if e.RuleName != "" {
				b.WriteString(" " + textfile.Quote(e.RuleName))
			}
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// ErrorList is every problem found in a rule file, in line order. Load
// returns one as its error.
type ErrorList []*Error

// Error lists the errors, one a line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// nameValidation is how metric and label names are checked: the legacy
// scheme ([a-zA-Z_:][a-zA-Z0-9_:]*) of Prometheus 2, which drill's clusters
// run, rather than Prometheus 3's UTF-8.
const nameValidation = model.LegacyValidation

// Load reads and parses the Prometheus rule file at path, refusing unknown
// fields, and checks it as Prometheus does when it loads it: PromQL
// expressions, durations, templates, label names, repeated groups. On failure
// the error is an ErrorList that names, for each problem, the file, line,
// group, rule and reason.
func Load(path string) (*rulefmt.RuleGroups, error) {
	data, err := readFile(path, "rule file")
	if err != nil {
		return nil, ErrorList{{File: path, Reason: readReason(err)}}
	}
	return Parse(path, data)
}

// MaxFileSize is the largest rule or rule test file the loaders accept,
// 1 MiB: some 7 000 alerting rules, which take Prometheus' parser most of a
// second. The largest published rule sets (kube-prometheus') are a tenth of
// that.
const MaxFileSize = 1 << 20

// MaxErrors is how many errors of one file Load reports, in line order; the
// others are counted in one more error that says how many.
const MaxErrors = 20

// readFile reads the file at name, a what ("rule file"), and no more than
// MaxFileSize+1 bytes of it: a bigger file (or /dev/zero) is refused before
// it is read whole.
func readFile(name, what string) ([]byte, error) {
	return textfile.Read(name, MaxFileSize, what)
}

// Parse is Load for a file already read; name names it in errors.
func Parse(name string, data []byte) (*rulefmt.RuleGroups, error) {
	if len(data) > MaxFileSize {
		return nil, ErrorList{{File: name, Reason: textfile.TooBig{Size: int64(len(data)), Max: MaxFileSize, What: "rule file"}.Error()}}
	}
	if p := textfile.NotText(data); p != nil {
		return nil, ErrorList{{File: name, Line: p.Line, Column: p.Column, Reason: p.Reason}}
	}
	rgs, errs := parse(name, data)
	return rgs, capErrors(name, errs)
}

// capErrors returns nil for no errors; else the first MaxErrors of errs,
// and one more that counts the others, each with the values it repeats
// cut (clipValues).
func capErrors(name string, errs ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	if len(errs) > MaxErrors {
		errs = append(errs[:MaxErrors:MaxErrors], &Error{File: name, Reason: textfile.MoreErrors(len(errs)-MaxErrors, MaxErrors)})
	}
	for _, e := range errs {
		e.Reason = clipValues(e.Reason)
	}
	return errs
}

var (
	// quoted is a Go-quoted string in an error, as %q writes it.
	quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	// trailingValue is a message of rulefmt's that ends with the value, unquoted.
	trailingValue = regexp.MustCompile(`^((?:invalid (?:label name|label value|recording rule name|annotation name)|braces present in the recording rule name; should it be in expr\?): )(.*)$`)
)

// maxReason is the longest reason an error gives, in bytes, whatever
// rulefmt or PromQL wrote.
const maxReason = 512

// clipValues cuts the values a reason repeats at textfile.MaxEcho bytes:
// the quoted ones, the one rulefmt ends some messages with, and the whole
// reason at maxReason.
func clipValues(reason string) string {
	reason = quoted.ReplaceAllStringFunc(reason, func(q string) string {
		if len(q) <= textfile.MaxEcho+2 {
			return q
		}
		u, err := strconv.Unquote(q)
		if err != nil || len(u) <= textfile.MaxEcho || strings.HasSuffix(u, "…") {
			return q // short, or cut already
		}
		return textfile.Quote(u)
	})
	if m := trailingValue.FindStringSubmatch(reason); m != nil {
		reason = m[1] + textfile.Clip(m[2])
	}
	if len(reason) > maxReason {
		reason = textfile.Clip(reason[:maxReason]) + fmt.Sprintf(" (%d bytes in all)", len(reason))
	}
	return reason
}

// parse parses and checks data, and returns every error, in line order.
func parse(name string, data []byte) (*rulefmt.RuleGroups, ErrorList) {
	idx, errs, bad := index(name, data)
	if len(errs) > 0 && bad == nil {
		return nil, errs // YAML syntax, or a duration rulefmt cannot get past
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrorList{{File: name, Reason: "empty rule file: want a groups: list"}}
	}
	// rulefmt stops at the first bad duration, with an error that has no
	// position: index has reported them with one, and they are blanked out
	// so that rulefmt reports the other problems too.
	for _, n := range bad {
		data = blank(data, n)
	}
	rgs, perrs := rulefmt.Parse(data, false, nameValidation)
	if slices.ContainsFunc(perrs, isTypeError) {
		// Strict decoding failed (an unknown field, say) and rulefmt checked
		// nothing else: check the rest without it.
		_, more := rulefmt.Parse(data, true, nameValidation)
		perrs = append(perrs, slices.DeleteFunc(more, isTypeError)...)
	}
	for _, perr := range perrs {
		errs = append(errs, idx.locate(perr)...)
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		// Decoding twice reports type errors twice.
		errs = slices.CompactFunc(errs, func(a, b *Error) bool { return *a == *b })
		return nil, errs
	}
	return rgs, nil
}

func isTypeError(err error) bool {
	var terr *yaml.TypeError
	return errors.As(err, &terr)
}

// readReason is err without the path, which Error prints already.
func readReason(err error) string {
	var perr *os.PathError
	if errors.As(err, &perr) {
		return perr.Err.Error()
	}
	return err.Error()
}

// fileIndex maps lines of a rule file to its groups and rules.
type fileIndex struct {
	file   string
	groups []groupSpan
}

type groupSpan struct {
	name  string
	line  int // first line; the group ends where the next begins
	col   int
	rules []ruleSpan
}

type ruleSpan struct {
	name string
	line int
	col  int
}

// index walks the YAML of a rule file to know where its groups and rules
// are, and checks what rulefmt would refuse without a position: YAML
// syntax, and durations. bad lists the durations that are wrong; it is nil
// when one of them cannot be blanked out (see blank) or the YAML is broken.
func index(file string, data []byte) (idx *fileIndex, errs ErrorList, bad []*yaml.Node) {
	idx = &fileIndex{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if e := tabError(file, data, err); e != nil {
			return idx, ErrorList{e}, nil
		}
		return idx, idx.locate(err), nil
	}
	if len(doc.Content) == 0 {
		return idx, nil, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, second yaml.Node
	if dec.Decode(&first) == nil && dec.Decode(&second) == nil {
		return idx, ErrorList{{File: file, Line: second.Line, Column: second.Column,
			Reason: "a second YAML document: Prometheus reads the first one only"}}, nil
	}
	groups := mapValue(doc.Content[0], "groups")
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return idx, nil, nil // rulefmt says what is wrong
	}
	blankable := true
	checkDuration := func(n *yaml.Node, key string, e *Error) {
		if n == nil || n.Tag == "!!null" {
			return
		}
		if n.Kind == yaml.ScalarNode {
			if _, err := model.ParseDuration(n.Value); err == nil {
				return
			}
		}
		e.File, e.Line, e.Column = file, n.Line, n.Column
		e.Reason = fmt.Sprintf("%s: %s is not a duration: want a number and a unit, such as 30s, 5m or 1h30m", key, textfile.Quote(n.Value))
		if n.Kind != yaml.ScalarNode {
			e.Reason = key + ": want a duration, such as 30s, 5m or 1h30m"
		}
		errs = append(errs, e)
		bad = append(bad, n)
		blankable = blankable && n.Kind == yaml.ScalarNode && n.Style == 0 && !strings.ContainsAny(n.Value, "\n\r")
	}
	for _, g := range groups.Content {
		gs := groupSpan{line: g.Line, col: g.Column}
		if n := mapValue(g, "name"); n != nil {
			gs.name = n.Value
		}
		for _, key := range []string{"interval", "query_offset"} {
			checkDuration(mapValue(g, key), key, &Error{Group: gs.name})
		}
		if rs := mapValue(g, "rules"); rs != nil && rs.Kind == yaml.SequenceNode {
			for ri, r := range rs.Content {
				span := ruleSpan{line: r.Line, col: r.Column}
				if n := cmp.Or(mapValue(r, "alert"), mapValue(r, "record")); n != nil {
					span.name = n.Value
				}
				gs.rules = append(gs.rules, span)
				for _, key := range []string{"for", "keep_firing_for"} {
					checkDuration(mapValue(r, key), key, &Error{Group: gs.name, Rule: ri + 1, RuleName: span.name})
				}
			}
		}
		idx.groups = append(idx.groups, gs)
	}
	if !blankable {
		bad = nil
	}
	return idx, errs, bad
}

// tabError is the Error of a YAML syntax error caused by a tab in the
// indentation, which YAML's message does not name; nil for another.
func tabError(file string, data []byte, err error) *Error {
	msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = err.Error()[len(m[0]):]
	}
	if p := textfile.TabIndented(data, line, msg); p != nil {
		return &Error{File: file, Line: p.Line, Column: p.Column, Reason: p.Reason}
	}
	return nil
}

// blank replaces the plain scalar n in data with "0", padded with spaces to
// its length, so that positions do not move.
func blank(data []byte, n *yaml.Node) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if n.Line < 1 || n.Line > len(lines) {
		return data
	}
	l := []rune(string(lines[n.Line-1]))
	at, v := n.Column-1, []rune(n.Value)
	if len(v) == 0 || at < 0 || at+len(v) > len(l) || string(l[at:at+len(v)]) != n.Value {
		return data
	}
	copy(l[at:], []rune("0"+strings.Repeat(" ", len(v)-1)))
	lines[n.Line-1] = []byte(string(l))
	return bytes.Join(lines, nil)
}

// mapValue returns the value of key in the mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

var (
	// rulefmt's errors start with "line:column: " and sometimes a second
	// position.
	posPrefix = regexp.MustCompile(`^(\d+):(\d+): (?:\d+:\d+: )?`)
	// YAML's errors name lines as "line N: ".
	yamlLine      = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)
	repeatedGroup = regexp.MustCompile(`^groupname: "(.*)" is repeated in the same file$`)
	// YAML's strict decoding names unknown fields so.
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// locate turns an error of rulefmt or YAML into Errors with the file,
// position, group and rule it is about.
func (idx *fileIndex) locate(err error) ErrorList {
	var rerr *rulefmt.Error
	if errors.As(err, &rerr) {
		e := &Error{File: idx.file, Group: rerr.Group, Rule: rerr.Rule, RuleName: rerr.RuleName}
		e.Line, e.Column, e.Reason = splitPos(rerr.Err.Error())
		if e.Line == 0 {
			// Label and template errors carry no position: point at the rule.
			if g := idx.group(rerr.Group); g != nil && rerr.Rule-1 < len(g.rules) {
				r := g.rules[rerr.Rule-1]
				e.Line, e.Column = r.line, r.col
			}
		}
		return ErrorList{e}
	}
	var terr *yaml.TypeError
	if errors.As(err, &terr) {
		var list ErrorList
		for _, msg := range terr.Errors {
			list = append(list, idx.at(msg))
		}
		return list
	}
	return ErrorList{idx.at(strings.TrimPrefix(err.Error(), "yaml: "))}
}

// at makes an Error of a message that may start with a position.
func (idx *fileIndex) at(msg string) *Error {
	e := &Error{File: idx.file}
	e.Line, e.Column, e.Reason = splitPos(msg)
	if e.Line == 0 {
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Reason = msg[len(m[0]):]
		}
	}
	if m := unknownField.FindStringSubmatch(e.Reason); m != nil {
		e.Reason = "unknown field " + textfile.Quote(m[1])
	}
	// rulefmt places group errors at 0:0.
	if m := repeatedGroup.FindStringSubmatch(e.Reason); m != nil {
		e.Reason = "group name is repeated in the file: Prometheus refuses the file"
		if g := idx.nthGroup(m[1], 2); g != nil {
			e.Line, e.Column, e.Group = g.line, g.col, g.name
		}
	}
	if e.Reason == "Groupname must not be empty" {
		e.Reason = "group has no name"
		if g := idx.nthGroup("", 1); g != nil {
			e.Line, e.Column = g.line, g.col
		}
	}
	if e.Line > 0 {
		e.Group, e.Rule, e.RuleName = idx.find(e.Line)
	}
	return e
}

// splitPos splits "line:column: reason".
func splitPos(msg string) (line, col int, reason string) {
	m := posPrefix.FindStringSubmatch(msg)
	if m == nil {
		return 0, 0, msg
	}
	line, _ = strconv.Atoi(m[1])
	col, _ = strconv.Atoi(m[2])
	return line, col, msg[len(m[0]):]
}

// group returns the first group named name.
func (idx *fileIndex) group(name string) *groupSpan { return idx.nthGroup(name, 1) }

// nthGroup returns the nth (1-based) group named name.
func (idx *fileIndex) nthGroup(name string, nth int) *groupSpan {
	for i := range idx.groups {
		if idx.groups[i].name == name {
			if nth--; nth == 0 {
				return &idx.groups[i]
			}
		}
	}
	return nil
}

// find returns the group and rule that line is in.
func (idx *fileIndex) find(line int) (group string, rule int, ruleName string) {
	for gi := len(idx.groups) - 1; gi >= 0; gi-- {
		g := idx.groups[gi]
		if line < g.line {
			continue
		}
		for ri := len(g.rules) - 1; ri >= 0; ri-- {
			if line >= g.rules[ri].line {
				return g.name, ri + 1, g.rules[ri].name
			}
		}
		return g.name, 0, ""
	}
	return "", 0, ""
}
