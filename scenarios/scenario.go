// Package scenarios holds drill definitions and the Go that loads them.
//
// A drill file (scenarios/*.yaml) says what to break and how much recovery is
// acceptable: the fault and its parameters, the nodes it may act on, the
// workload it disrupts, and the recovery objectives the measurements are
// judged against. How a fault is injected, sampled and reverted is Go's
// business, elsewhere.
//
// Files are decoded strictly (see Parse): an unknown field at any depth, a
// value of the wrong type or out of range, a duration that is missing, zero,
// negative or unparsable, an unknown fault, or an objective the fault cannot
// measure is an error that names the file, the line and column, the field
// path and the reason. A file is UTF-8 text of at most MaxFileSize; the
// first MaxErrors errors of a file are listed, and the others counted. The
// shipped drills are embedded in the binary (see Shipped).
//
// Each fault's parameters are declared in a file of their own,
// params_<fault>.go, but a fault type is known to the loaders only once it is
// registered (RegisterFault), with the objectives it can measure and the
// role of the nodes it acts on. Package internal/faults registers every
// fault it implements: a program that loads drill files imports it.
package scenarios

import "time"

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
// kill-control-plane and remove-etcd-member, worker for drain-zone and
// memory-hog: FaultKind's DefaultRole).
//
// Zone and Selector only narrow a choice the fault makes among several nodes
// (target or member "random", member "follower", the nodes of a drained
// zone); a fault that acts on the etcd leader goes wherever the leader is.
// crashloop-pods acts on a Deployment, not on nodes, and takes no target; nor
// do etcd-restore and velero-restore.
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
	// Interval between two samples. Default 100ms; at least
	// MinSamplingInterval. Every declared RTO must be at least one
	// interval: a shorter bound cannot be told from zero.
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

// MinSamplingInterval is the shortest sampling interval: each sampler sends
// the cluster a request every interval, with no rate limit, and the RPO
// writer writes a record, so that a shorter one floods the API server and
// etcd that the drill measures.
const MinSamplingInterval = 10 * time.Millisecond

// FaultType names a fault. The faults drill knows are declared each in its
// own file, params_<fault>.go, with its parameters, and are known to the
// loaders once registered (see RegisterFault).
type FaultType string

// Fault is what a drill breaks: a type and that type's parameters.
type Fault struct {
	Type FaultType `yaml:"type"`
	// Params is the typed parameter struct of Type, as its FaultKind's
	// NewParams returns it.
	Params FaultParams `yaml:"params"`
}

// FaultParams is one fault's parameter struct: a pointer to a struct whose
// fields are decoded as strictly as the rest of the file. The parameters of
// the faults drill ships are the *Params types of this package, which also
// fill their defaults and check their values against the whole drill (see
// paramsChecker); another package's (a test's fake fault) are decoded only.
type FaultParams interface {
	// FaultType is the fault these parameters are for.
	FaultType() FaultType
}

// NamespaceTargeter is implemented by the parameters of workload faults
// that may name a namespace drill does not create: the guard lets them act
// only in namespaces drill created or the cluster's opt-in lists.
type NamespaceTargeter interface {
	// TargetNamespace is the namespace named, "" for the drill's own.
	TargetNamespace() string
}

// paramsChecker is implemented by the parameter structs of this package.
type paramsChecker interface {
	// setDefaults fills the fields the file left out; present tells which
	// fields it wrote, so that an explicit zero stays and is reported.
	setDefaults(present func(path string) bool, path string)
	// validate checks the parameters, at path, against the drill s.
	validate(v *validator, s *Scenario, path string)
}

// The rules a fault type sets on the rest of its drill, implemented by the
// parameter structs of the faults that have them. They hold whatever the
// file's params are, so they are asked of an empty struct (FaultKind's
// NewParams).
type (
	// nodeless is a fault that acts on no node (its kind has no default
	// role), whose drill takes no target: actsOn says what it acts on
	// instead, as "acts on X, not on nodes".
	nodeless interface{ actsOn() string }
	// roleBound is a fault that acts only on nodes of one role.
	roleBound interface{ onlyRole() Role }
	// workloadBound is a fault that disrupts the drill's workload, whose
	// drill s must declare one.
	workloadBound interface{ needsWorkload(s *Scenario) bool }
)

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

// objectives are the Objective constants, in order.
var objectives = []Objective{ObjectiveRTOAPI, ObjectiveRTOApp, ObjectiveRPO, ObjectiveAvailability,
	ObjectivePDB, ObjectiveMaxDuration, ObjectiveAlerts, ObjectiveIntegrity}

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
	// Labels the firing alert must carry, beside its name: Prometheus label
	// names. In a value, NamespaceVar ({{.Namespace}}) stands for the
	// drill's namespace (its workload's), so that an alert about pods can
	// be narrowed to the drill's own; it is the only template.
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

// NamespaceVar in an expected alert's label value stands for the drill's
// namespace (the workload's, or the one drill made for the drill), which is
// only known when the drill runs: `namespace: "{{.Namespace}}"` narrows an
// alert to the drill's own pods. No other template is expanded, and a value
// with one is an error.
const NamespaceVar = "{{.Namespace}}"

// ForbiddenAlerts are alerts that must not fire during the drill: those
// named, and those with the given severity label that are not expected.
// Alerts already firing before the injection are not the drill's doing and
// are not counted.
type ForbiddenAlerts struct {
	Names    []string `yaml:"names"`
	Severity string   `yaml:"severity"`
}
