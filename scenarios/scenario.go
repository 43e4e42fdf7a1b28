// Package scenarios holds drill definitions and the Go that loads them.
//
// A drill file (scenarios/*.yaml) says what to break and how much recovery is
// acceptable: the fault and its parameters, the nodes it may act on, the
// workload it disrupts, and the recovery objectives the measurements are
// judged against. How a fault is injected, sampled and reverted is Go's
// business, elsewhere.
//
// Files are decoded strictly (see Parse): an unknown field at any depth, a
// value of the wrong type, a duration that is missing, zero, negative or
// unparsable, an unknown fault, or an objective the fault cannot measure is an
// error that names the file, the line and column, the field path and the
// reason. The shipped drills are embedded in the binary (see Shipped).
package scenarios

import (
	"slices"
	"time"
)

// Scenario is one drill, as declared in one file. Durations are written as
// strings that time.ParseDuration reads ("30s", "1m30s"). A zero duration in
// an optional field means "not declared".
type Scenario struct {
	// Name identifies the drill in reports and JUnit: a DNS-1123 label,
	// unique among the files loaded together.
	Name string `yaml:"name"`
	// Description says what the drill proves, for the report. Required.
	Description string `yaml:"description"`
	// Target narrows the nodes a node fault may act on. Optional; see Target.
	Target Target `yaml:"target"`
	// Seed drives every random choice the drill makes (a random node, a
	// random etcd member), so that a run can be repeated. Default 0.
	Seed int64 `yaml:"seed"`
	// Fault is what the drill breaks. Required.
	Fault Fault `yaml:"fault"`
	// Workload is the application fixture deployed for the drill and measured
	// while it runs. Required by the faults that act on workloads
	// (drain-zone; crashloop-pods unless its params.namespace names a
	// Deployment of its own) and by the app objectives.
	Workload *Workload `yaml:"workload"`
	// Sampling sets how often the samplers observe the cluster.
	Sampling Sampling `yaml:"sampling"`
	// Objectives are the bounds the measurements are judged against. At
	// least one is required, and each must be measurable by the fault (see
	// Measurable).
	Objectives Objectives `yaml:"objectives"`

	// File is where the drill was loaded from, as given to the loader; empty
	// for a Scenario built in Go.
	File string `yaml:"-"`
	// Source is the file's content as loaded, kept in the fault's journal
	// so that drill recover reads the same drill even when the file has
	// changed or is gone.
	Source string `yaml:"-"`
}

// Role is a node's role in the cluster.
type Role string

// Node roles.
const (
	RoleControlPlane Role = "control-plane"
	RoleWorker       Role = "worker"
)

// Target selects the nodes a node fault may act on: those with Role, in Zone
// (label topology.kubernetes.io/zone), matching Selector. Each field is
// optional; Role defaults to the role the fault acts on (control-plane for
// kill-control-plane and remove-etcd-member, worker for drain-zone).
//
// Zone and Selector only narrow a choice the fault makes among several nodes
// (target or member "random", member "follower", the nodes of a drained
// zone); a fault that acts on the etcd leader goes wherever the leader is.
// crashloop-pods acts on a Deployment, not on nodes, and takes no target.
type Target struct {
	Role Role `yaml:"role"`
	// Selector is a Kubernetes label selector ("k=v,k2 in (a,b),!k3").
	Selector string `yaml:"selector"`
	Zone     string `yaml:"zone"`
}

// IsZero reports whether no field of t is set.
func (t Target) IsZero() bool { return t == Target{} }

// Sampling sets how the samplers observe the cluster.
type Sampling struct {
	// Interval between two samples. Default 100ms. Every declared RTO must
	// be at least one interval: a shorter bound cannot be told from zero.
	Interval time.Duration `yaml:"interval"`
	// Timeout is how long one sample may take before it counts as failed:
	// an answer slower than this is unavailability. Default 5s; at least
	// Interval.
	Timeout time.Duration `yaml:"timeout"`
}

// Sampling defaults.
const (
	DefaultSamplingInterval = 100 * time.Millisecond
	DefaultSamplingTimeout  = 5 * time.Second
)

// FaultType names a fault.
type FaultType string

