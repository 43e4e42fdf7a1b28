package scenarios

import (
	"fmt"
	"time"

	cron "github.com/netresearch/go-cron"
	"k8s.io/apimachinery/pkg/util/validation"
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
	// drill creates for the workload's namespace under a name of its own
	// ("0 2 * * *", as `velero schedule create drill-daily-backup
	// --schedule`), and the drill's backup is made from that Schedule's
	// template. It is checked as Velero checks it. Optional: by default the
	// drill creates a Backup of the namespace directly.
	Schedule string `yaml:"schedule"`
	// BackupLocation, when set, is an existing BackupStorageLocation of
	// the Velero in namespace velero that the drill backs up to, which must
	// be Available. The drill then installs no Velero (it uses the one
	// there, whoever installed it), creates no location, no credentials and
	// no S3 store, and changes nothing of that location. Optional: by
	// default the drill backs up to its own location, drill-s3, in its own
	// S3 store.
	BackupLocation string `yaml:"backupLocation"`
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
	if p.Schedule != "" {
		if err := parseCron(p.Schedule); err != nil {
			v.errorf(join(path, "schedule"), "%s is not a cron schedule Velero accepts: %s; want minute hour day-of-month month day-of-week, "+
				"as \"0 2 * * *\", or a descriptor such as @daily", quote(p.Schedule), clip(err.Error()))
		}
	}
	if p.BackupLocation != "" || v.present(join(path, "backupLocation")) {
		if errs := validation.IsDNS1123Subdomain(p.BackupLocation); len(errs) > 0 {
			v.errorf(join(path, "backupLocation"), "%s is not the name of a backup storage location: %s", quote(p.BackupLocation), errs[0])
		}
	}
	v.duration(join(path, "writeAfterBackup"), p.WriteAfterBackup, false)
	v.duration(join(path, "backupTimeout"), p.BackupTimeout, false)
	v.duration(join(path, "restoreTimeout"), p.RestoreTimeout, true)
	if s.Workload != nil && !s.Workload.Persistent {
		v.errorf("workload.persistent", "velero-restore restores the workload's volume: set persistent: true")
	}
}

// parseCron parses a Schedule's cron expression with the parser and options
// Velero v1.18's schedule controller uses (go-cron's ParseStandard: five
// fields, or a descriptor). Velero recovers from a panic of the parser;
// so does this.
func parseCron(spec string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	_, err = cron.ParseStandard(spec)
	return err
}
