package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
)

// FaultKind is what the loaders know of one fault type: the schema side of a
// fault, registered with RegisterFault.
type FaultKind struct {
	// Type is the fault's name, as fault.type writes it.
	Type FaultType
	// NewParams returns an empty parameter struct of Type (a pointer to a
	// struct), for fault.params to be decoded into.
	NewParams func() FaultParams
	// Measurable are the objectives a drill with this fault may declare:
	// those its samplers observe.
	//
	//   - the control-plane faults sample the API through the load balancer
	//     and write to it: rto.api and rpo;
	//   - the workload faults sample the workload's Service, its Ready pods
	//     and its PodDisruptionBudget: rto.app, availability and pdb;
	//   - every drill is timed and may judge alerts: maxDuration and alerts.
	Measurable []Objective
	// DefaultRole is the role of the nodes the fault acts on, target.role's
	// default; "" for a fault that acts on no node, whose drills take no
	// target.
	DefaultRole Role
}

// registry holds the registered fault kinds.
var registry struct {
	sync.RWMutex
	kinds map[FaultType]FaultKind
}

// RegisterFault makes a fault type known to the loaders, the way a
// database/sql driver registers itself. Package internal/faults registers
// every fault it implements when it is initialized, so a program that loads
// drill files imports it (a blank import will do); loading drills with no
// fault registered fails and says so.
//
// RegisterFault panics if k is incomplete (no type, no params, params of
// another type or not a pointer to a struct, no measurable objective, an
// unknown objective or role) or its type is registered already.
func RegisterFault(k FaultKind) {
	if err := checkKind(k); err != nil {
		panic(fmt.Sprintf("scenarios: register fault %q: %v", k.Type, err))
	}
	k.Measurable = slices.Clone(k.Measurable)
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[k.Type]; dup {
		panic(fmt.Sprintf("scenarios: register fault %q: registered twice", k.Type))
	}
	if registry.kinds == nil {
		registry.kinds = map[FaultType]FaultKind{}
	}
	registry.kinds[k.Type] = k
}

func checkKind(k FaultKind) error {
	if k.Type == "" {
		return fmt.Errorf("no type")
	}
	if k.NewParams == nil {
		return fmt.Errorf("no NewParams")
	}
	p := k.NewParams()
	if p == nil {
		return fmt.Errorf("NewParams returned nil")
	}
	if t := reflect.TypeOf(p); t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("params are a %s, want a pointer to a struct", t)
	}
	if p.FaultType() != k.Type {
		return fmt.Errorf("params %T are parameters of %s", p, p.FaultType())
	}
	if len(k.Measurable) == 0 {
		return fmt.Errorf("measures no objective")
	}
	for i, o := range k.Measurable {
		if !slices.Contains(objectives, o) {
			return fmt.Errorf("measurable objective %q is not one of: %s", o, joinObjectives(objectives))
		}
		if slices.Contains(k.Measurable[:i], o) {
			return fmt.Errorf("measurable objective %s listed twice", o)
		}
	}
	if k.DefaultRole != "" && k.DefaultRole != RoleControlPlane && k.DefaultRole != RoleWorker {
		return fmt.Errorf("default role %q is not %s, %s or none", k.DefaultRole, RoleControlPlane, RoleWorker)
	}
	return nil
}

// lookupKind returns the registered kind of t.
func lookupKind(t FaultType) (FaultKind, bool) {
	registry.RLock()
	defer registry.RUnlock()
	k, ok := registry.kinds[t]
	return k, ok
}

// FaultTypes returns every registered fault type, sorted.
func FaultTypes() []FaultType {
	registry.RLock()
	defer registry.RUnlock()
	ts := make([]FaultType, 0, len(registry.kinds))
	for t := range registry.kinds {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// Measurable returns the objectives a drill with fault t may declare, or nil
// for an unregistered fault.
func Measurable(t FaultType) []Objective {
	k, _ := lookupKind(t)
	return slices.Clone(k.Measurable)
}

// noFaults is the reason a drill fails to load when no fault is registered.
const noFaults = "no fault type is registered: import github.com/drill-sre/drill/internal/faults (a blank import will do) before loading drills"
