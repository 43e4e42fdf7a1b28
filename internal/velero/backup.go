package velero

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/label"

	"github.com/drill-sre/drill/internal/kube"
)

// BackupInput is the input of Backup.
type BackupInput struct {
	Name string
	// IncludedNamespaces are the namespaces backed up; none means all.
	IncludedNamespaces []string
	// TTL is how long Velero keeps the backup; 0 is Velero's default (30
	// days).
	TTL time.Duration
	// StorageLocation defaults to drill's location (LocationName).
	StorageLocation string
	// Labels are set on the Backup, e.g. to find a drill run's backups.
	Labels map[string]string
	// Timeout bounds the wait for the backup to end.
	Timeout time.Duration
}

// BackupResult is what Velero reported of one backup.
type BackupResult struct {
	Name  string               `json:"name"`
	Phase velerov1.BackupPhase `json:"phase"`
	// Created is when the Backup was created, Observed when its final phase
	// was first seen, on this process's clock.
	Created  time.Time `json:"created"`
	Observed time.Time `json:"observed,omitzero"`
	// Started and Completed are Velero's own timestamps, to the second.
	Started   time.Time `json:"started,omitzero"`
	Completed time.Time `json:"completed,omitzero"`
	// Items backed up out of TotalItems.
	Items      int `json:"items"`
	TotalItems int `json:"totalItems"`
	// Errors and Warnings count what Velero logged for the backup.
	Errors           int      `json:"errors"`
	Warnings         int      `json:"warnings"`
	FailureReason    string   `json:"failureReason,omitempty"`
	ValidationErrors []string `json:"validationErrors,omitempty"`
	// Volumes are the pod volumes backed up with file-system backup.
	Volumes []Volume `json:"volumes,omitempty"`
}

