package velero

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/drill-sre/drill/internal/kube"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/label"
)

// RestoreInput is the input of Restore.
type RestoreInput struct {
	Name   string
	Backup string
	// IncludedNamespaces restricts the restore to some of the backup's
	// namespaces; none means all of them.
	IncludedNamespaces []string
	// PreserveNodePorts keeps the node ports of restored Services, which
	// Velero otherwise lets the API server allocate anew when they were
	// allocated the first time: clients outside the cluster reach the
	// restored app where they reached it before.
	PreserveNodePorts bool
	Labels            map[string]string
	// Timeout bounds each wait: for the backup to be in the cluster
	// (synced from the location after a reinstall), then for the restore to
	// end.
	Timeout time.Duration
	// Resume waits for a Restore of this name that exists already (one an
	// earlier process created) instead of refusing to create it twice.
	Resume bool
}

// RestoreResult is what Velero reported of one restore.
type RestoreResult struct {
	Name   string                `json:"name"`
	Backup string                `json:"backup"`
	Phase  velerov1.RestorePhase `json:"phase"`
	// Created is when the Restore was created (with Resume, when this
	// process asked to create it), Observed when its final phase was first
	// seen, on this process's clock.
	Created  time.Time `json:"created"`
	Observed time.Time `json:"observed,omitzero"`
	// Started and Completed are Velero's own timestamps, to the second.
	Started   time.Time `json:"started,omitzero"`
	Completed time.Time `json:"completed,omitzero"`
	// Items restored out of TotalItems.
	Items            int      `json:"items"`
	TotalItems       int      `json:"totalItems"`
	Errors           int      `json:"errors"`
	Warnings         int      `json:"warnings"`
	FailureReason    string   `json:"failureReason,omitempty"`
	ValidationErrors []string `json:"validationErrors,omitempty"`
	// Volumes are the pod volumes restored by the node agent.
	Volumes []Volume `json:"volumes,omitempty"`
}

// Restore waits until the backup is in the cluster and ended, creates a
// Restore of it, and waits until Velero ends the restore, logging progress.
// A restore that ends other than Completed is an error that gives Velero's
// reasons, as Backup's does. The result is returned in every case, as far as
// it is known.
//
// Velero restores nothing that still exists: delete what the drill destroys
// before restoring it. Completed covers the pod volumes (Velero waits for
// them), but a drill still checks the data itself.
func (v *Velero) Restore(ctx context.Context, in RestoreInput) (RestoreResult, error) {
	if err := v.check(); err != nil {
		return RestoreResult{}, err
	}
	if in.Name == "" || in.Backup == "" {
		return RestoreResult{}, errors.New("velero restore: a name and a backup are required")
	}
	timeout := v.timeout(in.Timeout)
	what := "restore " + objectName(v.Namespace, in.Name)
	res := RestoreResult{Name: in.Name, Backup: in.Backup}

	b := &velerov1.Backup{}
	err := v.waitFor(ctx, timeout, fmt.Sprintf("backup %s to restore from", objectName(v.Namespace, in.Backup)), func(ctx context.Context) (bool, string, error) {
		err := v.Client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: in.Backup}, b)
		switch {
		case apierrors.IsNotFound(err):
			return false, "not in the cluster: waiting for Velero to sync it from the location", nil
		case err != nil:
			return false, err.Error(), nil
		}
		return restorable(b)
	})
	if err != nil {
		return res, fmt.Errorf("%s: %w", what, err)
	}

	r := &velerov1.Restore{
		ObjectMeta: metav1.ObjectMeta{Namespace: v.Namespace, Name: in.Name, Labels: kube.ManagedLabels(in.Labels)},
		Spec:       velerov1.RestoreSpec{BackupName: in.Backup, IncludedNamespaces: in.IncludedNamespaces, PreserveNodePorts: &in.PreserveNodePorts},
	}
	res.Created = time.Now()
	switch err := v.Client.Create(ctx, r); {
	case apierrors.IsAlreadyExists(err) && in.Resume:
		v.logger().V(0).Infof("Waiting for %s, which exists already", what)
	case apierrors.IsAlreadyExists(err):
		return res, fmt.Errorf("%s already exists: restores are named once", what)
	case err != nil:
		return res, fmt.Errorf("create %s: %w", what, err)
	default:
		v.logger().V(0).Infof("Restoring backup %s (%s): %s", in.Backup, namespaces(in.IncludedNamespaces), what)
	}

	err = v.waitFor(ctx, timeout, what, func(ctx context.Context) (bool, string, error) {
		if err := v.Client.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return false, err.Error(), nil
		}
		res.fill(r)
		if vols, err := v.podVolumeRestores(ctx, in.Name); err == nil {
			res.Volumes = vols
		}
		done := restoreEnded(r.Status.Phase)
		if done {
			res.Observed = time.Now()
		}
		return done, res.progress(), nil
	})
	if err != nil {
		return res, err
	}
	if vols, err := v.podVolumeRestores(ctx, in.Name); err == nil {
		res.Volumes = vols
	}
	if res.Phase != velerov1.RestorePhaseCompleted {
		return res, res.failure(v.Namespace)
	}
	v.logger().V(0).Infof("%s: Completed, %d items, %s, %d warnings (%s by Velero's clock)",
		what, res.Items, DescribeVolumes(res.Volumes), res.Warnings, res.Completed.Sub(res.Started))
	return res, nil
}

