package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/drill-sre/drill/scenarios"
)

// FuzzParse decodes arbitrary drill files. Decoding never panics; an error
// is an ErrorList whose every error names the file, listing no more than
// MaxErrors and a count of the rest; a drill that decodes validates again
// as built in Go. The seed corpus is every drill file in the tree, valid or
// not, so that go test runs them all through these checks too.
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"*.yaml", "examples/*.yaml", "testdata/*/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	if len(seeds) < 50 {
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
		const name = "fuzz.yaml"
		s, err := scenarios.Parse(name, data)
		if err != nil {
			var list scenarios.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			if len(list) > scenarios.MaxErrors+1 {
				t.Errorf("%d errors listed, want at most %d and a count", len(list), scenarios.MaxErrors+1)
			}
			for _, e := range list {
				if e.File != name || e.Reason == "" {
					t.Errorf("error names file %q, want %q, reason %q", e.File, name, e.Reason)
				}
				if len(e.Error()) > 1024 {
					t.Errorf("error of %d bytes: %.200s…", len(e.Error()), e.Error())
				}
			}
			return
		}
		if s == nil || s.File != name || s.Source != string(data) {
			t.Fatalf("decoded drill %+v without its file and source", s)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("decoded without error, but does not validate again:\n%v\nfile:\n%s", err, data)
		}
	})
}
