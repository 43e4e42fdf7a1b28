package scenarios_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	_ "github.com/drill-sre/drill/internal/faults" // registers the faults
	"github.com/drill-sre/drill/scenarios"
)

// TestShipped loads every drill shipped in the binary: each must validate,
// be named after its file, and together they cover every fault.
func TestShipped(t *testing.T) {
	scs, err := scenarios.Shipped()
	if err != nil {
		t.Fatalf("shipped drills do not validate:\n%v", err)
	}
	files, err := fs.Glob(scenarios.ShippedFS(), "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) != len(files) || len(scs) == 0 {
		t.Fatalf("loaded %d drills from %d files", len(scs), len(files))
	}
	covered := map[scenarios.FaultType]bool{}
	for _, s := range scs {
		if want := scenarios.ShippedDir + s.Name + ".yaml"; s.File != want {
			t.Errorf("drill %q is in %s, want %s", s.Name, s.File, want)
		}
		covered[s.Fault.Type] = true
	}
	for _, ft := range scenarios.FaultTypes() {
		if !covered[ft] && !exampleOnly[ft] {
			t.Errorf("no shipped drill exercises %s", ft)
		}
	}
}

// TestShippedOnDisk checks the files in the source tree, which are the ones
// embedded, through the directory loader.
func TestShippedOnDisk(t *testing.T) {
	scs, err := scenarios.LoadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	shipped, _ := scenarios.Shipped()
	if len(scs) != len(shipped) {
		t.Errorf("LoadDir found %d drills, Shipped %d", len(scs), len(shipped))
	}
}

// TestInvalid loads each file of testdata/invalid. Its first lines say, in
// "# want: LINE:COLUMN: PATH: REASON" comments, every error it must produce,
// after the file name; no other error may come.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d malformed drills in testdata/invalid", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			wants := wantedErrors(t, file)
			if len(wants) == 0 {
				t.Fatal("no # want: line")
			}
			s, err := scenarios.Load(file)
			if err == nil {
				t.Fatalf("loaded %q without error", s.Name)
			}
			var list scenarios.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is a %T, want an ErrorList: %v", err, err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			for _, w := range wants {
				i := slices.IndexFunc(got, func(g string) bool { return strings.HasPrefix(g, w) })
				if i < 0 {
					t.Errorf("missing error\n  %s\ngot\n  %s", w, strings.Join(got, "\n  "))
					continue
				}
				got = slices.Delete(got, i, i+1)
			}
			for _, g := range got {
				t.Errorf("unexpected error\n  %s", g)
			}
		})
	}
}

// wantedErrors reads the "# want:" lines at the top of file, each prefixed
// with the file name as errors are.
func wantedErrors(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wants []string
	for _, line := range strings.Split(string(data), "\n") {
		w, ok := strings.CutPrefix(line, "# want: ")
		if !ok {
			break
		}
		sep := ": "
		if w != "" && w[0] >= '0' && w[0] <= '9' {
			sep = ":"
		}
		wants = append(wants, file+sep+w)
	}
	return wants
}

