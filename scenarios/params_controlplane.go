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

// KillControlPlaneParams are the parameters of kill-control-plane.
type KillControlPlaneParams struct {
	// Target is the node to kill. Required.
	Target ControlPlaneTarget `yaml:"target"`
	// Signal kills the node's container. Default SIGKILL.
	Signal Signal `yaml:"signal"`
	// RejoinTimeout bounds the wait, after the node is started again, for
	// it to be Ready and its etcd member healthy. Required.
	RejoinTimeout time.Duration `yaml:"rejoinTimeout"`
}

// FaultType implements FaultParams.
func (*KillControlPlaneParams) FaultType() FaultType { return FaultKillControlPlane }

func (*KillControlPlaneParams) onlyRole() Role { return RoleControlPlane }

func (p *KillControlPlaneParams) setDefaults(present func(string) bool, path string) {
	if p.Signal == "" && !present(join(path, "signal")) {
		p.Signal = SIGKILL
	}
}

func (p *KillControlPlaneParams) validate(v *validator, s *Scenario, path string) {
	if oneOf(v, join(path, "target"), p.Target, TargetEtcdLeader, TargetControllerManagerLeader, TargetRandom) &&
		p.Target != TargetRandom {
		notNarrowed(v, s, join(path, "target"), p.Target)
	}
	oneOf(v, join(path, "signal"), p.Signal, SIGKILL, SIGTERM)
	v.duration(join(path, "rejoinTimeout"), p.RejoinTimeout, true)
}
