package faults

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/scenarios"
)

// suitesDir is where the Ginkgo suites are, from this package's directory.
const suitesDir = "../../suites"

// Every registered spec is complete, and package scenarios knows its type
// as the spec says.
func TestSpecs(t *testing.T) {
	specs := Specs()
	if len(specs) < 7 {
		t.Fatalf("%d specs registered, want the 7 faults at least", len(specs))
	}
	if !slices.IsSortedFunc(specs, func(a, b Spec) int { return strings.Compare(string(a.Type), string(b.Type)) }) {
		t.Errorf("Specs() not sorted by type")
	}
	for _, s := range specs {
		if err := checkSpec(s); err != nil {
			t.Errorf("%s: %v", s.Type, err)
		}
		if p := s.Params(); p.FaultType() != s.Type {
			t.Errorf("%s: params %T are of %s", s.Type, p, p.FaultType())
		}
		if got := scenarios.Measurable(s.Type); !slices.Equal(got, s.Measurable) {
			t.Errorf("%s: scenarios measures %v, the spec %v", s.Type, got, s.Measurable)
		}
		if !slices.Contains(scenarios.FaultTypes(), s.Type) {
			t.Errorf("%s: not registered with scenarios", s.Type)
		}
		if got, ok := Lookup(s.Type); !ok || got.Type != s.Type {
			t.Errorf("Lookup(%s) = %v, %v", s.Type, got.Type, ok)
		}
		if len(s.Access) == 0 {
			t.Errorf("%s: no access class (Spec.Access): drill rbac and the preflight would ask only for what every drill needs", s.Type)
		}
		if _, err := rbac.Needs(rbac.With(s.Access...)); err != nil {
			t.Errorf("%s: access %v: %v", s.Type, s.Access, err)
		}
		if s.Suite != "" {
			if info, err := os.Stat(filepath.Join(suitesDir, s.Suite)); err != nil || !info.IsDir() {
				t.Errorf("%s: suite %q is not a directory of %s: %v", s.Type, s.Suite, suitesDir, err)
			}
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup of an unknown fault")
	}
}

// Every shipped drill has a spec whose suite exists, and every suite that a
// spec names runs a shipped drill.
func TestShippedDrillSuites(t *testing.T) {
	scs, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	run := map[string]bool{}
	for _, sc := range scs {
		s, ok := Lookup(sc.Fault.Type)
		if !ok {
			t.Errorf("drill %s: fault %s has no spec", sc.Name, sc.Fault.Type)
			continue
		}
		if s.Suite == "" {
			t.Errorf("drill %s: fault %s names no suite to run it", sc.Name, sc.Fault.Type)
			continue
		}
		if _, err := os.Stat(filepath.Join(suitesDir, s.Suite, "drills_test.go")); err != nil {
			t.Errorf("drill %s: suite %q of %s has no drills_test.go: %v", sc.Name, s.Suite, sc.Fault.Type, err)
		}
		run[s.Suite] = true
	}
	for _, s := range Specs() {
		if s.Suite != "" && !run[s.Suite] {
			t.Errorf("%s: suite %q runs no shipped drill", s.Type, s.Suite)
		}
	}
}

// fakeParams are the parameters of a fault defined in a test.
type fakeParams struct {
	Size int           `yaml:"size"`
	For  time.Duration `yaml:"for"`
}

const fakeType scenarios.FaultType = "fake-fault"

func (*fakeParams) FaultType() scenarios.FaultType { return fakeType }

// fakeFault does nothing, and has no optional capability.
type fakeFault struct{ p *fakeParams }

func (f *fakeFault) Target(context.Context) (string, error) { return "nothing", nil }
func (f *fakeFault) Inject(context.Context) error           { return nil }
func (f *fakeFault) Revert(context.Context) error           { return nil }

// registerFake registers the fake fault once per test binary (go test
// -count=2 runs a test twice).
var registerFake = sync.OnceValue(func() Spec {
	return Register(Spec{
		Type:       fakeType,
		Params:     func() scenarios.FaultParams { return &fakeParams{} },
		Measurable: []scenarios.Objective{scenarios.ObjectiveMaxDuration},
		Target:     "deployment",
		New: newWith(func(_ Env, _ *scenarios.Scenario, p *fakeParams) (Fault, error) {
			return &fakeFault{p: p}, nil
		}),
	})
})

// A fault registered from outside the built-in ones loads from drill files
// and is made by New.
func TestRegisterFake(t *testing.T) {
	registerFake()
	sc, err := scenarios.Parse("fake.yaml", []byte(`name: fake
description: A fault of the test's own.
fault: {type: fake-fault, params: {size: 3, for: 5s}}
objectives: {maxDuration: 1m}
`))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := sc.Fault.Params.(*fakeParams); !ok || p.Size != 3 || p.For != 5*time.Second {
		t.Errorf("params %#v", sc.Fault.Params)
	}
	if !sc.Target.IsZero() {
		t.Errorf("target %+v: the fake acts on no node", sc.Target)
	}
	f, err := New(Env{}, sc)
	if err != nil {
		t.Fatal(err)
	}
	if ff, ok := f.(*fakeFault); !ok || ff.p != sc.Fault.Params {
		t.Errorf("New returned %#v", f)
	}

	// Strictly, like every drill file.
	_, err = scenarios.Parse("fake.yaml", []byte(`name: fake
description: A fault of the test's own.
target: {role: worker}
fault: {type: fake-fault, params: {sise: 3}}
objectives: {rto: {app: 10s}}
`))
	for _, want := range []string{
		"fake.yaml:3:1: target: fake-fault acts on no node; remove target",
		"fake.yaml:4:36: fault.params.sise: unknown field (did you mean size?)",
		"fake.yaml:5:20: objectives.rto.app: fake-fault cannot measure rto.app (it measures maxDuration)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got\n%v\nwant it to contain\n%s", err, want)
		}
	}
}

func TestRegisterRefuses(t *testing.T) {
	fake := registerFake()
	panics := func(name string, s Spec, want string) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), want) {
				t.Errorf("%s: panic %v, want one containing %q", name, r, want)
			}
		}()
		Register(s)
	}
	panics("twice", fake, "registered twice")
	s := fake
	s.Type = "fake-incomplete"
	s.New, s.Target = nil, ""
	panics("incomplete", s, "no Target, New")
	s = fake
	s.Type = "fake-samplers"
	s.Samplers = SampleControlPlane | SampleAppRecords
	panics("two RPO stores", s, "one store per drill")
	s.Samplers = 1 << 5
	panics("unknown sampler", s, "unknown samplers")
	s = fake
	s.Type = "fake-access"
	s.Access = []rbac.Class{"admin"}
	panics("unknown access class", s, `unknown access class "admin"`)
	s = fake
	s.Type = "fake-params"
	panics("params of another type", s, "are parameters of fake-fault")
	if _, ok := Lookup("fake-params"); ok {
		t.Error("a refused spec is registered")
	}
}

func TestSamplersHas(t *testing.T) {
	s := SampleControlPlane
	if !s.Has(SampleControlPlane) || s.Has(SampleAppRecords) || s.Has(SampleControlPlane|SampleAppRecords) || !s.Has(0) {
		t.Errorf("%b", s)
	}
}