// TestFull decodes a drill that sets every field.
func TestFull(t *testing.T) {
	s, err := scenarios.Load("testdata/valid/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &scenarios.Scenario{
		Name:        "full",
		Description: "Every field set, for the decoding test.",
		Target:      scenarios.Target{Role: scenarios.RoleWorker, Selector: "drill.example/pool=a,tier!=infra", Zone: "zone-b"},
		Seed:        -7,
		Fault: scenarios.Fault{Type: scenarios.FaultDrainZone, Params: &scenarios.DrainZoneParams{
			Zone: "zone-b", GracePeriod: 5 * time.Second, Timeout: 90 * time.Second, ExpectBlocked: true,
		}},
		Workload: &scenarios.Workload{Fixture: scenarios.FixtureProbeApp, Replicas: 4, PDB: &scenarios.PDB{MaxUnavailable: ptr.To(0)}},
		Sampling: scenarios.Sampling{Interval: 250 * time.Millisecond, Timeout: 2 * time.Second},
		Objectives: scenarios.Objectives{
			RTO:          &scenarios.RTO{App: 15 * time.Second},
			Availability: &scenarios.Availability{MinReady: 4},
			PDB:          &scenarios.PDBObjective{NeverViolated: true},
			MaxDuration:  10 * time.Minute,
			Alerts: &scenarios.Alerts{
				Expect: []scenarios.ExpectedAlert{{
					Name:           "KubePodNotReady",
					Labels:         map[string]string{"namespace": "drill", "severity": "warning"},
					FiringWithin:   5 * time.Minute,
					ResolvedWithin: 9 * time.Minute,
				}},
				Forbid: &scenarios.ForbiddenAlerts{Names: []string{"KubeAPIDown", "etcdInsufficientMembers"}, Severity: "critical"},
			},
		},
		File: "testdata/valid/full.yaml",
	}
	if data, _ := os.ReadFile("testdata/valid/full.yaml"); s.Source != string(data) {
		t.Errorf("Source is not the file's content: %q", s.Source)
	}
	want.Source = s.Source
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got\n%+v\nwant\n%+v", s, want)
	}
	wantDeclared := []scenarios.Objective{scenarios.ObjectiveRTOApp, scenarios.ObjectiveAvailability, scenarios.ObjectivePDB, scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts}
	if got := s.Objectives.Declared(); !slices.Equal(got, wantDeclared) {
		t.Errorf("Declared() = %v, want %v", got, wantDeclared)
	}
}

// TestDefaults checks what a drill may leave out.
func TestDefaults(t *testing.T) {
	tests := []struct {
		file  string
		check func(*scenarios.Scenario) bool
	}{
		{`
name: d
description: defaults
fault: {type: kill-control-plane, params: {target: random, rejoinTimeout: 1m}}
objectives: {rto: {api: 20s}}
`, func(s *scenarios.Scenario) bool {
			return s.Sampling.Interval == 100*time.Millisecond && s.Target.Role == scenarios.RoleControlPlane &&
				s.Fault.Params.(*scenarios.KillControlPlaneParams).Signal == scenarios.SIGKILL && s.Seed == 0 &&
				s.Fault.Params.(*scenarios.KillControlPlaneParams).Mode == scenarios.KillContainer
		}},
		{`
name: d
description: an agent's mode sends no signal
fault: {type: kill-control-plane, params: {target: random, mode: services, holdFor: 1m, rejoinTimeout: 1m}}
objectives: {rto: {api: 20s}}
`, func(s *scenarios.Scenario) bool {
			p := s.Fault.Params.(*scenarios.KillControlPlaneParams)
			return p.Mode == scenarios.KillServices && p.Signal == "" && p.HoldFor == time.Minute
		}},
		{`
name: d
description: defaults
fault: {type: drain-zone, params: {zone: zone-a, timeout: 1m}}
workload: {fixture: probe-app}
objectives: {maxDuration: 5m}
`, func(s *scenarios.Scenario) bool {
			return s.Target.Role == scenarios.RoleWorker && s.Workload.Replicas == 3 &&
				s.Fault.Params.(*scenarios.DrainZoneParams).GracePeriod == 0
		}},
		{`
name: d
description: defaults
fault: {type: crashloop-pods, params: {deployment: probe-app, holdFor: 30s}}
workload: {fixture: probe-app}
objectives: {maxDuration: 5m}
`, func(s *scenarios.Scenario) bool {
			return s.Target.IsZero() && s.Fault.Params.(*scenarios.CrashloopPodsParams).Until == scenarios.PodStateCrashLoopBackOff
		}},
	}
	for i, tt := range tests {
		s, err := scenarios.Parse("defaults.yaml", []byte(tt.file))
		if err != nil {
			t.Errorf("%d: %v", i, err)
			continue
		}
		if !tt.check(s) {
			t.Errorf("%d: defaults not applied: %+v %+v", i, s, s.Fault.Params)
		}
	}
}

