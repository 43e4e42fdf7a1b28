package scenarios

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FaultZoneOutage cuts every node of one zone off the network at once,
// control plane included where the zone has one, through drill's node
// agent: an availability zone lost, as opposed to drain-zone's graceful
// evacuation. Each node's agent ends the fault on its own clock when HoldFor
// ends. Params: *ZoneOutageParams.
const FaultZoneOutage FaultType = "zone-outage"

// MinZoneOutageHold is the shortest holdFor of zone-outage.
const MinZoneOutageHold = 90 * time.Second

// ZoneOutageParams are the parameters of zone-outage.
type ZoneOutageParams struct {
	// Zone is the value of topology.kubernetes.io/zone whose nodes are cut
	// off ("zone-b"). Required.
	Zone string `yaml:"zone"`
	// HoldFor is how long the zone stays cut off from the injection; the
	// agents restore their nodes on their own clock when it ends. Required.
	HoldFor time.Duration `yaml:"holdFor"`
	// RejoinTimeout bounds the wait, once the zone is back, for its nodes
	// to be Ready and its control plane's etcd member and API server
	// healthy. Required.
	RejoinTimeout time.Duration `yaml:"rejoinTimeout"`
}

// FaultType implements FaultParams.
func (*ZoneOutageParams) FaultType() FaultType { return FaultZoneOutage }

func (*ZoneOutageParams) actsOn() string {
	return "acts on every node of fault.params.zone, whatever its role"
}

func (*ZoneOutageParams) needsWorkload(*Scenario) bool { return true }

func (*ZoneOutageParams) setDefaults(func(string) bool, string) {}

func (p *ZoneOutageParams) validate(v *validator, s *Scenario, path string) {
	if v.required(join(path, "zone"), p.Zone, "a topology.kubernetes.io/zone value such as zone-b") {
		if errs := validation.IsValidLabelValue(p.Zone); len(errs) > 0 {
			v.errorf(join(path, "zone"), "%s is not a zone label value: %s", quote(p.Zone), errs[0])
		}
	}
	hold := v.duration(join(path, "holdFor"), p.HoldFor, true)
	if hold && p.HoldFor < MinZoneOutageHold {
		v.errorf(join(path, "holdFor"), "%s is shorter than %s: the node controller marks a node that went silent NotReady only after 50 s, which the fact check waits for before the agents bring the zone back", p.HoldFor, MinZoneOutageHold)
	}
	if limit := s.Objectives.MaxDuration; hold && limit > 0 && limit <= p.HoldFor {
		v.errorf("objectives.maxDuration", "%s is not longer than %s %s, which the drill always spends", limit, join(path, "holdFor"), p.HoldFor)
	}
	v.duration(join(path, "rejoinTimeout"), p.RejoinTimeout, true)
}
