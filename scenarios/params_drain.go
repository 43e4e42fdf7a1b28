package scenarios

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FaultDrainZone cordons and drains every targeted node of a zone, through
// the eviction API, so PodDisruptionBudgets apply. Params:
// *DrainZoneParams.
const FaultDrainZone FaultType = "drain-zone"

// DrainZoneParams are the parameters of drain-zone.
type DrainZoneParams struct {
	// Zone is the value of topology.kubernetes.io/zone whose targeted nodes
	// are drained ("zone-a"). Required.
	Zone string `yaml:"zone"`
	// GracePeriod overrides the evicted pods' termination grace period.
	// Optional: by default each pod keeps its own.
	GracePeriod time.Duration `yaml:"gracePeriod"`
	// Timeout bounds the drain. When ExpectBlocked, the drain must still be
	// blocked when it expires. Required.
	Timeout time.Duration `yaml:"timeout"`
	// ExpectBlocked says the workload's PodDisruptionBudget must block the
	// drain: the drill passes only if evictions are refused until Timeout.
	// It requires a workload PDB and objectives.pdb.neverViolated.
	ExpectBlocked bool `yaml:"expectBlocked"`
}

// FaultType implements FaultParams.
func (*DrainZoneParams) FaultType() FaultType { return FaultDrainZone }

func (*DrainZoneParams) needsWorkload(*Scenario) bool { return true }

func (p *DrainZoneParams) setDefaults(func(string) bool, string) {}

func (p *DrainZoneParams) validate(v *validator, s *Scenario, path string) {
	if v.required(join(path, "zone"), p.Zone, "a topology.kubernetes.io/zone value such as zone-a") {
		if errs := validation.IsValidLabelValue(p.Zone); len(errs) > 0 {
			v.errorf(join(path, "zone"), "%s is not a zone label value: %s", quote(p.Zone), errs[0])
		}
		if s.Target.Zone != "" && s.Target.Zone != p.Zone {
			v.errorf("target.zone", "%s conflicts with %s %s", quote(s.Target.Zone), join(path, "zone"), quote(p.Zone))
		}
	}
	v.duration(join(path, "gracePeriod"), p.GracePeriod, false)
	timeout := v.duration(join(path, "timeout"), p.Timeout, true)
	if !p.ExpectBlocked {
		return
	}
	blocked := join(path, "expectBlocked")
	if s.Workload != nil && s.Workload.PDB == nil {
		v.errorf(blocked, "is true, but the workload has no pdb to block the drain")
	}
	switch o := s.Objectives.PDB; {
	case o == nil || !v.present("objectives.pdb.neverViolated") && !o.NeverViolated:
		v.errorf(blocked, "is true, but objectives.pdb.neverViolated is not declared: a blocked drain is the PDB holding")
	case !o.NeverViolated:
		v.errorf("objectives.pdb.neverViolated", "is false, but %s is true: a blocked drain is the PDB holding", blocked)
	}
	// A blocked drain lasts its whole timeout.
	if limit := s.Objectives.MaxDuration; timeout && limit > 0 && limit <= p.Timeout {
		v.errorf("objectives.maxDuration", "%s is not longer than %s %s, which a blocked drain always waits", limit, join(path, "timeout"), p.Timeout)
	}
}
