package rules

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadShipped(t *testing.T) {
	for file, want := range map[string][]string{
		seedRules:  {"ClusterDown", "HighMemoryUsage", "PodCrashLooping"},
		drillRules: {"KubernetesAPIDown", "KubernetesAPIServerInstanceDown"},
	} {
		rgs, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range rgs.Groups {
			for _, r := range g.Rules {
				got = append(got, r.Alert)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: alerts %v, want %v", file, got, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	const bad = "testdata/bad.rules.yaml"
	_, err := Load(bad)
	want := bad + `:9:15: group "api", rule 2 "BadPromQL": could not parse expression: 1:21: parse error: unclosed left parenthesis
` + bad + `:13:14: group "api", rule 3 "BadFor": for: "5x" is not a duration: want a number and a unit, such as 30s, 5m or 1h30m
` + bad + `:14:17: group "api", rule 4 "job:up:sum": invalid field 'for' in recording rule
` + bad + `:17:9: group "api", rule 5 "BadTemplate": annotation "summary": template: __alert_BadTemplate:1: unclosed action
` + bad + `:21:5: group "api": group name is repeated in the file: Prometheus refuses the file
` + bad + `:25: group "api", rule 1 "Again": unknown field "frequency"`
	if err == nil || err.Error() != want {
		t.Errorf("got error\n%v\nwant\n%s", err, want)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 6 {
		t.Fatalf("error %T is not an ErrorList of 6", err)
	}
	if e := list[0]; e.File != bad || e.Line != 9 || e.Group != "api" || e.Rule != 2 || e.RuleName != "BadPromQL" {
		t.Errorf("first error's fields: %+v", *e)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "f.yaml: empty rule file: want a groups: list"},
		{"syntax", "groups:\n- name: a\n  rules: [\n", "f.yaml:3: did not find expected node content"},
		{"unknown top field", "grups: []\n", `f.yaml:1: unknown field "grups"`},
		{"no group name", "groups:\n- rules: []\n", "f.yaml:2:3: group has no name"},
		{"two documents", "groups: []\n---\ngroups: []\n", "f.yaml:2:1: a second YAML document: Prometheus reads the first one only"},
		{"wrong type", "groups:\n- name: a\n  rules:\n  - alert: X\n    expr: up\n    labels: [a]\n",
			`f.yaml:6: group "a", rule 1 "X": cannot unmarshal !!seq into map[string]string`},
		{"durations", "groups:\n- name: a\n  interval: often\n  rules:\n  - alert: X\n    expr: up\n    for: 1\n    keep_firing_for: {a: b}\n",
			`f.yaml:3:13: group "a": interval: "often" is not a duration: want a number and a unit, such as 30s, 5m or 1h30m` + "\n" +
				`f.yaml:7:10: group "a", rule 1 "X": for: "1" is not a duration: want a number and a unit, such as 30s, 5m or 1h30m` + "\n" +
				`f.yaml:8:22: group "a", rule 1 "X": keep_firing_for: want a duration, such as 30s, 5m or 1h30m`},
		{"no alert or record", "groups:\n- name: a\n  rules:\n  - expr: up\n",
			`f.yaml:4:5: group "a", rule 1: one of 'record' or 'alert' must be set`},
		{"legacy names", "groups:\n- name: a\n  rules:\n  - record: job.up\n    expr: up\n",
			`f.yaml:4:13: group "a", rule 1 "job.up": invalid recording rule name: job.up`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got error\n%v\nwant\n%s", err, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.rules.yaml")
	_, err := Load(missing)
	if want := missing + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestTooMuch checks that a rule file too big to be one is refused before
// it is parsed, and that a file with many errors lists the first ones only.
func TestTooMuch(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.rules.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# a comment\n"), 10<<20/12+1), 0o644); err != nil {
		t.Fatal(err)
	}
	var many strings.Builder
	many.WriteString("groups:\n- name: g\n  rules:\n")
	for i := range 25 {
		fmt.Fprintf(&many, "  - alert: A%d\n    expr: up\n    frobnicate: 1\n", i)
	}
	var manyWant []string
	for i := range MaxErrors {
		manyWant = append(manyWant, fmt.Sprintf(`f.yaml:%d: group "g", rule %d "A%d": unknown field "frobnicate"`, 6+3*i, i+1, i))
	}
	manyWant = append(manyWant, "f.yaml: and 5 more errors (only the first 20 are listed)")
	for _, tc := range []struct {
		name string
		load func() error
		want string
	}{
		{"10 MiB", func() error { _, err := Load(big); return err },
			big + ": the file is 10.0 MiB (10485768 bytes): a rule file is at most 1 MiB (1048576 bytes)"},
		{"1 MiB and 1 byte", func() error { _, err := Parse("f.yaml", make([]byte, MaxFileSize+1)); return err },
			"f.yaml: the file is 1.0 MiB (1048577 bytes): a rule file is at most 1 MiB (1048576 bytes)"},
		{"endless", func() error { _, err := Load("/dev/zero"); return err },
			"/dev/zero: the file is larger than 1 MiB: a rule file is at most 1 MiB (1048576 bytes)"},
		{"test file", func() error { _, err := LoadTestFile(big); return err },
			big + ": the file is 10.0 MiB (10485768 bytes): a rule test file is at most 1 MiB (1048576 bytes)"},
		{"many errors", func() error { _, err := Parse("f.yaml", []byte(many.String())); return err },
			strings.Join(manyWant, "\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.load(); err == nil || err.Error() != tc.want {
				t.Errorf("got error\n%v\nwant\n%s", err, tc.want)
			}
		})
	}
}

// TestNotTextAndTabs checks that binary, non-UTF-8 and UTF-16 rule files and
// tab indentation are refused with their line and column, and that a
// value repeated in an error is cut at 64 bytes.
func TestNotTextAndTabs(t *testing.T) {
	long := strings.Repeat("x", 1<<20-200)
	for _, tc := range []struct{ name, yaml, want string }{
		{"NUL byte", "groups:\n- name: a\x00\n", `f.yaml:2:10: not text: control character U+0000 at offset 17, which YAML does not allow (is it a binary file?)`},
		{"latin-1", "groups:\n- name: caf\xe9\n", `f.yaml:2:12: not UTF-8 text: byte 0xe9 at offset 19 is not UTF-8 (is it a binary file?)`},
		{"UTF-16 BOM", "\xff\xfeg\x00r\x00", `f.yaml:1:1: not UTF-8 text: the file starts with a UTF-16 byte-order mark; save it as UTF-8`},
		{"UTF-16 big-endian BOM", "\xfe\xff\x00g", `f.yaml:1:1: not UTF-8 text: the file starts with a UTF-16 byte-order mark; save it as UTF-8`},
		{"tab indentation", "groups:\n- name: a\n\trules: []\n", `f.yaml:3:1: invalid YAML: indented with a tab; YAML allows only spaces for indentation`},
		{"tab in a rule", "groups:\n- name: a\n  rules:\n  - alert: X\n\t  expr: up\n", `f.yaml:5:1: invalid YAML: indented with a tab; YAML allows only spaces for indentation`},
		{"long duration", "groups:\n- name: a\n  interval: " + long + "\n  rules: []\n",
			`f.yaml:3:13: group "a": interval: "` + strings.Repeat("x", 64) + `…" (1048376 bytes) is not a duration: want a number and a unit, such as 30s, 5m or 1h30m`},
		{"long unknown field", "groups:\n- name: a\n  " + strings.Repeat("y", 1000) + ": 1\n  rules: []\n",
			`f.yaml:3: group "a": unknown field "` + strings.Repeat("y", 64) + `…" (1000 bytes)`},
		{"long group name", "groups:\n- name: " + long + "\n  rules:\n  - record: job.up\n    expr: up\n",
			`f.yaml:4:13: group "` + strings.Repeat("x", 64) + `…" (1048376 bytes), rule 1 "job.up": invalid recording rule name: job.up`},
		{"long label name", "groups:\n- name: a\n  rules:\n  - alert: X\n    expr: up\n    labels:\n      " + strings.Repeat("-", 100) + ": v\n",
			`f.yaml:4:5: group "a", rule 1 "X": invalid label name: ` + strings.Repeat("-", 64) + `… (100 bytes)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got error\n%.300v\nwant\n%s", err, tc.want)
			}
		})
	}
	// Every error of a file of long values stays short.
	_, err := Parse("f.yaml", []byte("groups:\n- name: a\n  rules:\n  - alert: X\n    expr: up{a=\""+long+"\"} +\n"))
	if err == nil || len(err.Error()) > 1024 {
		t.Errorf("error of %d bytes: %.300v", len(fmt.Sprint(err)), err)
	}
}

// TestTestFileNotTextAndTabs checks the same of rule test files.
func TestTestFileNotTextAndTabs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, data, want string }{
		{"binary", "rule_files: [a]\x01\n", ":1:16: not text: control character U+0001 at offset 15, which YAML does not allow (is it a binary file?)"},
		{"tab", "rule_files:\n\t- a.yaml\n", ":2:1: invalid YAML: indented with a tab; YAML allows only spaces for indentation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+"_test.yaml")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadTestFile(path); err == nil || err.Error() != path+tc.want {
				t.Errorf("got error\n%v\nwant\n%s", err, path+tc.want)
			}
		})
	}
}
