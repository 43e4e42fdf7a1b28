package scenarios

import "time"

// FaultEtcdRestore snapshots etcd on a schedule, destroys etcd's data (a
// disaster), and restores every member from the newest snapshot taken
// before it. Params: *EtcdRestoreParams.
const FaultEtcdRestore FaultType = "etcd-restore"

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

func (*EtcdRestoreParams) actsOn() string {
	return "acts on every etcd member (quorum-loss picks two with the seed)"
}

func (p *EtcdRestoreParams) setDefaults(present func(string) bool, path string) {
	if p.DisasterAfter == 0 && !present(join(path, "disasterAfter")) {
		p.DisasterAfter = p.SnapshotInterval * 3 / 2
	}
}

func (p *EtcdRestoreParams) validate(v *validator, s *Scenario, path string) {
	oneOf(v, join(path, "disaster"), p.Disaster, DisasterQuorumLoss, DisasterTotalLoss)
	interval := join(path, "snapshotInterval")
	if v.duration(interval, p.SnapshotInterval, true) && p.SnapshotInterval < time.Second {
		v.errorf(interval, "%s is shorter than 1s: a snapshot of the whole keyspace takes longer than that", p.SnapshotInterval)
	}
	v.duration(join(path, "disasterAfter"), p.DisasterAfter, false)
	v.duration(join(path, "restoreTimeout"), p.RestoreTimeout, true)
}
