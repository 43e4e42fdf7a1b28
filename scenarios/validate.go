package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// SetDefaults fills what a drill may leave out: the sampling interval and
// timeout, the target's role, the kill signal, the crashloop state and the
// workload's replicas. Parse calls it; call it on a Scenario built in Go before Validate.
func (s *Scenario) SetDefaults() {
	s.setDefaults(func(string) bool { return false })
}

// setDefaults fills the fields that are absent; present tells which fields
// the file wrote, so that an explicit zero stays and is reported.
func (s *Scenario) setDefaults(present func(path string) bool) {
	if s.Sampling.Interval == 0 && !present("sampling.interval") {
		s.Sampling.Interval = DefaultSamplingInterval
	}
	if s.Sampling.Timeout == 0 && !present("sampling.timeout") {
		s.Sampling.Timeout = DefaultSamplingTimeout
	}
	if s.Target.Role == "" && !present("target.role") {
		if k, ok := lookupKind(s.Fault.Type); ok {
			s.Target.Role = k.DefaultRole
		}
	}
	if p, ok := s.Fault.Params.(paramsChecker); ok {
		p.setDefaults(present, "fault.params")
	}
	if s.Workload != nil && s.Workload.Replicas == 0 && !present("workload.replicas") {
		s.Workload.Replicas = DefaultReplicas
		if s.Workload.Persistent {
			s.Workload.Replicas = 1
		}
	}
}

// Validate checks s as it is (call SetDefaults first to fill the defaults),
// the way Parse checks a file. It returns an ErrorList whose errors name
// field paths but no file or line.
func (s *Scenario) Validate() error {
	v := &validator{}
	s.validate(v)
	return v.errs.err()
}

// validator collects the errors of one scenario. With the positions its
// decoder recorded, each error points at its field, or at the closest
// enclosing field that is written when the field itself is missing.
type validator struct {
	pos  map[string]position // nil for a Scenario built in Go
	errs ErrorList
}

func (v *validator) errorf(path, format string, args ...any) {
	e := &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
	for p := path; v.pos != nil; p = parent(p) {
		if at, ok := v.pos[p]; ok {
			e.Line, e.Column = at.line, at.column
			break
		}
		if p == "" {
			break
		}
	}
	v.errs = append(v.errs, e)
}

// reported reports whether an error was reported at path already.
func (v *validator) reported(path string) bool {
	return slices.ContainsFunc(v.errs, func(e *Error) bool { return e.Path == path })
}

// present reports whether the file wrote the field at path.
func (v *validator) present(path string) bool {
	_, ok := v.pos[path]
	return ok
}

