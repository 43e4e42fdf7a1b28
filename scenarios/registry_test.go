package scenarios

import (
	"strings"
	"testing"
)

// withRegistry empties the fault registry for the test, registers kinds and
// restores the registry afterwards. (The external tests register the real
// faults by importing internal/faults, which imports this package.)
func withRegistry(t *testing.T, kinds ...FaultKind) {
	t.Helper()
	registry.Lock()
	saved := registry.kinds
	registry.kinds = nil
	registry.Unlock()
	t.Cleanup(func() {
		registry.Lock()
		registry.kinds = saved
		registry.Unlock()
	})
	for _, k := range kinds {
		RegisterFault(k)
	}
}

var killControlPlaneKind = FaultKind{
	Type:        FaultKillControlPlane,
	NewParams:   func() FaultParams { return &KillControlPlaneParams{} },
	Measurable:  []Objective{ObjectiveRTOAPI, ObjectiveMaxDuration},
	DefaultRole: RoleControlPlane,
}

const killDrill = `name: kill
description: Kill a control-plane node.
fault:
  type: kill-control-plane
  params: {target: random, rejoinTimeout: 1m}
objectives: {rto: {api: 20s}}
`

// Without a registered fault, nothing loads, and the error says why.
func TestNoFaultRegistered(t *testing.T) {
	withRegistry(t)
	_, err := Parse("kill.yaml", []byte(killDrill))
	want := "kill.yaml:4:3: fault.type: " + noFaults
	if err == nil || err.Error() != want {
		t.Errorf("got\n  %v\nwant\n  %s", err, want)
	}
	if !strings.Contains(noFaults, "import github.com/drill-sre/drill/internal/faults") {
		t.Errorf("the error does not say what to import: %s", noFaults)
	}
	scs, err := Shipped()
	if len(scs) != 0 || err == nil {
		t.Fatalf("Shipped loaded %d drills, error %v", len(scs), err)
	}
	for _, e := range err.(ErrorList) {
		if !strings.HasSuffix(e.Error(), noFaults) {
			t.Errorf("shipped drill: %v", e)
		}
	}
}

func TestRegisterFault(t *testing.T) {
	withRegistry(t, killControlPlaneKind)
	s, err := Parse("kill.yaml", []byte(killDrill))
	if err != nil {
		t.Fatal(err)
	}
	if s.Target.Role != RoleControlPlane {
		t.Errorf("role %q, want the kind's default %q", s.Target.Role, RoleControlPlane)
	}
	if _, err := Parse("kill.yaml", []byte(strings.Replace(killDrill, "rto: {api: 20s}", "rto: {app: 20s}", 1))); err == nil ||
		!strings.Contains(err.Error(), "kill-control-plane cannot measure rto.app (it measures rto.api, maxDuration)") {
		t.Errorf("an objective the kind does not measure: got %v", err)
	}

	panics := func(name string, k FaultKind, want string) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), want) {
				t.Errorf("%s: panic %v, want one containing %q", name, r, want)
			}
		}()
		RegisterFault(k)
	}
	panics("twice", killControlPlaneKind, "registered twice")
	k := killControlPlaneKind
	k.Type = ""
	panics("no type", k, "no type")
	k = killControlPlaneKind
	k.NewParams = nil
	panics("no params", k, "no NewParams")
	k = killControlPlaneKind
	k.Type = "other"
	panics("params of another fault", k, "are parameters of kill-control-plane")
	k = killControlPlaneKind
	k.Type, k.Measurable = "other", nil
	k.NewParams = func() FaultParams { return &MemoryHogParams{} }
	panics("params of another fault", k, "are parameters of memory-hog")
	k = killControlPlaneKind
	k.Measurable = nil
	panics("nothing measurable", k, "measures no objective")
	k.Measurable = []Objective{"rto.db"}
	panics("unknown objective", k, `"rto.db" is not one of`)
	k.Measurable = []Objective{ObjectiveRPO, ObjectiveRPO}
	panics("objective twice", k, "rpo listed twice")
	k = killControlPlaneKind
	k.DefaultRole = "etcd"
	panics("unknown role", k, `default role "etcd"`)
	if got := FaultTypes(); len(got) != 1 || got[0] != FaultKillControlPlane {
		t.Errorf("after the refused registrations, FaultTypes() = %v", got)
	}
}
