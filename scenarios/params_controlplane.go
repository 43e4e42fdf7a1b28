package scenarios

import "time"

// FaultKillControlPlane kills a control-plane node (its container, with
// Signal) and waits for it to rejoin. Params: *KillControlPlaneParams.
const FaultKillControlPlane FaultType = "kill-control-plane"

// ControlPlaneTarget is the control-plane node kill-control-plane kills.
type ControlPlaneTarget string

// Control-plane targets.
const (
	// TargetEtcdLeader is the node whose etcd member leads.
	TargetEtcdLeader ControlPlaneTarget = "etcd-leader"
	// TargetControllerManagerLeader is the node whose
	// kube-controller-manager holds the leader lease.
	TargetControllerManagerLeader ControlPlaneTarget = "controller-manager-leader"
	// TargetRandom is a control-plane node chosen with the drill's seed.
	TargetRandom ControlPlaneTarget = "random"
)

// Signal is the signal a node's container is killed with.
type Signal string

// Signals kill-control-plane sends.
const (
	// SIGKILL is a crash: nothing on the node shuts down cleanly.
	SIGKILL Signal = "SIGKILL"
	// SIGTERM lets the container's init shut down.
	SIGTERM Signal = "SIGTERM"
)

// KillMode is how kill-control-plane takes its node down.
type KillMode string

// Kill modes.
const (
	// KillContainer kills the node's container with Signal and starts it
	// again: a machine that crashed. It needs a provider that runs nodes
	// as containers (kind).
	KillContainer KillMode = "container"
	// KillServices stops, through drill's node agent, every static pod of
	// the node (API server, etcd, controller manager, scheduler) and then
	// its kubelet, and starts them again: the control plane's services
	// crashed while the machine and its network stay up.
	KillServices KillMode = "services"
	// KillIsolate drops, through drill's node agent, every packet to and
	// from the node but its loopback's: the closest a cluster gets to a
	// machine switched off. Nobody reaches the node meanwhile, so the agent
	// ends the fault on its own clock when HoldFor ends.
	KillIsolate KillMode = "isolate"
)

// KillControlPlaneParams are the parameters of kill-control-plane.
type KillControlPlaneParams struct {
	// Target is the node to kill. Required.
	Target ControlPlaneTarget `yaml:"target"`
	// Mode is how the node is taken down. Default container.
	Mode KillMode `yaml:"mode"`
	// Signal kills the node's container (mode container only). Default
	// SIGKILL.
	Signal Signal `yaml:"signal"`
	// HoldFor is how long the node stays down from the injection, at least:
	// the revert also waits until the survivors took over. Required in the
	// agent's modes (services, isolate), where it is also the agent's
	// dead-man's switch: the agent reverts on its own when the harness has
	// not renewed its lease for HoldFor plus a minute. Optional in mode
	// container.
	HoldFor time.Duration `yaml:"holdFor"`
	// RejoinTimeout bounds the wait, after the node is started again, for
	// it to be Ready and its etcd member healthy. Required.
	RejoinTimeout time.Duration `yaml:"rejoinTimeout"`
}

// MinIsolateHold is the shortest holdFor of mode isolate.
const MinIsolateHold = time.Minute

// ByAgent says whether the mode goes through drill's node agent.
func (m KillMode) ByAgent() bool { return m == KillServices || m == KillIsolate }

// FaultType implements FaultParams.
func (*KillControlPlaneParams) FaultType() FaultType { return FaultKillControlPlane }

func (*KillControlPlaneParams) onlyRole() Role { return RoleControlPlane }

func (p *KillControlPlaneParams) setDefaults(present func(string) bool, path string) {
	if p.Mode == "" && !present(join(path, "mode")) {
		p.Mode = KillContainer
	}
	if p.Signal == "" && !present(join(path, "signal")) && p.Mode == KillContainer {
		p.Signal = SIGKILL
	}
}

func (p *KillControlPlaneParams) validate(v *validator, s *Scenario, path string) {
	if oneOf(v, join(path, "target"), p.Target, TargetEtcdLeader, TargetControllerManagerLeader, TargetRandom) &&
		p.Target != TargetRandom {
		notNarrowed(v, s, join(path, "target"), p.Target)
	}
	oneOf(v, join(path, "mode"), p.Mode, KillContainer, KillServices, KillIsolate)
	if p.Mode == KillContainer {
		oneOf(v, join(path, "signal"), p.Signal, SIGKILL, SIGTERM)
	} else if v.present(join(path, "signal")) {
		v.errorf(join(path, "signal"), "a signal kills a node's container: mode %s does not send one", p.Mode)
	}
	hold := v.duration(join(path, "holdFor"), p.HoldFor, p.Mode.ByAgent())
	if hold && p.Mode == KillIsolate && p.HoldFor < MinIsolateHold {
		v.errorf(join(path, "holdFor"), "%s is shorter than %s: an isolated node comes back on its agent's clock, and the survivors must have taken over from it by then (the controller manager's lease alone lasts 15 s)", p.HoldFor, MinIsolateHold)
	}
	if limit := s.Objectives.MaxDuration; hold && limit > 0 && limit <= p.HoldFor {
		v.errorf("objectives.maxDuration", "%s is not longer than %s %s, which the drill always spends", limit, join(path, "holdFor"), p.HoldFor)
	}
	v.duration(join(path, "rejoinTimeout"), p.RejoinTimeout, true)
}
