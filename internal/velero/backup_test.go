package velero

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/vmware-tanzu/velero/pkg/apis/velero/shared"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

var (
	t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(7 * time.Second)
)

// steps plays Velero's controller: each read of an object of type T gets
// the next status of its list (the last one sticks).
type steps[T client.Object] struct {
	mu  sync.Mutex
	seq []func(T)
	n   int
}

func (s *steps[T]) funcs() *interceptor.Funcs {
	return &interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if err := c.Get(ctx, key, obj, opts...); err != nil {
			return err
		}
		if o, ok := obj.(T); ok && len(s.seq) > 0 {
			s.mu.Lock()
			s.seq[min(s.n, len(s.seq)-1)](o)
			s.n++
			s.mu.Unlock()
		}
		return nil
	}}
}

func backupStatus(st velerov1.BackupStatus) func(*velerov1.Backup) {
	return func(b *velerov1.Backup) { b.Status = st }
}

func pvb(name, backup, pod, volume string, phase velerov1.PodVolumeBackupPhase, bytes int64, msg string) *velerov1.PodVolumeBackup {
	return &velerov1.PodVolumeBackup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: name, Labels: map[string]string{velerov1.BackupNameLabel: backup}},
		Spec:       velerov1.PodVolumeBackupSpec{Pod: corev1.ObjectReference{Namespace: "app", Name: pod}, Volume: volume},
		Status: velerov1.PodVolumeBackupStatus{Phase: phase, Message: msg,
			Progress: shared.DataMoveOperationProgress{TotalBytes: bytes, BytesDone: bytes}},
	}
}

func TestBackupCompleted(t *testing.T) {
	s := &steps[*velerov1.Backup]{seq: []func(*velerov1.Backup){
		backupStatus(velerov1.BackupStatus{}),
		backupStatus(velerov1.BackupStatus{Phase: velerov1.BackupPhaseInProgress, StartTimestamp: &metav1.Time{Time: t0},
			Progress: &velerov1.BackupProgress{TotalItems: 10, ItemsBackedUp: 4}}),
		backupStatus(velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, StartTimestamp: &metav1.Time{Time: t0},
			CompletionTimestamp: &metav1.Time{Time: t1}, Warnings: 1,
			Progress: &velerov1.BackupProgress{TotalItems: 10, ItemsBackedUp: 10}}),
	}}
	v, c := newFake(t, s.funcs(),
		pvb("nightly-b", "nightly", "writer-0", "data", velerov1.PodVolumeBackupPhaseCompleted, 4096, ""),
		pvb("nightly-a", "nightly", "writer-0", "cache", velerov1.PodVolumeBackupPhaseCompleted, 100, ""),
		pvb("other-a", "other", "writer-0", "data", velerov1.PodVolumeBackupPhaseFailed, 0, "not ours"))
	res, err := v.Backup(t.Context(), BackupInput{Name: "nightly", IncludedNamespaces: []string{"app"}, TTL: time.Hour, Labels: map[string]string{"drill": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Phase != velerov1.BackupPhaseCompleted || !res.Started.Equal(t0) || !res.Completed.Equal(t1) ||
		res.Items != 10 || res.TotalItems != 10 || res.Warnings != 1 || res.Errors != 0 {
		t.Errorf("result %+v", res)
	}
	if res.Created.IsZero() || res.Observed.Before(res.Created) {
		t.Errorf("created %s, observed %s", res.Created, res.Observed)
	}
	if len(res.Volumes) != 2 || res.Volumes[0].Volume != "cache" || res.Volumes[1].Volume != "data" ||
		res.Volumes[1].Pod != "app/writer-0" || res.Volumes[1].TotalBytes != 4096 {
		t.Errorf("volumes %+v, want cache and data of app/writer-0, not the other backup's", res.Volumes)
	}
	b := &velerov1.Backup{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "velero", Name: "nightly"}, b); err != nil {
		t.Fatal(err)
	}
	if b.Spec.DefaultVolumesToFsBackup == nil || !*b.Spec.DefaultVolumesToFsBackup || b.Spec.TTL.Duration != time.Hour ||
		len(b.Spec.IncludedNamespaces) != 1 || b.Spec.IncludedNamespaces[0] != "app" || b.Labels["drill"] != "x" {
		t.Errorf("backup spec %+v labels %v", b.Spec, b.Labels)
	}
	if _, err := v.Backup(t.Context(), BackupInput{Name: "nightly"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second backup of the same name: %v", err)
	}
}

func TestBackupFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status velerov1.BackupStatus
		vols   []client.Object
		want   []string
	}{
		{
			name: "failed",
			status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseFailed, Errors: 1,
				FailureReason: "error checking if backup already exists in object storage: rpc error: connection refused"},
			want: []string{"backup velero/b1 ended Failed", "failure reason: error checking if backup already exists", "1 errors, 0 warnings", "velero backup logs b1"},
		},
		{
			name:   "partially failed",
			status: velerov1.BackupStatus{Phase: velerov1.BackupPhasePartiallyFailed, Errors: 2, Warnings: 3},
			vols: []client.Object{
				pvb("b1-x", "b1", "db-0", "data", velerov1.PodVolumeBackupPhaseFailed, 0, "error running kopia: repository not initialized"),
				pvb("b1-y", "b1", "db-1", "data", velerov1.PodVolumeBackupPhaseCompleted, 10, ""),
			},
			want: []string{"ended PartiallyFailed", "2 errors, 3 warnings", "pod volume data of app/db-0: Failed: error running kopia: repository not initialized"},
		},
		{
			name: "failed validation",
			status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseFailedValidation,
				ValidationErrors: []string{`an existing backup storage location was not specified at backup creation time and the default "default" was not found`}},
			want: []string{"ended FailedValidation", "validation errors: an existing backup storage location"},
		},
		{
			name:   "no reason",
			status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseFailed},
			want:   []string{"ended Failed: Velero gave no reason"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &steps[*velerov1.Backup]{seq: []func(*velerov1.Backup){backupStatus(tc.status)}}
			v, _ := newFake(t, s.funcs(), tc.vols...)
			res, err := v.Backup(t.Context(), BackupInput{Name: "b1", IncludedNamespaces: []string{"app"}})
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if res.Phase != tc.status.Phase || len(res.Volumes) != len(tc.vols) {
				t.Errorf("result %+v: want phase %s and %d volumes", res, tc.status.Phase, len(tc.vols))
			}
			if strings.Contains(err.Error(), "b1-y") || strings.Contains(err.Error(), "db-1") {
				t.Errorf("error %q names a volume that completed", err)
			}
		})
	}
}

