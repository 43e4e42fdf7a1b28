package rules

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse parses arbitrary rule files. Parsing never panics; an error is
// an ErrorList whose every error names the file, listing no more than
// MaxErrors and a count of the rest. The seed corpus is the rule files
// drill ships and those of testdata.
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
			}
			return
		}
		if rgs == nil {
			t.Fatal("no rule groups and no error")
		}
	})
}
