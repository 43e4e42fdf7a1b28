package scenarios

import (
	"strings"
	"time"
)

// FaultVeleroRestore backs the workload's namespace up with Velero, deletes
// the namespace (a disaster), and restores it from the backup. Params:
// *VeleroRestoreParams.
const FaultVeleroRestore FaultType = "velero-restore"

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

func (*VeleroRestoreParams) actsOn() string { return "acts on the workload's namespace, not on nodes" }

func (*VeleroRestoreParams) needsWorkload(*Scenario) bool { return true }

func (p *VeleroRestoreParams) setDefaults(present func(string) bool, path string) {
	if p.WriteAfterBackup == 0 && !present(join(path, "writeAfterBackup")) {
		p.WriteAfterBackup = 20 * time.Second
	}
	if p.BackupTimeout == 0 && !present(join(path, "backupTimeout")) {
		p.BackupTimeout = 5 * time.Minute
	}
}

func (p *VeleroRestoreParams) validate(v *validator, s *Scenario, path string) {
	// Velero validates the expression itself (a Schedule it cannot parse
	// fails validation); this catches the shape early.
	if f := strings.Fields(p.Schedule); p.Schedule != "" && len(f) != 5 && !strings.HasPrefix(p.Schedule, "@") {
		v.errorf(join(path, "schedule"), "%q is not a cron schedule: want 5 fields (minute hour day month weekday), as \"0 2 * * *\"", p.Schedule)
	}
	v.duration(join(path, "writeAfterBackup"), p.WriteAfterBackup, false)
	v.duration(join(path, "backupTimeout"), p.BackupTimeout, false)
	v.duration(join(path, "restoreTimeout"), p.RestoreTimeout, true)
	if s.Workload != nil && !s.Workload.Persistent {
		v.errorf("workload.persistent", "velero-restore restores the workload's volume: set persistent: true")
	}
}