// Volume is one pod volume's file-system backup or restore: a
// PodVolumeBackup or PodVolumeRestore.
type Volume struct {
	// Name is the PodVolumeBackup's or PodVolumeRestore's.
	Name string `json:"name"`
	// Pod is namespace/name of the pod the volume belongs to.
	Pod    string `json:"pod"`
	Volume string `json:"volume"`
	Phase  string `json:"phase"`
	// BytesDone out of TotalBytes.
	BytesDone  int64     `json:"bytesDone"`
	TotalBytes int64     `json:"totalBytes"`
	Message    string    `json:"message,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	Completed  time.Time `json:"completed,omitzero"`
}

// Failed tells whether the volume's backup or restore ended short of
// Completed.
func (v Volume) Failed() bool {
	return v.Phase == string(velerov1.PodVolumeBackupPhaseFailed) || v.Phase == string(velerov1.PodVolumeBackupPhaseCanceled)
}

// Backup creates a Backup of the included namespaces, with every pod volume
// backed up by the node agent (file-system backup), and waits until Velero
// ends it, logging progress. A backup that ends other than Completed
// (PartiallyFailed, Failed, FailedValidation) is an error that gives
// Velero's reasons: its failure reason, validation errors, error count and
// the pod volumes that failed. The result is returned in every case, as far
// as it is known.
//
// Completed does not prove the data is there: Velero skips hostPath volumes
// (local-path PVCs not annotated volumeType: local) with only a warning in
// its log. Check Volumes, and the data after the restore.
func (v *Velero) Backup(ctx context.Context, in BackupInput) (BackupResult, error) {
	if err := v.check(); err != nil {
		return BackupResult{}, err
	}
	if in.Name == "" {
		return BackupResult{}, errors.New("velero backup: a name is required")
	}
	if in.StorageLocation == "" {
		in.StorageLocation = LocationName
	}
	b := &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{Namespace: v.Namespace, Name: in.Name, Labels: kube.ManagedLabels(in.Labels)},
		Spec: velerov1.BackupSpec{
			IncludedNamespaces:       in.IncludedNamespaces,
			TTL:                      metav1.Duration{Duration: in.TTL},
			StorageLocation:          in.StorageLocation,
			DefaultVolumesToFsBackup: ptr.To(true),
		},
	}
	what := "backup " + objectName(v.Namespace, in.Name)
	res := BackupResult{Name: in.Name, Created: time.Now()}
	if err := v.Client.Create(ctx, b); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return res, fmt.Errorf("%s already exists: backups are named once", what)
		}
		return res, fmt.Errorf("create %s: %w", what, err)
	}
	v.logger().V(0).Infof("Backing up %s into %s", namespaces(in.IncludedNamespaces), what)

	err := v.waitFor(ctx, v.timeout(in.Timeout), what, func(ctx context.Context) (bool, string, error) {
		if err := v.Client.Get(ctx, client.ObjectKeyFromObject(b), b); err != nil {
			return false, err.Error(), nil
		}
		res.fill(b)
		vols, _ := v.podVolumeBackups(ctx, in.Name)
		if vols != nil {
			res.Volumes = vols
		}
		done := backupEnded(b.Status.Phase)
		if done {
			res.Observed = time.Now()
		}
		return done, res.progress(), nil
	})
	if err != nil {
		return res, err
	}
	if vols, verr := v.podVolumeBackups(ctx, in.Name); verr == nil {
		res.Volumes = vols
	}
	if res.Phase != velerov1.BackupPhaseCompleted {
		return res, res.failure(v.Namespace)
	}
	v.logger().V(0).Infof("%s: Completed, %d items, %s, %d warnings (%s by Velero's clock)",
		what, res.Items, DescribeVolumes(res.Volumes), res.Warnings, res.Completed.Sub(res.Started))
	return res, nil
}

// backupEnded tells whether Velero is done with a backup in phase p.
func backupEnded(p velerov1.BackupPhase) bool {
	switch p {
	case velerov1.BackupPhaseCompleted, velerov1.BackupPhasePartiallyFailed, velerov1.BackupPhaseFailed,
		velerov1.BackupPhaseFailedValidation, velerov1.BackupPhaseDeleting:
		return true
	}
	return false
}

func (r *BackupResult) fill(b *velerov1.Backup) {
	s := b.Status
	r.Phase = s.Phase
	r.Started, r.Completed = timeOf(s.StartTimestamp), timeOf(s.CompletionTimestamp)
	if p := s.Progress; p != nil {
		r.Items, r.TotalItems = p.ItemsBackedUp, p.TotalItems
	}
	r.Errors, r.Warnings = s.Errors, s.Warnings
	r.FailureReason, r.ValidationErrors = s.FailureReason, s.ValidationErrors
}

// progress describes the backup as it stands.
func (r *BackupResult) progress() string {
	if r.Phase == "" {
		return "not yet picked up by Velero"
	}
	return progressText(string(r.Phase), "backed up", r.Items, r.TotalItems, r.Volumes)
}

// progressText describes a backup's or restore's progress.
func progressText(phase, done string, items, total int, vols []Volume) string {
	desc := fmt.Sprintf("%s, %d/%d items %s", phase, items, total, done)
	if len(vols) > 0 {
		desc += ", " + DescribeVolumes(vols)
	}
	return desc
}

// failure says why a backup ended short of Completed.
func (r *BackupResult) failure(namespace string) error {
	return outcomeError("backup", objectName(namespace, r.Name), string(r.Phase), r.FailureReason, r.ValidationErrors,
		r.Errors, r.Warnings, r.Volumes, "velero backup logs "+r.Name)
}

// outcomeError builds the error of a backup or restore that ended in phase:
// every reason Velero recorded.
func outcomeError(kind, name, phase, reason string, validation []string, nerrors, nwarnings int, vols []Volume, logs string) error {
	var why []string
	if reason != "" {
		why = append(why, "failure reason: "+reason)
	}
	if len(validation) > 0 {
		why = append(why, "validation errors: "+strings.Join(validation, "; "))
	}
	if nerrors > 0 || nwarnings > 0 {
		why = append(why, fmt.Sprintf("%d errors, %d warnings (`%s` lists them)", nerrors, nwarnings, logs))
	}
	for _, v := range vols {
		if v.Failed() {
			msg := fmt.Sprintf("pod volume %s of %s: %s", v.Volume, v.Pod, v.Phase)
			if v.Message != "" {
				msg += ": " + v.Message
			}
			why = append(why, msg)
		}
	}
	if len(why) == 0 {
		why = append(why, "Velero gave no reason")
	}
	return fmt.Errorf("%s %s ended %s: %s", kind, name, phase, strings.Join(why, "; "))
}

// podVolumeBackups lists the backup's PodVolumeBackups, by volume.
func (v *Velero) podVolumeBackups(ctx context.Context, backup string) ([]Volume, error) {
	list := &velerov1.PodVolumeBackupList{}
	if err := v.Client.List(ctx, list, client.InNamespace(v.Namespace),
		client.MatchingLabels{velerov1.BackupNameLabel: label.GetValidName(backup)}); err != nil {
		return nil, fmt.Errorf("list the pod volume backups of backup %s: %w", backup, err)
	}
	vols := make([]Volume, 0, len(list.Items))
	for _, p := range list.Items {
		vols = append(vols, Volume{
			Name: p.Name, Pod: objectName(p.Spec.Pod.Namespace, p.Spec.Pod.Name), Volume: p.Spec.Volume,
			Phase: string(p.Status.Phase), BytesDone: p.Status.Progress.BytesDone, TotalBytes: p.Status.Progress.TotalBytes,
			Message: p.Status.Message, Started: timeOf(p.Status.StartTimestamp), Completed: timeOf(p.Status.CompletionTimestamp),
		})
	}
	sortVolumes(vols)
	return vols, nil
}

func sortVolumes(vols []Volume) {
	slices.SortFunc(vols, func(a, b Volume) int {
		return strings.Compare(a.Pod+"/"+a.Volume, b.Pod+"/"+b.Volume)
	})
}

// DescribeVolumes sums up pod volumes: how many are done, and their bytes.
func DescribeVolumes(vols []Volume) string {
	if len(vols) == 0 {
		return "no pod volumes"
	}
	done, failed := 0, 0
	var bytes, total int64
	for _, v := range vols {
		switch {
		case v.Phase == string(velerov1.PodVolumeBackupPhaseCompleted):
			done++
		case v.Failed():
			failed++
		}
		bytes += v.BytesDone
		total += v.TotalBytes
	}
	desc := fmt.Sprintf("%d/%d pod volumes done (%d/%d bytes)", done, len(vols), bytes, total)
	if failed > 0 {
		desc += fmt.Sprintf(", %d failed", failed)
	}
	return desc
}

func namespaces(ns []string) string {
	if len(ns) == 0 {
		return "all namespaces"
	}
	return "namespaces " + strings.Join(ns, ", ")
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// ScheduleInput is the input of Schedule.
type ScheduleInput struct {
	Name string
	// Cron is when backups are taken, in cron syntax ("0 2 * * *"), in the
	// server's time zone.
	Cron string
	// Template is each backup's spec. Unless it says otherwise, pod
	// volumes are backed up by the node agent (DefaultVolumesToFsBackup),
	// to drill's location (LocationName).
	Template velerov1.BackupSpec
	// SkipImmediately: no backup at creation, only at the Cron times.
	SkipImmediately bool
	Labels          map[string]string
	// Timeout bounds the wait for Velero to accept the schedule.
	Timeout time.Duration
}

// Schedule creates a Schedule, as `velero schedule create NAME
// --schedule CRON` does, or replaces the spec of the one of that name if
// drill created it (Owned; one that is not drill's is refused), and waits
// until Velero enables it. A schedule Velero refuses (FailedValidation: a bad cron
// expression) is an error with its reasons.
func (v *Velero) Schedule(ctx context.Context, in ScheduleInput) (*velerov1.Schedule, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	if in.Name == "" || in.Cron == "" {
		return nil, errors.New("velero schedule: a name and a cron expression are required")
	}
	spec := velerov1.ScheduleSpec{Template: in.Template, Schedule: in.Cron, SkipImmediately: ptr.To(in.SkipImmediately)}
	// The backups it takes are drill's too.
	spec.Template.Metadata.Labels = kube.ManagedLabels(spec.Template.Metadata.Labels)
	if spec.Template.DefaultVolumesToFsBackup == nil {
		spec.Template.DefaultVolumesToFsBackup = ptr.To(true)
	}
	if spec.Template.StorageLocation == "" {
		spec.Template.StorageLocation = LocationName
	}
	what := "schedule " + objectName(v.Namespace, in.Name)
	s := &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: v.Namespace, Name: in.Name, Labels: kube.ManagedLabels(in.Labels)}, Spec: spec}
	err := v.Client.Create(ctx, s)
	if apierrors.IsAlreadyExists(err) {
		if err = v.Client.Get(ctx, client.ObjectKeyFromObject(s), s); err == nil && !Owned(s) {
			return nil, errors.New(notDrills(what))
		}
		if err == nil {
			// Schedules have no status subresource: clearing the status
			// makes Velero validate the new spec afresh, as if created.
			s.Spec, s.Status = spec, velerov1.ScheduleStatus{}
			for k, val := range in.Labels {
				if s.Labels == nil {
					s.Labels = map[string]string{}
				}
				s.Labels[k] = val
			}
			err = v.Client.Update(ctx, s)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", what, err)
	}
	v.logger().V(0).Infof("Scheduled backups of %s at %q: %s", namespaces(spec.Template.IncludedNamespaces), in.Cron, what)
	err = v.waitFor(ctx, v.timeout(in.Timeout), what+" enabled", func(ctx context.Context) (bool, string, error) {
		if err := v.Client.Get(ctx, client.ObjectKeyFromObject(s), s); err != nil {
			return false, err.Error(), nil
		}
		return scheduleVerdict(s)
	})
	if err != nil {
		return s, err
	}
	return s, nil
}

// scheduleVerdict reads a schedule's phase: done when Enabled, an error when
// Velero refused it.
func scheduleVerdict(s *velerov1.Schedule) (bool, string, error) {
	if s.Status.Phase == "" {
		return false, "not yet validated", nil
	}
	switch s.Status.Phase {
	case velerov1.SchedulePhaseEnabled:
		return true, "Enabled", nil
	case velerov1.SchedulePhaseFailedValidation:
		return false, "", fmt.Errorf("schedule %s refused by Velero: %s", objectName(s.Namespace, s.Name), strings.Join(s.Status.ValidationErrors, "; "))
	default:
		return false, string(s.Status.Phase), nil
	}
}