// The faults drill knows.
const (
	// FaultKillControlPlane kills a control-plane node (its container, with
	// Signal) and waits for it to rejoin. Params: *KillControlPlaneParams.
	FaultKillControlPlane FaultType = "kill-control-plane"
	// FaultRemoveEtcdMember removes a member from etcd, then adds it back
	// as a fresh member. Params: *RemoveEtcdMemberParams.
	FaultRemoveEtcdMember FaultType = "remove-etcd-member"
	// FaultDrainZone cordons and drains every targeted node of a zone,
	// through the eviction API, so PodDisruptionBudgets apply. Params:
	// *DrainZoneParams.
	FaultDrainZone FaultType = "drain-zone"
	// FaultCrashloopPods makes a Deployment's pods crash until they reach
	// CrashLoopBackOff, holds them there, and reverts. Params:
	// *CrashloopPodsParams.
	FaultCrashloopPods FaultType = "crashloop-pods"
	// FaultEtcdRestore snapshots etcd on a schedule, destroys etcd's data
	// (a disaster), and restores every member from the newest snapshot
	// taken before it. Params: *EtcdRestoreParams.
	FaultEtcdRestore FaultType = "etcd-restore"
	// FaultVeleroRestore backs the workload's namespace up with Velero,
	// deletes the namespace (a disaster), and restores it from the backup.
	// Params: *VeleroRestoreParams.
	FaultVeleroRestore FaultType = "velero-restore"
	// FaultMemoryHog runs a memory hog on one node that keeps the node's
	// memory in use at a fraction of its total, holds it there, and stops
	// it. Params: *MemoryHogParams.
	FaultMemoryHog FaultType = "memory-hog"
)

// Fault is what a drill breaks: a type and that type's parameters.
type Fault struct {
	Type FaultType `yaml:"type"`
	// Params is the typed parameter struct of Type, one of the *Params
	// types of this package.
	Params FaultParams `yaml:"params"`
}

// FaultParams is one fault's parameter struct. The set is closed: the
// implementations are the *Params types of this package.
type FaultParams interface {
	// FaultType is the fault these parameters are for.
	FaultType() FaultType
	validate(v *validator, s *Scenario, path string)
	setDefaults(present func(path string) bool, path string)
}

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

// EtcdMember is the member remove-etcd-member removes.
type EtcdMember string

// etcd members.
const (
	MemberLeader   EtcdMember = "leader"
	MemberFollower EtcdMember = "follower" // chosen with the drill's seed
	MemberRandom   EtcdMember = "random"   // chosen with the drill's seed
)

// RemoveEtcdMemberParams are the parameters of remove-etcd-member.
type RemoveEtcdMemberParams struct {
	// Member is the member to remove. Required.
	Member EtcdMember `yaml:"member"`
	// ReaddTimeout bounds the wait for the member, added back with an empty
	// data directory, to catch up and be healthy. Required.
	ReaddTimeout time.Duration `yaml:"readdTimeout"`
}

// FaultType implements FaultParams.
func (*RemoveEtcdMemberParams) FaultType() FaultType { return FaultRemoveEtcdMember }

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

// PodState is a state crashloop-pods drives pods into.
type PodState string

// PodStateCrashLoopBackOff is the kubelet's back-off after repeated crashes,
// as shown in a container's waiting reason.
const PodStateCrashLoopBackOff PodState = "CrashLoopBackOff"

// CrashloopPodsParams are the parameters of crashloop-pods.
type CrashloopPodsParams struct {
	// Deployment whose pods crash. Required. Without Namespace, it must be
	// the drill's workload (its Deployment is named after its fixture).
	Deployment string `yaml:"deployment"`
	// Namespace of an existing Deployment that drill does not create.
	// Optional: by default, the namespace drill creates for the workload.
	Namespace string `yaml:"namespace"`
	// Until is the state the pods must reach before the hold starts.
	// Default CrashLoopBackOff, the only state supported.
	Until PodState `yaml:"until"`
	// HoldFor is how long the pods are kept crashing once they reached
	// Until, before the fault is reverted. Required.
	HoldFor time.Duration `yaml:"holdFor"`
}

// FaultType implements FaultParams.
func (*CrashloopPodsParams) FaultType() FaultType { return FaultCrashloopPods }

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

// Disaster is what etcd-restore destroys.
type Disaster string

