package reports

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := sampleReport()
	// Written out of order: Collect orders by Started.
	for _, d := range []Drill{errorDrill(), passDrill(), failDrill()} {
		path, err := WriteDrill(dir, d)
		if err != nil {
			t.Fatalf("WriteDrill(%s): %v", d.Name, err)
		}
		if wantPath := filepath.Join(dir, "drills", d.Name+".json"); path != wantPath {
			t.Errorf("WriteDrill(%s) = %s, want %s", d.Name, path, wantPath)
		}
	}
	got, err := Collect(dir)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	// Collect cannot know the cluster; everything else it derives.
	want.Cluster = ""
	// WriteDrill writes empty lists rather than null.
	want.Drills[2] = normalizeDrill(want.Drills[2])
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Collect:\n got %+v\nwant %+v", got, want)
	}

	path := filepath.Join(dir, "report.json")
	if err := Write(path, got); err != nil {
		t.Fatalf("Write: %v", err)
	}
	back, err := Read(path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !reflect.DeepEqual(back, got) {
		t.Fatalf("Read(Write(r)):\n got %+v\nwant %+v", back, got)
	}

	entries, err := os.ReadDir(filepath.Join(dir, "drills"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("drills/ holds %d files, want 3 (no temporary files left)", len(entries))
	}
}

func TestWriteDrillOverwrites(t *testing.T) {
	dir := t.TempDir()
	d := failDrill()
	if _, err := WriteDrill(dir, d); err != nil {
		t.Fatal(err)
	}
	d.Verdict = Pass
	if _, err := WriteDrill(dir, d); err != nil {
		t.Fatal(err)
	}
	r, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Drills) != 1 || r.Drills[0].Verdict != Pass {
		t.Errorf("after rewriting: %+v", r.Drills)
	}
}

func TestWriteDrillBadName(t *testing.T) {
	for _, name := range []string{"", ".", "..", "a/b", `a\b`} {
		d := passDrill()
		d.Name = name
		if _, err := WriteDrill(t.TempDir(), d); err == nil {
			t.Errorf("WriteDrill with name %q: no error", name)
		}
	}
}

func TestCollectEmpty(t *testing.T) {
	r, err := Collect(filepath.Join(t.TempDir(), "missing"))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(r.Drills) != 0 || r.SchemaVersion != SchemaVersion || !r.Started.IsZero() {
		t.Errorf("Collect of nothing = %+v", r)
	}
}

func TestCollectBadFile(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"truncated", `{"name": "x", "started":`, "unexpected end of JSON input"},
		{"wrong type", `{"name": "x", "verdict": 3}`, "cannot unmarshal number"},
		{"not an object", `[]`, "cannot unmarshal array"},
		{"no name", `{"verdict": "pass"}`, "not a drill: no name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := WriteDrill(dir, passDrill()); err != nil {
				t.Fatal(err)
			}
			bad := filepath.Join(dir, "drills", "broken.json")
			if err := os.WriteFile(bad, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Collect(dir)
			if err == nil {
				t.Fatal("Collect: no error")
			}
			for _, want := range []string{bad, tc.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestReadSchemaVersion(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"other version", `{"schemaVersion": "drill.sre/report/v0", "drills": []}`,
			[]string{`"drill.sre/report/v0"`, `"` + SchemaVersion + `"`}},
		{"no version", `{"drills": []}`, []string{"no schemaVersion", `"` + SchemaVersion + `"`}},
		{"not json", `schemaVersion: v1`, []string{"parse report"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "report.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			if err == nil {
				t.Fatal("Read: no error")
			}
			for _, want := range append(tc.want, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestWriteFillsSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	if err := Write(path, Report{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schemaVersion": "` + SchemaVersion + `"`, `"drills": []`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report.json lacks %s:\n%s", want, data)
		}
	}
}
