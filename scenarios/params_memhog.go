package scenarios

import "time"

// FaultMemoryHog runs a memory hog on one node that keeps the node's memory
// in use at a fraction of its total, holds it there, and stops it. Params:
// *MemoryHogParams.
const FaultMemoryHog FaultType = "memory-hog"

// MemoryHogParams are the parameters of memory-hog. Its node is a worker
// (by default) of the drill's target, chosen with the seed.
type MemoryHogParams struct {
	// Used is the fraction of the node's memory to keep in use, counting
	// all else that runs there: 1 - MemAvailable/MemTotal. The hog
	// allocates until it is reached and gives memory back when others
	// grow. Required; between 0.5 and 0.97.
	Used float64 `yaml:"used"`
	// HoldFor is how long the node is kept there once reached; a drill
	// that expects alerts keeps it until they fire. Required.
	HoldFor time.Duration `yaml:"holdFor"`
}

// FaultType implements FaultParams.
func (*MemoryHogParams) FaultType() FaultType { return FaultMemoryHog }

func (p *MemoryHogParams) setDefaults(func(string) bool, string) {}

func (p *MemoryHogParams) validate(v *validator, s *Scenario, path string) {
	used := join(path, "used")
	switch {
	case p.Used == 0 && !v.present(used):
		v.errorf(used, "missing; the fraction of the node's memory to keep in use, e.g. 0.93")
	case !(p.Used >= 0.5 && p.Used <= 0.97): // NaN too
		v.errorf(used, "%v: want a fraction between 0.5 and 0.97 (above that the node's own processes are at risk)", p.Used)
	}
	hold := v.duration(join(path, "holdFor"), p.HoldFor, true)
	if limit := s.Objectives.MaxDuration; hold && limit > 0 && limit <= p.HoldFor {
		v.errorf("objectives.maxDuration", "%s is not longer than %s %s, which the drill always spends", limit, join(path, "holdFor"), p.HoldFor)
	}
}