// TestDuplicateNames checks that two files may not declare the same drill.
func TestDuplicateNames(t *testing.T) {
	scs, err := scenarios.LoadDir("testdata/duplicate")
	want := `testdata/duplicate/b.yaml:1:1: name: "same" is already the name of the drill in testdata/duplicate/a.yaml:1`
	if err == nil || err.Error() != want {
		t.Errorf("got error\n  %v\nwant\n  %s", err, want)
	}
	if len(scs) != 1 || scs[0].File != "testdata/duplicate/a.yaml" {
		t.Errorf("want the first drill loaded, got %v", scs)
	}
	// The same file named twice is loaded once.
	if _, err := scenarios.LoadPaths("testdata/duplicate/a.yaml", "testdata/duplicate/../duplicate/a.yaml"); err != nil {
		t.Errorf("same file twice: %v", err)
	}
}

func TestLoadPathsErrors(t *testing.T) {
	_, err := scenarios.LoadPaths("testdata/nope.yaml", "testdata")
	want := "testdata/nope.yaml: no such file or directory\ntestdata: no drill files (*.yaml) in this directory"
	if err == nil || err.Error() != want {
		t.Errorf("got error\n%v\nwant\n%s", err, want)
	}
	var list scenarios.ErrorList
	if !errors.As(err, &list) || !slices.Equal(list.Files(), []string{"testdata/nope.yaml", "testdata"}) {
		t.Errorf("Files() of %v", err)
	}
}

// TestValidateInGo checks a Scenario built in Go: errors name paths only.
func TestValidateInGo(t *testing.T) {
	s := &scenarios.Scenario{
		Name:        "in-go",
		Description: "built in Go",
		Fault:       scenarios.Fault{Type: scenarios.FaultRemoveEtcdMember, Params: &scenarios.RemoveEtcdMemberParams{Member: scenarios.MemberFollower, ReaddTimeout: time.Minute}},
		Objectives:  scenarios.Objectives{RTO: &scenarios.RTO{API: 20 * time.Second}, RPO: &scenarios.RPO{MaxLostWrites: ptr.To(0)}},
	}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Fault.Params = &scenarios.DrainZoneParams{}
	s.Objectives.RTO.API = -time.Second
	want := "fault.params: are parameters of drain-zone, not remove-etcd-member\n" +
		`objectives.rto.api: "-1s" is negative`
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}

	// No comparison holds for NaN: it must not pass a range check.
	s.Fault = scenarios.Fault{Type: scenarios.FaultMemoryHog, Params: &scenarios.MemoryHogParams{Used: math.NaN(), HoldFor: time.Minute}}
	s.Target, s.Objectives = scenarios.Target{}, scenarios.Objectives{MaxDuration: 5 * time.Minute}
	s.SetDefaults()
	want = "fault.params.used: NaN: want a fraction between 0.5 and 0.97 (above that the node's own processes are at risk)"
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Errorf("NaN: got\n%v\nwant\n%s", err, want)
	}
}

// TestMeasurable checks what the registry says each fault measures.
func TestMeasurable(t *testing.T) {
	if len(scenarios.FaultTypes()) == 0 {
		t.Fatal("no fault registered")
	}
	for _, ft := range scenarios.FaultTypes() {
		m := scenarios.Measurable(ft)
		if len(m) == 0 {
			t.Errorf("%s measures nothing", ft)
			continue
		}
		m[0] = "changed"
		if scenarios.Measurable(ft)[0] == "changed" {
			t.Error("Measurable returns the registry's slice itself")
		}
	}
	if scenarios.Measurable("nope") != nil {
		t.Error("Measurable of an unknown fault")
	}
}

// crashloop-pods on a Deployment of its own (params.namespace) needs no
// workload; without a namespace it does.
func TestCrashloopExistingDeployment(t *testing.T) {
	s, err := scenarios.Load("testdata/valid/crashloop-existing-deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Workload != nil {
		t.Errorf("workload %+v, want none", s.Workload)
	}
	s.Fault.Params.(*scenarios.CrashloopPodsParams).Namespace = ""
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "workload: missing") {
		t.Errorf("without a namespace: got %v, want workload: missing", err)
	}
}