func TestBackupTimeoutQuotesProgress(t *testing.T) {
	s := &steps[*velerov1.Backup]{seq: []func(*velerov1.Backup){backupStatus(velerov1.BackupStatus{
		Phase: velerov1.BackupPhaseInProgress, Progress: &velerov1.BackupProgress{TotalItems: 9, ItemsBackedUp: 3}})}}
	v, _ := newFake(t, s.funcs())
	res, err := v.Backup(t.Context(), BackupInput{Name: "slow", Timeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "InProgress, 3/9 items backed up") {
		t.Errorf("got %v, want a timeout quoting the progress", err)
	}
	if res.Phase != velerov1.BackupPhaseInProgress || !res.Observed.IsZero() {
		t.Errorf("result %+v", res)
	}
	if _, err := v.Backup(t.Context(), BackupInput{}); err == nil {
		t.Error("no name: want an error")
	}
}

func restoreStatus(st velerov1.RestoreStatus) func(*velerov1.Restore) {
	return func(r *velerov1.Restore) { r.Status = st }
}

func pvr(name, restore, pod, volume string, phase velerov1.PodVolumeRestorePhase, bytes int64, msg string) *velerov1.PodVolumeRestore {
	return &velerov1.PodVolumeRestore{
		ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: name, Labels: map[string]string{velerov1.RestoreNameLabel: restore}},
		Spec:       velerov1.PodVolumeRestoreSpec{Pod: corev1.ObjectReference{Namespace: "app", Name: pod}, Volume: volume},
		Status: velerov1.PodVolumeRestoreStatus{Phase: phase, Message: msg,
			Progress: shared.DataMoveOperationProgress{TotalBytes: bytes, BytesDone: bytes}},
	}
}

func completedBackup(name string) *velerov1.Backup {
	return &velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: name},
		Status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted}}
}