// presentUnder reports whether the file wrote any field inside path.
func (v *validator) presentUnder(path string) bool {
	for p := range v.pos {
		if strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// duration checks a duration field: a declared one must be positive, and a
// required one declared. It reports whether d is positive.
func (v *validator) duration(path string, d time.Duration, required bool) bool {
	switch {
	case d < 0:
		v.errorf(path, "%q is negative", d.String())
	case d == 0 && v.present(path):
		v.errorf(path, "is zero; want a positive duration")
	case d == 0 && required:
		v.errorf(path, `missing; want a duration such as "30s"`)
	}
	return d > 0
}

// required reports a missing string field.
func (v *validator) required(path, value, what string) bool {
	if value == "" {
		v.errorf(path, "missing; want %s", what)
		return false
	}
	return true
}

// oneOf checks that value is one of allowed; an empty value is missing.
func oneOf[T ~string](v *validator, path string, value T, allowed ...T) bool {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	if value == "" {
		v.errorf(path, "missing; want one of: %s", strings.Join(names, ", "))
		return false
	}
	if slices.Contains(allowed, value) {
		return true
	}
	hint := ""
	if c, ok := closest(string(value), names); ok {
		hint = fmt.Sprintf(" (did you mean %s?)", c)
	}
	v.errorf(path, "%s is not one of: %s%s", quote(string(value)), strings.Join(names, ", "), hint)
	return false
}

func (v *validator) dns1123Label(path, value string) bool {
	if errs := validation.IsDNS1123Label(value); len(errs) > 0 {
		v.errorf(path, "%s is not a DNS-1123 label: %s", quote(value), errs[0])
		return false
	}
	return true
}

func (s *Scenario) validate(v *validator) {
	if v.required("name", s.Name, "a DNS-1123 label naming the drill") {
		v.dns1123Label("name", s.Name)
	}
	if strings.TrimSpace(s.Description) == "" {
		v.errorf("description", "missing; say what the drill proves")
	}
	interval := v.duration("sampling.interval", s.Sampling.Interval, true)
	if interval && s.Sampling.Interval < MinSamplingInterval {
		v.errorf("sampling.interval", "%s is shorter than %s: each sampler sends the cluster a request every interval, and the RPO writer a write, "+
			"so a shorter one floods the API server and etcd the drill measures", s.Sampling.Interval, MinSamplingInterval)
	}
	if interval && v.duration("sampling.timeout", s.Sampling.Timeout, true) && s.Sampling.Timeout < s.Sampling.Interval {
		v.errorf("sampling.timeout", "%s is shorter than sampling.interval %s", s.Sampling.Timeout, s.Sampling.Interval)
	}
	s.validateFault(v)
	s.validateTarget(v)
	s.validateWorkload(v)
	s.validateObjectives(v)
}

func (s *Scenario) validateFault(v *validator) {
	f := s.Fault
	if f.Type == "" && f.Params == nil && !v.present("fault") {
		v.errorf("fault", "missing; want type and params")
		return
	}
	types := FaultTypes()
	if len(types) == 0 {
		v.errorf("fault.type", noFaults)
		return
	}
	if !oneOf(v, "fault.type", f.Type, types...) {
		return
	}
	if f.Params == nil {
		v.errorf("fault.params", "missing")
		return
	}
	if f.Params.FaultType() != f.Type {
		v.errorf("fault.params", "are parameters of %s, not %s", f.Params.FaultType(), f.Type)
		return
	}
	if p, ok := f.Params.(paramsChecker); ok {
		p.validate(v, s, "fault.params")
	}
}

func (s *Scenario) validateTarget(v *validator) {
	t := s.Target
	var empty FaultParams // the fault's rules, if it is registered
	if k, ok := lookupKind(s.Fault.Type); ok {
		empty = k.NewParams()
		if k.DefaultRole == "" {
			if !t.IsZero() || v.present("target") {
				actsOn := "acts on no node"
				if n, ok := empty.(nodeless); ok {
					actsOn = n.actsOn()
				}
				v.errorf("target", "%s %s; remove target", s.Fault.Type, actsOn)
			}
			return
		}
	}
	if t.Role != "" || v.present("target.role") {
		if oneOf(v, "target.role", t.Role, RoleControlPlane, RoleWorker) {
			if r, ok := empty.(roleBound); ok && t.Role != r.onlyRole() {
				v.errorf("target.role", "%s acts on %s nodes, not %s nodes", s.Fault.Type, r.onlyRole(), t.Role)
			}
		}
	}
	if t.Selector != "" {
		if _, err := labels.Parse(t.Selector); err != nil {
			v.errorf("target.selector", "%s is not a label selector: %s", quote(t.Selector), clip(err.Error()))
		}
	}
	if t.Zone != "" {
		if errs := validation.IsValidLabelValue(t.Zone); len(errs) > 0 {
			v.errorf("target.zone", "%s is not a zone label value: %s", quote(t.Zone), errs[0])
		}
	}
}

// notNarrowed reports target.zone and target.selector when the fault acts on
// one node it does not choose (param names which).
func notNarrowed(v *validator, s *Scenario, param string, value any) {
	if s.Target.Zone != "" {
		v.errorf("target.zone", "only narrows a choice among nodes; %s %q acts on one node wherever it is", param, value)
	}
	if s.Target.Selector != "" {
		v.errorf("target.selector", "only narrows a choice among nodes; %s %q acts on one node wherever it is", param, value)
	}
}

func (s *Scenario) validateWorkload(v *validator) {
	w := s.Workload
	if w == nil {
		if k, ok := lookupKind(s.Fault.Type); ok {
			if wb, ok := k.NewParams().(workloadBound); ok && wb.needsWorkload(s) {
				v.errorf("workload", "missing; %s disrupts a workload", s.Fault.Type)
			}
		}
		return
	}
	oneOf(v, "workload.fixture", w.Fixture, FixtureProbeApp)
	if w.Replicas < 1 {
		v.errorf("workload.replicas", "%d: want at least 1", w.Replicas)
	}
	if w.Persistent && w.Replicas > 1 {
		v.errorf("workload.replicas", "%d: a persistent workload has one replica (its volume is ReadWriteOnce)", w.Replicas)
	}
	if w.PDB == nil {
		return
	}
	switch minAvail, maxUnavail := w.PDB.MinAvailable, w.PDB.MaxUnavailable; {
	case minAvail == nil && maxUnavail == nil:
		v.errorf("workload.pdb", "declares neither minAvailable nor maxUnavailable")
	case minAvail != nil && maxUnavail != nil:
		v.errorf("workload.pdb", "declares both minAvailable and maxUnavailable; a PodDisruptionBudget takes one")
	case minAvail != nil && *minAvail < 0:
		v.errorf("workload.pdb.minAvailable", "%d is negative", *minAvail)
	case minAvail != nil && w.Replicas > 0 && *minAvail > w.Replicas:
		v.errorf("workload.pdb.minAvailable", "%d is more than the workload's %d replicas: the budget can never be met", *minAvail, w.Replicas)
	case maxUnavail != nil && *maxUnavail < 0:
		v.errorf("workload.pdb.maxUnavailable", "%d is negative", *maxUnavail)
	}
}

// objectivePath is where an objective is declared.
func objectivePath(o Objective) string { return "objectives." + string(o) }

func (s *Scenario) validateObjectives(v *validator) {
	o := s.Objectives
	declared := o.Declared()
	if len(declared) == 0 && !v.presentUnder("objectives") {
		v.errorf("objectives", "none declared; a drill judges at least one")
	}
	if k, ok := lookupKind(s.Fault.Type); ok {
		for _, d := range declared {
			if !slices.Contains(k.Measurable, d) {
				v.errorf(objectivePath(d), "%s cannot measure %s (it measures %s)", s.Fault.Type, d, joinObjectives(k.Measurable))
			}
		}
	}
	if o.RTO != nil {
		if o.RTO.API == 0 && o.RTO.App == 0 && !v.presentUnder("objectives.rto") {
			v.errorf("objectives.rto", "declares neither api nor app")
		}
		s.validateRTO(v, "objectives.rto.api", o.RTO.API)
		s.validateRTO(v, "objectives.rto.app", o.RTO.App)
	}
	if r := o.RPO; r != nil {
		if r.MaxLostWrites == nil && r.MaxDataLoss == 0 && !v.presentUnder("objectives.rpo") {
			v.errorf("objectives.rpo", "declares neither maxLostWrites nor maxDataLoss")
		}
		if r.MaxLostWrites != nil && *r.MaxLostWrites < 0 {
			v.errorf("objectives.rpo.maxLostWrites", "%d is negative", *r.MaxLostWrites)
		}
		v.duration("objectives.rpo.maxDataLoss", r.MaxDataLoss, false)
	}
	if a := o.Availability; a != nil {
		switch {
		case a.MinReady == 0 && !v.present("objectives.availability.minReady"):
			v.errorf("objectives.availability.minReady", "missing; want the fewest Ready pods acceptable")
		case a.MinReady < 1:
			v.errorf("objectives.availability.minReady", "%d: want at least 1", a.MinReady)
		case s.Workload == nil:
			v.errorf("objectives.availability", "needs a workload to measure")
		case s.Workload.Replicas > 0 && a.MinReady > s.Workload.Replicas:
			v.errorf("objectives.availability.minReady", "%d is more than the workload's %d replicas", a.MinReady, s.Workload.Replicas)
		}
	}
	if p := o.PDB; p != nil {
		switch {
		case !p.NeverViolated && !v.present("objectives.pdb.neverViolated"):
			v.errorf("objectives.pdb", "declares nothing; want neverViolated: true")
		case !p.NeverViolated && !v.reported("objectives.pdb.neverViolated"):
			v.errorf("objectives.pdb.neverViolated", "is false, so the objective judges nothing; want true, or no pdb objective")
		case p.NeverViolated && (s.Workload == nil || s.Workload.PDB == nil):
			v.errorf("objectives.pdb.neverViolated", "needs a workload pdb to judge")
		}
	}
	if i := o.Integrity; i != nil {
		switch {
		case i.MaxCorrupted == nil:
			v.errorf("objectives.integrity.maxCorrupted", "missing; want the most corrupted records acceptable, usually 0")
		case *i.MaxCorrupted < 0:
			v.errorf("objectives.integrity.maxCorrupted", "%d is negative", *i.MaxCorrupted)
		}
	}
	v.duration("objectives.maxDuration", o.MaxDuration, false)
	if o.Alerts != nil {
		validateAlerts(v, o.Alerts, "objectives.alerts")
	}
}

// validateRTO checks one declared RTO bound against the drill's sampling and
// duration.
func (s *Scenario) validateRTO(v *validator, path string, d time.Duration) {
	if !v.duration(path, d, false) {
		return
	}
	if i := s.Sampling.Interval; i > 0 && d < i {
		v.errorf(path, "%s is shorter than sampling.interval %s: it cannot be told from zero", d, i)
	}
	if limit := s.Objectives.MaxDuration; limit > 0 && d > limit {
		v.errorf(path, "%s is longer than objectives.maxDuration %s", d, limit)
	}
}

// validateAlerts checks the alerts block.
func validateAlerts(v *validator, a *Alerts, path string) {
	if len(a.Expect) == 0 && a.Forbid == nil {
		switch expect := join(path, "expect"); {
		case !v.presentUnder(path):
			v.errorf(path, "declares neither expect nor forbid")
		case v.present(expect) && a.Expect != nil:
			v.errorf(expect, "is empty, and there is no forbid: the objective judges nothing")
		}
	}
	expected := make(map[string]bool, len(a.Expect))
	for i, e := range a.Expect {
		expected[e.Name] = true
		p := fmt.Sprintf("%s.expect[%d]", path, i)
		v.required(join(p, "name"), e.Name, "the alert's name")
		validateLabels(v, join(p, "labels"), e.Labels)
		v.duration(join(p, "firingWithin"), e.FiringWithin, true)
		v.duration(join(p, "resolvedWithin"), e.ResolvedWithin, false)
	}
	if f := a.Forbid; f != nil {
		p := join(path, "forbid")
		if len(f.Names) == 0 && f.Severity == "" {
			switch names := join(p, "names"); {
			case !v.presentUnder(p):
				v.errorf(p, "declares neither names nor severity")
			case v.present(names) && f.Names != nil && !v.present(join(p, "severity")):
				v.errorf(names, "is empty, and there is no severity: forbid judges nothing")
			}
		}
		for i, n := range f.Names {
			if n == "" {
				v.errorf(fmt.Sprintf("%s.names[%d]", p, i), "is empty")
			}
			if expected[n] {
				v.errorf(fmt.Sprintf("%s.names[%d]", p, i), "%s is also expected: an alert cannot be both", clip(n))
			}
		}
		if f.Severity == "" && v.present(join(p, "severity")) {
			v.errorf(join(p, "severity"), "is empty")
		}
	}
}

// validateLabels checks an expected alert's labels: Prometheus label names,
// and values with no template but NamespaceVar, the only one expanded.
func validateLabels(v *validator, path string, labels map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		switch {
		case k == "":
			v.errorf(path, "a label has an empty name")
		case !model.LegacyValidation.IsValidLabelName(k):
			v.errorf(join(path, clip(k)), "%s is not a label name: Prometheus' are letters, digits and _, not starting with a digit", quote(k))
		}
		if val := labels[k]; strings.Contains(strings.ReplaceAll(val, NamespaceVar, ""), "{{") {
			hint := ""
			if strings.Contains(strings.ToLower(strings.Join(strings.Fields(val), "")), strings.ToLower(NamespaceVar)) {
				hint = " (did you mean " + NamespaceVar + "?)"
			}
			v.errorf(join(path, clip(k)), "%s has a template that is not expanded: only %s, written exactly so, stands for the drill's namespace; "+
				"any other is matched as written and never matches%s", quote(val), NamespaceVar, hint)
		}
	}
}

func joinObjectives(os []Objective) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}
