// Package textfile is what drill's file loaders (drill files in scenarios,
// rule files in internal/rules) check of a file before YAML reads it, and
// how their errors repeat what the file holds: a size cap read without
// reading more, text that is UTF-8 without control characters, tabs in
// indentation named, and values cut at MaxEcho bytes.
package textfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"
)

// TooBig is the reason a file larger than Max is refused.
type TooBig struct {
	Size int64  // -1: unknown (not a regular file)
	Max  int64  // the limit, in bytes
	What string // "drill file"
}

func (e TooBig) Error() string {
	limit := fmt.Sprintf("a %s is at most %s (%d bytes)", e.What, roundSize(e.Max), e.Max)
	if e.Size < 0 {
		return fmt.Sprintf("the file is larger than %s: %s", roundSize(e.Max), limit)
	}
	return fmt.Sprintf("the file is %s (%d bytes): %s", HumanSize(e.Size), e.Size, limit)
}

// roundSize is a limit in words: "1 MiB".
func roundSize(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return HumanSize(n)
}

// HumanSize formats a size in bytes as KiB or MiB, with one decimal.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Read reads the file at name, a what ("rule file"), and no more than
// max+1 bytes of it: a bigger file (or /dev/zero) is refused with a TooBig
// before it is read whole.
func Read(name string, max int64, what string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		size := int64(-1)
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			size = info.Size()
		}
		return nil, TooBig{Size: size, Max: max, What: what}
	}
	return data, nil
}

// Problem is what is wrong with a file's text, and where (1-based).
type Problem struct {
	Line, Column int
	Reason       string
}

// NotText returns a Problem at the first byte of data that is not UTF-8,
// or at the first character YAML does not allow (control characters but
// tab, CR and LF), or at a UTF-16 or UTF-32 byte-order mark; or nil: data
// is text a YAML parser will read. YAML's own errors for these have no
// line, and say nothing of the file being binary.
func NotText(data []byte) *Problem {
	for _, bom := range []struct {
		mark     string
		encoding string
	}{{"\x00\x00\xfe\xff", "UTF-32"}, {"\xff\xfe\x00\x00", "UTF-32"}, {"\xfe\xff", "UTF-16"}, {"\xff\xfe", "UTF-16"}} {
		if bytes.HasPrefix(data, []byte(bom.mark)) {
			return &Problem{Line: 1, Column: 1, Reason: fmt.Sprintf("not UTF-8 text: the file starts with a %s byte-order mark; save it as UTF-8", bom.encoding)}
		}
	}
	line, lineStart := 1, 0
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		at := func(format string, args ...any) *Problem {
			column := utf8.RuneCount(data[lineStart:i]) + 1
			return &Problem{Line: line, Column: column, Reason: fmt.Sprintf(format, args...)}
		}
		switch {
		case r == utf8.RuneError && size == 1:
			return at("not UTF-8 text: byte 0x%02x at offset %d is not UTF-8 (is it a binary file?)", data[i], i)
		case !yamlPrintable(r):
			return at("not text: control character %U at offset %d, which YAML does not allow (is it a binary file?)", r, i)
		case r == '\n':
			line, lineStart = line+1, i+1
		}
		i += size
	}
	return nil
}

// yamlPrintable reports whether YAML allows r in a file (YAML 1.2's
// c-printable, as go.yaml.in/yaml/v3 checks it).
func yamlPrintable(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 ||
		r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
}

// TabIndented returns a Problem at the tab that caused the YAML error msg
// (without "yaml: line N: ") at line (0: none said), if it is one: YAML's
// own message does not say. It names the line before the tab's in some
// cases, and none for line 1.
func TabIndented(data []byte, line int, msg string) *Problem {
	if msg != "found character that cannot start any token" && msg != "found a tab character that violates indentation" {
		return nil
	}
	lines := bytes.Split(data, []byte("\n"))
	for _, l := range []int{max(line, 1), max(line, 1) + 1} {
		if l > len(lines) {
			break
		}
		// The indentation, and the "- " of sequence entries in it.
		text := lines[l-1]
		indent := len(text) - len(bytes.TrimLeft(text, " \t-"))
		if i := bytes.IndexByte(text[:indent], '\t'); i >= 0 {
			return &Problem{Line: l, Column: i + 1, Reason: "invalid YAML: indented with a tab; YAML allows only spaces for indentation"}
		}
	}
	return nil
}

// MaxEcho is how much of a value an error repeats, in bytes.
const MaxEcho = 64

// Quote returns s quoted as %q does; a value longer than MaxEcho bytes is
// cut there, and its length said: "xxx…" (1048576 bytes).
func Quote(s string) string {
	if len(s) <= MaxEcho {
		return strconv.Quote(s)
	}
	q := strconv.Quote(cut(s))
	return fmt.Sprintf(`%s…" (%d bytes)`, q[:len(q)-1], len(s))
}

// Clip is Quote for a value repeated without quotes (a number, a key).
func Clip(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", cut(s), len(s))
}

// cut returns the first MaxEcho bytes of s, less a character cut in two.
func cut(s string) string {
	s = s[:MaxEcho]
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				s = s[:i]
			}
			break
		}
	}
	return s
}

// Plural is noun, with an s unless n is 1.
func Plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// MoreErrors is the reason of the error that counts those left out past
// the first max: "and 3 more errors (only the first 20 are listed)".
func MoreErrors(more, max int) string {
	return fmt.Sprintf("and %d more %s (only the first %d are listed)", more, Plural(more, "error"), max)
}