// Disasters.
const (
	// DisasterQuorumLoss stops the etcd members of two control-plane nodes
	// and deletes their data: the cluster loses quorum.
	DisasterQuorumLoss Disaster = "quorum-loss"
	// DisasterTotalLoss stops every member and deletes all of etcd's data.
	DisasterTotalLoss Disaster = "total-loss"
)

// EtcdRestoreParams are the parameters of etcd-restore.
type EtcdRestoreParams struct {
	// Disaster is what is destroyed. Required.
	Disaster Disaster `yaml:"disaster"`
	// SnapshotInterval is the backup schedule: a snapshot is taken through
	// the etcd v3 client when the drill starts and then every interval, and
	// verified. Required.
	SnapshotInterval time.Duration `yaml:"snapshotInterval"`
	// DisasterAfter is how long after the first snapshot the disaster
	// strikes. Default one and a half snapshot intervals, so that the
	// newest snapshot is half an interval old at the disaster.
	DisasterAfter time.Duration `yaml:"disasterAfter"`
	// RestoreTimeout bounds the restore: every member restored, etcd
	// healthy, every API server ready. Required.
	RestoreTimeout time.Duration `yaml:"restoreTimeout"`
}

// FaultType implements FaultParams.
func (*EtcdRestoreParams) FaultType() FaultType { return FaultEtcdRestore }

// VeleroRestoreParams are the parameters of velero-restore. The workload
// must be persistent: its records live on a volume that Velero backs up
// with its file-system backup.
type VeleroRestoreParams struct {
	// Schedule, when set, is the cron schedule of a Velero Schedule the
	// drill creates for the workload's namespace ("0 2 * * *", as `velero
	// schedule create daily-backup --schedule`), and the drill's backup is
	// made from that Schedule's template. Optional: by default the drill
	// creates a Backup of the namespace directly.
	Schedule string `yaml:"schedule"`
	// WriteAfterBackup is how long the workload keeps taking writes after
	// the backup completed, before the disaster. Default 20s.
	WriteAfterBackup time.Duration `yaml:"writeAfterBackup"`
	// BackupTimeout bounds installing Velero and the backup. Default 5m.
	BackupTimeout time.Duration `yaml:"backupTimeout"`
	// RestoreTimeout bounds the restore: Velero's Restore completed and the
	// workload available. Required.
	RestoreTimeout time.Duration `yaml:"restoreTimeout"`
}

// FaultType implements FaultParams.
func (*VeleroRestoreParams) FaultType() FaultType { return FaultVeleroRestore }

// Fixture names an application fixture drill knows how to deploy.
type Fixture string

// FixtureProbeApp is drill's probe application: an HTTP server behind a
// Service, probed from outside for app availability. Its Deployment is
// named probe-app.
const FixtureProbeApp Fixture = "probe-app"

// Workload is the application fixture a drill deploys and measures.
type Workload struct {
	// Fixture is the application. Required: "probe-app".
	Fixture Fixture `yaml:"fixture"`
	// Replicas of its Deployment, spread over the zones. Default 3.
	Replicas int `yaml:"replicas"`
	// PDB, when set, gives the workload a PodDisruptionBudget.
	PDB *PDB `yaml:"pdb"`
	// Persistent keeps the app's records on a PersistentVolumeClaim instead
	// of an emptyDir. The volume is ReadWriteOnce: replicas must be 1.
	Persistent bool `yaml:"persistent"`
}

// DefaultReplicas is Workload.Replicas when a drill does not set it.
const DefaultReplicas = 3

// PDB is a workload's PodDisruptionBudget: exactly one of MinAvailable and
// MaxUnavailable, as pod counts.
type PDB struct {
	MinAvailable   *int `yaml:"minAvailable"`
	MaxUnavailable *int `yaml:"maxUnavailable"`
}

// Objective names a kind of recovery objective, as written under objectives.
type Objective string

