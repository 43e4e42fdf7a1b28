package runcwrap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMissingFrom(t *testing.T) {
	// The bounding set of the machine drill was built on: every cap but 24.
	got := missingFrom(0x000001fffeffffff, 40)
	if !reflect.DeepEqual(got, map[string]bool{"CAP_SYS_RESOURCE": true}) {
		t.Fatalf("missing = %v, want only CAP_SYS_RESOURCE", got)
	}
	if got := missingFrom(0x000001ffffffffff, 40); len(got) != 0 {
		t.Fatalf("full set: missing = %v, want none", got)
	}
	// A kernel whose last cap is 37 does not report 38-40 as missing.
	if got := missingFrom(0x3fffffffff, 37); len(got) != 0 {
		t.Fatalf("old kernel: missing = %v, want none", got)
	}
}

func TestRewrite(t *testing.T) {
	missing := map[string]bool{"CAP_SYS_RESOURCE": true}
	caps := []string{"CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN"}
	want := []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}
	capSets := map[string][]string{"bounding": caps, "effective": caps, "permitted": caps}

	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	os.Mkdir(bundle, 0o755)
	writeJSON(t, filepath.Join(bundle, "config.json"), map[string]any{
		"ociVersion": "1.0.2",
		"process":    map[string]any{"user": map[string]any{"uid": 0}, "capabilities": capSets},
		"linux":      map[string]any{"oomScoreAdj": -998},
	})
	proc := filepath.Join(dir, "process.json")
	writeJSON(t, proc, map[string]any{"args": []string{"sh"}, "capabilities": capSets})

	tests := []struct {
		name string
		args []string
		file string
		path []string
	}{
		{"create with global flags", []string{"--root", "/run/runc", "--log", "x.log", "--systemd-cgroup", "create", "--bundle", bundle, "id"}, filepath.Join(bundle, "config.json"), []string{"process", "capabilities"}},
		{"run with -b=", []string{"run", "-b=" + bundle, "id"}, filepath.Join(bundle, "config.json"), []string{"process", "capabilities"}},
		{"exec --process", []string{"--root", "/r", "exec", "--process", proc, "--detach", "id"}, proc, []string{"capabilities"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Rewrite(tt.args, missing); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			b, _ := os.ReadFile(tt.file)
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			var node any = doc
			for _, p := range tt.path {
				node = node.(map[string]any)[p]
			}
			for set, v := range node.(map[string]any) {
				var got []string
				for _, c := range v.([]any) {
					got = append(got, c.(string))
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", set, got, want)
				}
			}
		})
	}
	// Untouched members survive, numbers included.
	var cfg struct {
		Linux struct{ OomScoreAdj int } `json:"linux"`
		OCI   string                    `json:"ociVersion"`
	}
	b, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	json.Unmarshal(b, &cfg)
	if cfg.Linux.OomScoreAdj != -998 || cfg.OCI != "1.0.2" {
		t.Errorf("other fields changed: %+v", cfg)
	}
}

func TestRewriteLeavesOtherCommandsAlone(t *testing.T) {
	for _, args := range [][]string{{"state", "id"}, {"--version"}, {"delete", "--force", "id"}, {"exec", "id", "sh"}} {
		if err := Rewrite(args, map[string]bool{"CAP_SYS_RESOURCE": true}); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestRewriteReportsUnreadableBundle(t *testing.T) {
	err := Rewrite([]string{"create", "--bundle", "/nonexistent", "id"}, map[string]bool{"CAP_SYS_RESOURCE": true})
	if err == nil {
		t.Fatal("want an error for a bundle without config.json")
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