// restorable tells whether a restore can start from backup b: it has ended
// with its data stored (Completed, or PartiallyFailed as Velero allows).
func restorable(b *velerov1.Backup) (bool, string, error) {
	switch p := b.Status.Phase; p {
	case velerov1.BackupPhaseCompleted, velerov1.BackupPhasePartiallyFailed:
		return true, string(p), nil
	case velerov1.BackupPhaseFailed, velerov1.BackupPhaseFailedValidation, velerov1.BackupPhaseDeleting:
		return false, "", fmt.Errorf("backup %s is %s: there is nothing to restore", objectName(b.Namespace, b.Name), p)
	case "":
		return false, "not yet picked up by Velero", nil
	default:
		return false, string(p) + ": waiting for it to end", nil
	}
}

// restoreEnded tells whether Velero is done with a restore in phase p.
func restoreEnded(p velerov1.RestorePhase) bool {
	switch p {
	case velerov1.RestorePhaseCompleted, velerov1.RestorePhasePartiallyFailed, velerov1.RestorePhaseFailed,
		velerov1.RestorePhaseFailedValidation:
		return true
	}
	return false
}

func (r *RestoreResult) fill(rs *velerov1.Restore) {
	s := rs.Status
	r.Phase = s.Phase
	r.Started, r.Completed = timeOf(s.StartTimestamp), timeOf(s.CompletionTimestamp)
	if p := s.Progress; p != nil {
		r.Items, r.TotalItems = p.ItemsRestored, p.TotalItems
	}
	r.Errors, r.Warnings = s.Errors, s.Warnings
	r.FailureReason, r.ValidationErrors = s.FailureReason, s.ValidationErrors
}

func (r *RestoreResult) progress() string {
	if r.Phase == "" {
		return "not yet picked up by Velero"
	}
	return progressText(string(r.Phase), "restored", r.Items, r.TotalItems, r.Volumes)
}

func (r *RestoreResult) failure(namespace string) error {
	return outcomeError("restore", objectName(namespace, r.Name), string(r.Phase), r.FailureReason, r.ValidationErrors,
		r.Errors, r.Warnings, r.Volumes, "velero restore logs "+r.Name)
}

// podVolumeRestores lists the restore's PodVolumeRestores, by volume.
func (v *Velero) podVolumeRestores(ctx context.Context, restore string) ([]Volume, error) {
	list := &velerov1.PodVolumeRestoreList{}
	if err := v.Client.List(ctx, list, client.InNamespace(v.Namespace),
		client.MatchingLabels{velerov1.RestoreNameLabel: label.GetValidName(restore)}); err != nil {
		return nil, fmt.Errorf("list the pod volume restores of restore %s: %w", restore, err)
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
