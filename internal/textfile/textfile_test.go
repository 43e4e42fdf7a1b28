package textfile

import (
	"strings"
	"testing"
)

func TestQuoteAndClip(t *testing.T) {
	for _, tc := range []struct{ in, quote, clip string }{
		{"short", `"short"`, "short"},
		{strings.Repeat("a", 64), `"` + strings.Repeat("a", 64) + `"`, strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), `"` + strings.Repeat("a", 64) + `…" (65 bytes)`, strings.Repeat("a", 64) + "… (65 bytes)"},
		// A character cut in two is left out whole.
		{strings.Repeat("a", 63) + "é", `"` + strings.Repeat("a", 63) + `…" (65 bytes)`, strings.Repeat("a", 63) + "… (65 bytes)"},
	} {
		if got := Quote(tc.in); got != tc.quote {
			t.Errorf("Quote(%.20q…) = %s, want %s", tc.in, got, tc.quote)
		}
		if got := Clip(tc.in); got != tc.clip {
			t.Errorf("Clip(%.20q…) = %s, want %s", tc.in, got, tc.clip)
		}
	}
}

func TestTooBig(t *testing.T) {
	for _, tc := range []struct {
		e    TooBig
		want string
	}{
		{TooBig{Size: 10 << 20, Max: 1 << 20, What: "rule file"}, "the file is 10.0 MiB (10485760 bytes): a rule file is at most 1 MiB (1048576 bytes)"},
		{TooBig{Size: -1, Max: 1 << 20, What: "drill file"}, "the file is larger than 1 MiB: a drill file is at most 1 MiB (1048576 bytes)"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %s\nwant %s", got, tc.want)
		}
	}
	if got := MoreErrors(1, 20); got != "and 1 more error (only the first 20 are listed)" {
		t.Errorf("MoreErrors: %s", got)
	}
}

func TestNotText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *Problem
	}{
		{"a: b\n", nil},
		{"a: b\n\tc\n", nil}, // a tab is text; TabIndented says where it is wrong
		{"a: b\nc: \x00", &Problem{2, 4, "not text: control character U+0000 at offset 8, which YAML does not allow (is it a binary file?)"}},
		{"é: \xff", &Problem{1, 4, "not UTF-8 text: byte 0xff at offset 4 is not UTF-8 (is it a binary file?)"}},
		{"\xff\xfea\x00", &Problem{1, 1, "not UTF-8 text: the file starts with a UTF-16 byte-order mark; save it as UTF-8"}},
	} {
		got := NotText([]byte(tc.in))
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("NotText(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if p := TabIndented([]byte("a:\n\tb: c\n"), 2, "found character that cannot start any token"); p == nil || p.Line != 2 || p.Column != 1 {
		t.Errorf("TabIndented: %+v", p)
	}
	if p := TabIndented([]byte("a:\n  b: c\n"), 2, "did not find expected key"); p != nil {
		t.Errorf("TabIndented on another error: %+v", p)
	}
}
