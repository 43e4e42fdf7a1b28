package faults

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/scenarios"
)

// Spec is everything drill knows about one fault type, declared in the
// fault's own file:
//
//	var drainZoneSpec = Register(Spec{Type: scenarios.FaultDrainZone, ...})
//
// Its schema side (params, measurable objectives, default role) is
// registered with package scenarios too, so that drill files naming the
// type load.
type Spec struct {
	Type scenarios.FaultType
	// Params returns an empty parameter struct of Type (the fault's
	// *Params type of package scenarios).
	Params func() scenarios.FaultParams
	// Measurable are the objectives the fault's samplers can measure, hence
	// those its drills may declare.
	Measurable []scenarios.Objective
	// DefaultRole is the role of the nodes the fault acts on, target.role's
	// default; "" when it acts on no node.
	DefaultRole scenarios.Role
	// Samplers are the samplers the fault needs beyond those every drill
	// runs.
	Samplers Samplers
	// Target labels what the fault acts on, as the spec label
	// "target:"+Target: "control-plane", "worker", "deployment", "etcd",
	// "namespace". A fault that acts on nodes is labelled with its drill's
	// target role instead, Target when the drill has none.
	Target string
	// Suite is the Ginkgo suite (a directory under suites/) that runs the
	// fault's shipped drills: "controlplane", "zones", "workloads",
	// "restore"; "" when only examples use the fault.
	Suite string
	// Access are the classes of access (package rbac) the fault needs
	// beyond those every drill needs (rbac.Common): the ClusterRoles a user
	// running its drills is bound to, which `drill rbac` prints and the
	// preflight checks. Every fault names at least one.
	Access []rbac.Class
	// ClusterJournal says whether an in-cluster copy of the fault's journal
	// can be used to recover; false for etcd-restore, whose restore rolls
	// that copy back.
	ClusterJournal bool
	// New returns the fault a drill declares. Its params are of Type.
	New func(env Env, sc *scenarios.Scenario) (Fault, error)
}

// The access classes of faults, for Spec.Access: a fault's file names one
// of these, so that it imports nothing more.
var (
	workloadAccess = []rbac.Class{rbac.WorkloadFaults}
	nodeAccess     = []rbac.Class{rbac.NodeFaults}
	drAccess       = []rbac.Class{rbac.DR}
)

// Samplers is a set of the samplers a fault needs beyond those every drill
// runs (the API through the load balancer, and the workload's when it has
// one).
type Samplers uint

// Samplers a fault may need.
const (
	// SampleControlPlane samples each API server, the controller-manager
	// and scheduler leases, etcd's leader, members and each member's
	// health, and writes records into etcd through the API for RPO.
	SampleControlPlane Samplers = 1 << iota
	// SampleAppRecords writes records for RPO onto the persistent
	// workload's volume, through the app.
	SampleAppRecords
)

// Has reports whether s holds every sampler of x.
func (s Samplers) Has(x Samplers) bool { return s&x == x }

// registry holds the registered specs.
var registry struct {
	sync.RWMutex
	specs map[scenarios.FaultType]Spec
}

// Register records s, registers its schema side with package scenarios
// (scenarios.RegisterFault) and returns s. It panics if s is incomplete or
// its type is registered already.
func Register(s Spec) Spec {
	if err := checkSpec(s); err != nil {
		panic(fmt.Sprintf("faults: register %q: %v", s.Type, err))
	}
	s.Measurable = slices.Clone(s.Measurable)
	s.Access = slices.Clone(s.Access)
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.specs[s.Type]; dup {
		panic(fmt.Sprintf("faults: register %q: registered twice", s.Type))
	}
	scenarios.RegisterFault(scenarios.FaultKind{Type: s.Type, NewParams: s.Params, Measurable: s.Measurable, DefaultRole: s.DefaultRole})
	if registry.specs == nil {
		registry.specs = map[scenarios.FaultType]Spec{}
	}
	registry.specs[s.Type] = s
	return s
}

// checkSpec checks what package scenarios does not: the Go side.
func checkSpec(s Spec) error {
	var missing []string
	if s.Type == "" {
		missing = append(missing, "Type")
	}
	if s.Params == nil {
		missing = append(missing, "Params")
	}
	if len(s.Measurable) == 0 {
		missing = append(missing, "Measurable")
	}
	if s.Target == "" {
		missing = append(missing, "Target")
	}
	if s.New == nil {
		missing = append(missing, "New")
	}
	if len(missing) > 0 {
		return fmt.Errorf("no %s", strings.Join(missing, ", "))
	}
	if s.Samplers&^(SampleControlPlane|SampleAppRecords) != 0 {
		return fmt.Errorf("unknown samplers %#x", uint(s.Samplers))
	}
	if s.Samplers.Has(SampleControlPlane | SampleAppRecords) {
		return fmt.Errorf("samplers write RPO records to the API and to the app at once: one store per drill")
	}
	for _, c := range s.Access {
		if !c.Known() {
			return fmt.Errorf("unknown access class %q", c)
		}
	}
	if strings.ContainsAny(s.Target+s.Suite, " ,:/") {
		return fmt.Errorf("target %q or suite %q is not a plain name", s.Target, s.Suite)
	}
	return nil
}

// Lookup returns the spec of fault type t.
func Lookup(t scenarios.FaultType) (Spec, bool) {
	registry.RLock()
	defer registry.RUnlock()
	s, ok := registry.specs[t]
	return s, ok
}

// Specs returns every registered spec, sorted by type.
func Specs() []Spec {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Spec, 0, len(registry.specs))
	for _, s := range registry.specs {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Spec) int { return strings.Compare(string(a.Type), string(b.Type)) })
	return out
}

// New returns the fault a scenario declares, made by its type's spec.
func New(env Env, sc *scenarios.Scenario) (Fault, error) {
	if env.Logger == nil {
		env.Logger = log.NoopLogger{}
	}
	if env.Timeout == 0 {
		env.Timeout = DefaultTimeout
	}
	s, ok := Lookup(sc.Fault.Type)
	if !ok {
		return nil, fmt.Errorf("fault %q: not implemented", sc.Fault.Type)
	}
	f, err := s.New(env, sc)
	if err != nil || !env.DryRun {
		return f, err
	}
	p, ok := f.(Planner)
	if !ok {
		return nil, fmt.Errorf("fault %q cannot say what it would do (no Plan): no dry run", sc.Fault.Type)
	}
	return dryRunOnly{p}, nil
}

// newWith adapts a fault's constructor, which takes its own params, to
// Spec.New.
func newWith[P scenarios.FaultParams](fn func(Env, *scenarios.Scenario, P) (Fault, error)) func(Env, *scenarios.Scenario) (Fault, error) {
	return func(env Env, sc *scenarios.Scenario) (Fault, error) {
		p, ok := sc.Fault.Params.(P)
		if !ok {
			return nil, fmt.Errorf("fault %q: params are %T, want %T", sc.Fault.Type, sc.Fault.Params, p)
		}
		return fn(env, sc, p)
	}
}