// exampleOnly are the faults that no shipped drill runs, only the examples:
// memory-hog fills a kind host's memory (every node sees the host's), and at
// 94% in use the 2-core CI machine's control plane failed.
var exampleOnly = map[scenarios.FaultType]bool{scenarios.FaultMemoryHog: true}

func TestExamples(t *testing.T) {
	scs, err := scenarios.LoadPaths("examples")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[scenarios.FaultType]bool{}
	for _, s := range scs {
		covered[s.Fault.Type] = true
		if s.Objectives.Alerts == nil {
			t.Errorf("example %s declares no alerts", s.Name)
		}
	}
	for ft := range exampleOnly {
		if !covered[ft] {
			t.Errorf("no example drill exercises %s", ft)
		}
	}
}

// memoryHog is a valid drill, for the bad-input tests to break.
const memoryHog = `name: hog
description: A worker's memory held at 93% in use.
fault:
  type: memory-hog
  params:
    used: 0.93
    holdFor: 30s
objectives:
  alerts:
    expect:
      - name: HighMemoryUsage
        firingWithin: 11m
  maxDuration: 15m
`

// badInput is a drill file that must be refused, and the errors it must
// get: each Error's File is the file's path, and exactly want come, in
// order.
type badInput struct {
	name string
	data []byte
	want []scenarios.Error // File is filled in
}