// Objectives a drill may declare.
const (
	// ObjectiveRTOAPI bounds the time from injection to the end of the last
	// interval in which the Kubernetes API was unavailable to a new client:
	// /readyz through the load balancer over a new connection per request.
	// What a kept-alive connection saw is reported beside it, not judged: it
	// depends on which server the connection happened to be pinned to.
	ObjectiveRTOAPI Objective = "rto.api"
	// ObjectiveRTOApp bounds the same for the workload, probed through its
	// Service.
	ObjectiveRTOApp Objective = "rto.app"
	// ObjectiveRPO bounds acknowledged writes to the API (etcd) that are
	// lost, as a count and/or as a time window.
	ObjectiveRPO Objective = "rpo"
	// ObjectiveAvailability bounds the workload's Ready pods from below.
	ObjectiveAvailability Objective = "availability"
	// ObjectivePDB says the workload's PodDisruptionBudget must hold.
	ObjectivePDB Objective = "pdb"
	// ObjectiveMaxDuration bounds the whole drill, injection to recovery.
	ObjectiveMaxDuration Objective = "maxDuration"
	// ObjectiveAlerts expects and forbids alerts (schema only for now).
	ObjectiveAlerts Objective = "alerts"
	// ObjectiveIntegrity bounds the corrupted records found when the
	// workload's restored records are read back and their checksums
	// checked.
	ObjectiveIntegrity Objective = "integrity"
)

// measurable is what each fault's samplers observe, hence the objectives a
// drill with that fault may declare:
//
//   - the control-plane faults sample the API through the load balancer and
//     write to it: rto.api and rpo;
//   - the workload faults sample the workload's Service, its Ready pods and
//     its PodDisruptionBudget: rto.app, availability and pdb;
//   - every drill is timed and may judge alerts: maxDuration and alerts.
var measurable = map[FaultType][]Objective{
	FaultKillControlPlane: {ObjectiveRTOAPI, ObjectiveRPO, ObjectiveMaxDuration, ObjectiveAlerts},
	FaultRemoveEtcdMember: {ObjectiveRTOAPI, ObjectiveRPO, ObjectiveMaxDuration, ObjectiveAlerts},
	FaultDrainZone:        {ObjectiveRTOApp, ObjectiveAvailability, ObjectivePDB, ObjectiveMaxDuration, ObjectiveAlerts},
	FaultCrashloopPods:    {ObjectiveRTOApp, ObjectiveAvailability, ObjectivePDB, ObjectiveMaxDuration, ObjectiveAlerts},
	FaultEtcdRestore:      {ObjectiveRTOAPI, ObjectiveRTOApp, ObjectiveRPO, ObjectiveAvailability, ObjectiveMaxDuration, ObjectiveAlerts},
	FaultVeleroRestore:    {ObjectiveRTOApp, ObjectiveRPO, ObjectiveIntegrity, ObjectiveMaxDuration, ObjectiveAlerts},
	FaultMemoryHog:        {ObjectiveMaxDuration, ObjectiveAlerts},
}

// newParams returns an empty parameter struct for each fault type.
var newParams = map[FaultType]func() FaultParams{
	FaultKillControlPlane: func() FaultParams { return &KillControlPlaneParams{} },
	FaultRemoveEtcdMember: func() FaultParams { return &RemoveEtcdMemberParams{} },
	FaultDrainZone:        func() FaultParams { return &DrainZoneParams{} },
	FaultCrashloopPods:    func() FaultParams { return &CrashloopPodsParams{} },
	FaultEtcdRestore:      func() FaultParams { return &EtcdRestoreParams{} },
	FaultVeleroRestore:    func() FaultParams { return &VeleroRestoreParams{} },
	FaultMemoryHog:        func() FaultParams { return &MemoryHogParams{} },
}