func TestRestoreCompleted(t *testing.T) {
	s := &steps[*velerov1.Restore]{seq: []func(*velerov1.Restore){
		restoreStatus(velerov1.RestoreStatus{Phase: velerov1.RestorePhaseInProgress, StartTimestamp: &metav1.Time{Time: t0}}),
		restoreStatus(velerov1.RestoreStatus{Phase: velerov1.RestorePhaseCompleted, StartTimestamp: &metav1.Time{Time: t0},
			CompletionTimestamp: &metav1.Time{Time: t1}, Progress: &velerov1.RestoreProgress{TotalItems: 8, ItemsRestored: 8}}),
	}}
	v, c := newFake(t, s.funcs(), completedBackup("nightly"),
		pvr("r1-a", "r1", "writer-0", "data", velerov1.PodVolumeRestorePhaseCompleted, 4096, ""))
	res, err := v.Restore(t.Context(), RestoreInput{Name: "r1", Backup: "nightly", PreserveNodePorts: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Phase != velerov1.RestorePhaseCompleted || res.Backup != "nightly" || !res.Started.Equal(t0) || !res.Completed.Equal(t1) ||
		res.Items != 8 || len(res.Volumes) != 1 || res.Volumes[0].BytesDone != 4096 || res.Volumes[0].Pod != "app/writer-0" {
		t.Errorf("result %+v", res)
	}
	r := &velerov1.Restore{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "velero", Name: "r1"}, r); err != nil || r.Spec.BackupName != "nightly" ||
		r.Spec.PreserveNodePorts == nil || !*r.Spec.PreserveNodePorts {
		t.Errorf("restore %+v: %v; want backup nightly, node ports preserved", r.Spec, err)
	}
}

// A Restore that exists already is an error, unless the caller resumes it
// (an earlier process created it): then it is waited for.
func TestRestoreResume(t *testing.T) {
	s := &steps[*velerov1.Restore]{seq: []func(*velerov1.Restore){
		restoreStatus(velerov1.RestoreStatus{Phase: velerov1.RestorePhaseCompleted, StartTimestamp: &metav1.Time{Time: t0},
			CompletionTimestamp: &metav1.Time{Time: t1}}),
	}}
	earlier := &velerov1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: "r1"}, Spec: velerov1.RestoreSpec{BackupName: "nightly"}}
	v, _ := newFake(t, s.funcs(), completedBackup("nightly"), earlier)
	if _, err := v.Restore(t.Context(), RestoreInput{Name: "r1", Backup: "nightly"}); err == nil ||
		!strings.Contains(err.Error(), "restore velero/r1 already exists: restores are named once") {
		t.Errorf("without Resume: got %v", err)
	}
	res, err := v.Restore(t.Context(), RestoreInput{Name: "r1", Backup: "nightly", Resume: true})
	if err != nil || res.Phase != velerov1.RestorePhaseCompleted || !res.Completed.Equal(t1) {
		t.Errorf("with Resume: %+v, %v", res, err)
	}
}

func TestRestorePartiallyFailed(t *testing.T) {
	s := &steps[*velerov1.Restore]{seq: []func(*velerov1.Restore){
		restoreStatus(velerov1.RestoreStatus{Phase: velerov1.RestorePhasePartiallyFailed, Errors: 1}),
	}}
	v, _ := newFake(t, s.funcs(), completedBackup("nightly"),
		pvr("r1-a", "r1", "writer-0", "data", velerov1.PodVolumeRestorePhaseFailed, 0, "error restoring volume: target directory not empty"))
	res, err := v.Restore(t.Context(), RestoreInput{Name: "r1", Backup: "nightly"})
	for _, w := range []string{"restore velero/r1 ended PartiallyFailed", "1 errors", "velero restore logs r1", "pod volume data of app/writer-0: Failed: error restoring volume: target directory not empty"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
	if res.Phase != velerov1.RestorePhasePartiallyFailed {
		t.Errorf("result %+v", res)
	}
}

func TestRestoreWaitsForTheBackup(t *testing.T) {
	// After a reinstall, Velero syncs the backup from the location: the
	// restore waits for it.
	v, c := newFake(t, nil)
	go func() {
		time.Sleep(30 * time.Millisecond) // the sync, later
		_ = c.Create(context.Background(), completedBackup("synced"))
	}()
	_, err := v.Restore(t.Context(), RestoreInput{Name: "r1", Backup: "synced", Timeout: 200 * time.Millisecond})
	// The fake has no Velero to end the restore: the wait for the backup
	// passed, the wait for the restore timed out.
	if err == nil || !strings.Contains(err.Error(), "waiting") || !strings.Contains(err.Error(), "restore velero/r1") ||
		!strings.Contains(err.Error(), "not yet picked up") {
		t.Errorf("got %v, want a timeout on the restore itself", err)
	}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "velero", Name: "r1"}, &velerov1.Restore{}); err != nil {
		t.Errorf("the restore was not created: %v", err)
	}
}