// checkBadInput writes each file into a directory and loads it as drill
// validate does.
func checkBadInput(t *testing.T, tests []badInput) {
	t.Helper()
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, tt.name+".yaml")
			if err := os.WriteFile(file, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := scenarios.LoadPaths(file)
			var list scenarios.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("got %v, want an ErrorList", err)
			}
			var got, want []string
			for _, e := range list {
				got = append(got, fmt.Sprintf("%q %d:%d %q %q", e.File, e.Line, e.Column, e.Path, e.Reason))
			}
			for _, e := range tt.want {
				want = append(want, fmt.Sprintf("%q %d:%d %q %q", file, e.Line, e.Column, e.Path, e.Reason))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// TestTooMuch checks that a file too big to be a drill is refused before it
// is decoded, and that a file with many errors lists the first ones only.
func TestTooMuch(t *testing.T) {
	var manyUnknown strings.Builder
	manyUnknown.WriteString(memoryHog)
	for i := range 25 {
		fmt.Fprintf(&manyUnknown, "extra%d: 1\n", i)
	}
	unknown := func(line int) scenarios.Error {
		return scenarios.Error{Line: line, Column: 1, Path: fmt.Sprintf("extra%d", line-14),
			Reason: "unknown field (want one of: name, description, target, seed, fault, workload, sampling, objectives)"}
	}
	var capped []scenarios.Error
	for line := 14; line < 14+scenarios.MaxErrors; line++ {
		capped = append(capped, unknown(line))
	}
	// An anchor of 400 labels, expanded 300 times: 120 000 nodes in 20 KiB.
	var labels, aliases []string
	for i := range 400 {
		labels = append(labels, fmt.Sprintf("l%d: v", i))
	}
	for range 300 {
		aliases = append(aliases, "*e")
	}
	fanOut := fmt.Sprintf("name: x\ndescription: y\nfault: {type: memory-hog, params: {used: 0.9, holdFor: 1m}}\n"+
		"x: &e {name: A, firingWithin: 1m, labels: {%s}}\nobjectives: {alerts: {expect: [%s]}}\n",
		strings.Join(labels, ", "), strings.Join(aliases, ", "))
	fanOutAt := 1 + len("objectives: {alerts: {expect: [") + len("*e, ")*123 // the 124th alias: 124 × 806 nodes
	checkBadInput(t, []badInput{
		{"ten-mib", bytes.Repeat([]byte("key: value\n"), 10<<20/11+1), []scenarios.Error{
			{Reason: "the file is 10.0 MiB (10485761 bytes): a drill file is at most 1 MiB (1048576 bytes)"},
		}},
		{"one-mib-and-one-byte", append([]byte(memoryHog), bytes.Repeat([]byte("#"), 1<<20+1-len(memoryHog))...), []scenarios.Error{
			{Reason: "the file is 1.0 MiB (1048577 bytes): a drill file is at most 1 MiB (1048576 bytes)"},
		}},
		{"many-errors", []byte(manyUnknown.String()), append(capped,
			scenarios.Error{Reason: "and 5 more errors (only the first 20 are listed)"})},
		{"alias-fan-out", []byte(fanOut), []scenarios.Error{
			{Line: 4, Column: 1, Path: "x", Reason: "unknown field (want one of: name, description, target, seed, fault, workload, sampling, objectives)"},
			{Line: 5, Column: fanOutAt, Path: "objectives.alerts.expect[123]",
				Reason: "the drill has more than 100000 keys and values once its aliases are expanded (a drill has tens): not decoded further"},
		}},
	})
}

// TestTooBigNotRead checks that a file that never ends is refused after
// 1 MiB, not read until memory runs out.
func TestTooBigNotRead(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	_, err := scenarios.Load("/dev/zero")
	want := "/dev/zero: the file is larger than 1 MiB: a drill file is at most 1 MiB (1048576 bytes)"
	if err == nil || err.Error() != want {
		t.Errorf("got\n  %v\nwant\n  %s", err, want)
	}
	_, err = scenarios.Parse("big.yaml", make([]byte, scenarios.MaxFileSize+1))
	want = "big.yaml: the file is 1.0 MiB (1048577 bytes): a drill file is at most 1 MiB (1048576 bytes)"
	if err == nil || err.Error() != want {
		t.Errorf("Parse: got\n  %v\nwant\n  %s", err, want)
	}
}

// TestNotText checks that a file that is not UTF-8 text, or that YAML
// cannot read for a tab in its indentation, is refused at the line.
func TestNotText(t *testing.T) {
	hog := func(old, new string) []byte { return []byte(strings.Replace(memoryHog, old, new, 1)) }
	utf16 := []byte{0xff, 0xfe}
	for _, r := range memoryHog {
		utf16 = append(utf16, byte(r), 0)
	}
	const tabReason = "invalid YAML: indented with a tab; YAML allows only spaces for indentation"
	checkBadInput(t, []badInput{
		{"png", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 0, 0, 1), []scenarios.Error{
			{Line: 1, Column: 1, Reason: "not UTF-8 text: byte 0x89 at offset 0 is not UTF-8 (is it a binary file?)"},
		}},
		{"latin-1", hog("A worker's", "A worker\xe9s"), []scenarios.Error{
			{Line: 2, Column: 22, Reason: "not UTF-8 text: byte 0xe9 at offset 31 is not UTF-8 (is it a binary file?)"},
		}},
		{"nul", hog("holdFor: 30s", "holdFor: 30s\x00\x01"), []scenarios.Error{
			{Line: 7, Column: 17, Reason: "not text: control character U+0000 at offset 128, which YAML does not allow (is it a binary file?)"},
		}},
		{"utf-16", utf16, []scenarios.Error{
			{Line: 1, Column: 1, Reason: "not UTF-8 text: the file starts with a UTF-16 byte-order mark; save it as UTF-8"},
		}},
		{"tab", hog("    used:", "\tused:"), []scenarios.Error{{Line: 6, Column: 1, Reason: tabReason}}},
		{"tab-after-spaces", hog("    holdFor:", "  \tholdFor:"), []scenarios.Error{{Line: 7, Column: 3, Reason: tabReason}}},
		{"tab-first-line", []byte("\t" + memoryHog), []scenarios.Error{{Line: 1, Column: 1, Reason: tabReason}}},
		{"tab-in-list", hog("      - name:", "\t- name:"), []scenarios.Error{{Line: 11, Column: 1, Reason: tabReason}}},
		{"tab-after-dash", hog("      - name:", "      -\tname:"), []scenarios.Error{{Line: 11, Column: 8, Reason: tabReason}}},
	})
	// A tab is fine where YAML allows it: between a key and its value, in
	// a flow mapping, in a block scalar's text.
	for _, ok := range []string{
		strings.Replace(memoryHog, "used: 0.93", "used:\t0.93", 1),
		strings.Replace(memoryHog, "description: A worker's memory held at 93% in use.", "description: |\n  A worker's memory\n  \theld at 93% in use.", 1),
		strings.Replace(memoryHog, "maxDuration: 15m", "maxDuration: 15m\nsampling: {interval: 1s,\ttimeout: 5s}", 1),
	} {
		if _, err := scenarios.Parse("ok.yaml", []byte(ok)); err != nil {
			t.Errorf("%v\n%s", err, ok)
		}
	}
}