// FaultTypes returns every fault type, sorted.
func FaultTypes() []FaultType {
	ts := make([]FaultType, 0, len(newParams))
	for t := range newParams {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// Measurable returns the objectives a drill with fault t may declare, or nil
// for an unknown fault.
func Measurable(t FaultType) []Objective {
	return slices.Clone(measurable[t])
}

// Objectives are a drill's declared bounds. Each is optional; a drill declares
// at least one.
type Objectives struct {
	RTO          *RTO          `yaml:"rto"`
	RPO          *RPO          `yaml:"rpo"`
	Availability *Availability `yaml:"availability"`
	PDB          *PDBObjective `yaml:"pdb"`
	// MaxDuration bounds the drill from injection to full recovery (the
	// fault reverted and everything sampled available again). 0: not
	// declared.
	MaxDuration time.Duration `yaml:"maxDuration"`
	Alerts      *Alerts       `yaml:"alerts"`
	Integrity   *Integrity    `yaml:"integrity"`
}

// Declared returns the objectives o declares, in the order of the constants.
func (o Objectives) Declared() []Objective {
	var d []Objective
	if o.RTO != nil && o.RTO.API != 0 {
		d = append(d, ObjectiveRTOAPI)
	}
	if o.RTO != nil && o.RTO.App != 0 {
		d = append(d, ObjectiveRTOApp)
	}
	if o.RPO != nil {
		d = append(d, ObjectiveRPO)
	}
	if o.Availability != nil {
		d = append(d, ObjectiveAvailability)
	}
	if o.PDB != nil {
		d = append(d, ObjectivePDB)
	}
	if o.MaxDuration != 0 {
		d = append(d, ObjectiveMaxDuration)
	}
	if o.Alerts != nil {
		d = append(d, ObjectiveAlerts)
	}
	if o.Integrity != nil {
		d = append(d, ObjectiveIntegrity)
	}
	return d
}

// RTO bounds recovery times: each is the longest acceptable time from the
// injection to the end of the last unavailability interval. 0: not declared;
// at least one is.
type RTO struct {
	API time.Duration `yaml:"api"`
	App time.Duration `yaml:"app"`
}

// RPO bounds data loss; at least one field is declared.
type RPO struct {
	// MaxLostWrites is the most acknowledged writes that may be missing
	// after recovery; 0 is a valid bound. nil: not declared.
	MaxLostWrites *int `yaml:"maxLostWrites"`
	// MaxDataLoss bounds the window of acknowledged time whose newest
	// writes are gone: from the newest write acknowledged before the fault
	// that survived to the newest acknowledged before it. 0: not declared;
	// to allow no loss at all, declare MaxLostWrites 0.
	MaxDataLoss time.Duration `yaml:"maxDataLoss"`
}

// Availability bounds the workload's availability during the drill.
type Availability struct {
	// MinReady is the fewest Ready pods of the workload acceptable at any
	// sample. Required, between 1 and the workload's replicas.
	MinReady int `yaml:"minReady"`
}

// Integrity bounds the records that come back corrupted.
type Integrity struct {
	// MaxCorrupted is the most records whose checksum may fail; 0 is the
	// usual bound. Required.
	MaxCorrupted *int `yaml:"maxCorrupted"`
}

// PDBObjective judges the workload's PodDisruptionBudget.
type PDBObjective struct {
	// NeverViolated: the budget's healthy pods never fall below its desired
	// healthy count at any sample. Requires a workload PDB.
	NeverViolated bool `yaml:"neverViolated"`
}

// Alerts expects and forbids Prometheus alerts during the drill. They are
// measured from Prometheus' ALERTS series over the drill's window: an
// expected alert holds the fault in place until it fires (or firingWithin
// passes), and the drill keeps watching after the revert until it resolves
// (or resolvedWithin passes).
type Alerts struct {
	Expect []ExpectedAlert  `yaml:"expect"`
	Forbid *ForbiddenAlerts `yaml:"forbid"`
}

// ExpectedAlert is an alert that must fire, and may have to resolve, within
// bounds counted from the injection.
type ExpectedAlert struct {
	// Name is the alertname. Required.
	Name string `yaml:"name"`
	// Labels the firing alert must carry, beside its name. In a value,
	// {{.Namespace}} stands for the drill's namespace (its workload's), so
	// that an alert about pods can be narrowed to the drill's own.
	Labels map[string]string `yaml:"labels"`
	// FiringWithin bounds the time to firing. Required.
	FiringWithin time.Duration `yaml:"firingWithin"`
	// ResolvedWithin bounds the time from the end of the revert until the
	// alert no longer fires. 0: not judged.
	ResolvedWithin time.Duration `yaml:"resolvedWithin"`
	// Finding, when set, is what the alert firing shows, written into the
	// report's findings with what was measured: an alert a drill expects
	// because it is wrong (a page while the service served).
	Finding string `yaml:"finding"`
}

// ForbiddenAlerts are alerts that must not fire during the drill: those
// named, and those with the given severity label that are not expected.
// Alerts already firing before the injection are not the drill's doing and
// are not counted.
type ForbiddenAlerts struct {
	Names    []string `yaml:"names"`
	Severity string   `yaml:"severity"`
}