func TestRestoreRefusesAFailedBackup(t *testing.T) {
	failed := completedBackup("bad")
	failed.Status.Phase = velerov1.BackupPhaseFailed
	v, c := newFake(t, nil, failed)
	_, err := v.Restore(t.Context(), RestoreInput{Name: "r1", Backup: "bad"})
	if err == nil || !strings.Contains(err.Error(), "backup velero/bad is Failed") {
		t.Errorf("got %v", err)
	}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "velero", Name: "r1"}, &velerov1.Restore{}); err == nil {
		t.Error("a restore was created from a failed backup")
	}
	if _, err := v.Restore(t.Context(), RestoreInput{Name: "r2", Backup: "missing", Timeout: 30 * time.Millisecond}); err == nil ||
		!strings.Contains(err.Error(), "waiting for Velero to sync it") {
		t.Errorf("a backup that never comes: %v", err)
	}
}

func TestSchedule(t *testing.T) {
	s := &steps[*velerov1.Schedule]{seq: []func(*velerov1.Schedule){
		func(s *velerov1.Schedule) { s.Status.Phase = velerov1.SchedulePhaseNew },
		func(s *velerov1.Schedule) { s.Status.Phase = velerov1.SchedulePhaseEnabled },
	}}
	v, c := newFake(t, s.funcs())
	in := ScheduleInput{Name: "daily-backup", Cron: "0 2 * * *", Template: velerov1.BackupSpec{IncludedNamespaces: []string{"app"}}}
	got, err := v.Schedule(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Schedule != "0 2 * * *" || got.Spec.Template.DefaultVolumesToFsBackup == nil || !*got.Spec.Template.DefaultVolumesToFsBackup ||
		got.Spec.SkipImmediately == nil || *got.Spec.SkipImmediately {
		t.Errorf("schedule spec %+v", got.Spec)
	}
	// Again, with another cron: the spec is replaced.
	in.Cron = "*/5 * * * *"
	if _, err := v.Schedule(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	stored := &velerov1.Schedule{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "velero", Name: "daily-backup"}, stored); err != nil || stored.Spec.Schedule != "*/5 * * * *" {
		t.Errorf("stored schedule %q: %v", stored.Spec.Schedule, err)
	}
}

func TestScheduleRefused(t *testing.T) {
	s := &steps[*velerov1.Schedule]{seq: []func(*velerov1.Schedule){func(s *velerov1.Schedule) {
		s.Status.Phase, s.Status.ValidationErrors = velerov1.SchedulePhaseFailedValidation, []string{"invalid schedule: expected exactly 5 fields, found 1: [nightly]"}
	}}}
	v, _ := newFake(t, s.funcs())
	_, err := v.Schedule(t.Context(), ScheduleInput{Name: "bad", Cron: "nightly"})
	if err == nil || !strings.Contains(err.Error(), "schedule velero/bad refused by Velero: invalid schedule: expected exactly 5 fields") {
		t.Errorf("got %v", err)
	}
	if _, err := v.Schedule(t.Context(), ScheduleInput{Name: "x"}); err == nil {
		t.Error("no cron: want an error")
	}
}

func TestDescribeVolumes(t *testing.T) {
	vols := []Volume{
		{Phase: "Completed", BytesDone: 10, TotalBytes: 10},
		{Phase: "InProgress", BytesDone: 5, TotalBytes: 20},
		{Phase: "Failed"},
	}
	if got, want := DescribeVolumes(vols), "1/3 pod volumes done (15/30 bytes), 1 failed"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := DescribeVolumes(nil); got != "no pod volumes" {
		t.Errorf("got %q", got)
	}
}