// TestLongValuesCut checks that an error repeats no more than 64 bytes of
// a value, and says how long it is.
func TestLongValuesCut(t *testing.T) {
	long := strings.Repeat("x", 1<<20-1024)
	hog := func(old, new string) []byte { return []byte(strings.Replace(memoryHog, old, new, 1)) }
	x64 := strings.Repeat("x", 64)
	checkBadInput(t, []badInput{
		{"fault-type", hog("type: memory-hog", "type: "+long), []scenarios.Error{
			{Line: 4, Column: 3, Path: "fault.type", Reason: `"` + x64 + `…" (1047552 bytes) is not one of: ` + strings.Join(faultTypes(), ", ")},
		}},
		{"unknown-key", hog("fault:", long[:1000]+": 1\nfault:"), []scenarios.Error{ // YAML's longest key is 1024 bytes
			{Line: 3, Column: 1, Path: x64 + "… (1000 bytes)",
				Reason: "unknown field (want one of: name, description, target, seed, fault, workload, sampling, objectives)"},
		}},
		{"duration", hog("holdFor: 30s", "holdFor: 3"+long), []scenarios.Error{
			{Line: 7, Column: 14, Path: "fault.params.holdFor", Reason: `"3` + x64[1:] + `…" (1047553 bytes) is not a duration (want e.g. "30s" or "1m30s")`},
		}},
		{"string-for-number", hog("used: 0.93", "used: "+long), []scenarios.Error{
			{Line: 6, Column: 11, Path: "fault.params.used", Reason: `want a number, got string "` + x64 + `…" (1047552 bytes)`},
		}},
		{"integer", hog("name: hog", "name: hog\nseed: 1"+strings.Repeat("0", 100)), []scenarios.Error{
			{Line: 2, Column: 7, Path: "seed", Reason: "1" + strings.Repeat("0", 63) + "… (101 bytes) is out of range: want an integer from -9223372036854775808 to 9223372036854775807"},
		}},
		{"label", hog("        firingWithin: 11m", "        labels:\n          "+long[:200]+": \""+long[:100]+"{{}}\"\n        firingWithin: 11m"), []scenarios.Error{
			{Line: 13, Column: 11, Path: "objectives.alerts.expect[0].labels." + x64 + "… (200 bytes)",
				Reason: `"` + x64 + `…" (104 bytes) has a template that is not expanded: only {{.Namespace}}, written exactly so, stands for the drill's namespace; any other is matched as written and never matches`},
		}},
		{"multibyte", hog("type: memory-hog", "type: "+strings.Repeat("é", 40)), []scenarios.Error{
			{Line: 4, Column: 3, Path: "fault.type", Reason: `"` + strings.Repeat("é", 32) + `…" (80 bytes) is not one of: ` + strings.Join(faultTypes(), ", ")},
		}},
	})
}

func faultTypes() []string {
	var ts []string
	for _, t := range scenarios.FaultTypes() {
		ts = append(ts, string(t))
	}
	return ts
}
