package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse parses arbitrary rule files. Parsing never panics; an error is
// an ErrorList whose every error names the file, listing no more than
// MaxErrors and a count of the rest, none longer than 1 KiB. The seed
// corpus is the rule files drill ships, those of testdata, and the bad
// inputs the loader refuses with a position (binary, UTF-16, tabs) or cuts
// (long values).
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{ruleDir + "*.yaml", "testdata/*.rules.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	if len(seeds) < 4 {
		f.Fatalf("only %d seed files", len(seeds))
	}
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// The bad inputs of issue 13: binary, non-UTF-8 and UTF-16 files, tab
	// indentation, long values, too many errors.
	long := strings.Repeat("v", 300)
	for _, seed := range []string{
		"groups:\n- name: a\x00\n",
		"groups:\n- name: caf\xe9\n",
		"\xff\xfeg\x00r\x00o\x00",
		"\xfe\xff\x00g\x00r",
		"\x00\x00\xfe\xffgroups",
		"groups:\n- name: a\n\trules: []\n",
		"groups:\n\t- name: a\n",
		"groups:\n- name: " + long + "\n  interval: " + long + "\n  rules:\n  - alert: " + long + "\n    expr: up{a=\"" + long + "\"}\n    for: " + long + "\n",
		"groups:\n- name: a\n  rules:\n  - record: " + long + ".x\n    expr: up\n    labels: {" + long + "-: v}\n",
		"groups:\n- name: a\n  rules:\n" + strings.Repeat("  - alert: X\n    expr: up\n    bogus: 1\n", 30),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.rules.yaml"
		rgs, err := Parse(name, data)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			if len(list) > MaxErrors+1 {
				t.Errorf("%d errors listed, want at most %d and a count", len(list), MaxErrors+1)
			}
			for _, e := range list {
				if e.File != name || e.Reason == "" {
					t.Errorf("error names file %q, want %q, reason %q", e.File, name, e.Reason)
				}
				// Values are repeated cut: no error is long.
				if n := len(e.Error()); n > 1024 {
					t.Errorf("error of %d bytes: %.200s", n, e.Error())
				}
			}
			return
		}
		if rgs == nil {
			t.Fatal("no rule groups and no error")
		}
	})
}
