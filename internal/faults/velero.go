package faults

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/kube"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/velero"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var veleroRestoreSpec = Register(Spec{
	Type:           scenarios.FaultVeleroRestore,
	Params:         func() scenarios.FaultParams { return &scenarios.VeleroRestoreParams{} },
	Measurable:     []scenarios.Objective{scenarios.ObjectiveRTOApp, scenarios.ObjectiveRPO, scenarios.ObjectiveIntegrity, scenarios.ObjectiveMaxDuration, scenarios.ObjectiveAlerts},
	Samplers:       SampleAppRecords,
	Access:         drAccess,
	Target:         "namespace",
	Suite:          "restore",
	ClusterJournal: true,
	New:            newWith(newVeleroRestore),
})

// LocatorVelero is the locator of the Velero drill's steps.
const LocatorVelero = "velero"

// VeleroImages are the images a Velero drill runs: loaded into the nodes
// where the provider can, as there may be no registry to pull them from.
var VeleroImages = []string{velero.DefaultImage, velero.DefaultPluginImage, fixtures.S3StoreImage}

// ScheduleName is the Velero Schedule a drill with a schedule creates, as
// `velero schedule create drill-daily-backup` would: the seed's
// daily-backup under a name of drill's own, so that it is never a user's.
const ScheduleName = "drill-daily-backup"

// legacyScheduleName is the Schedule drills before ScheduleName created: a
// journal of theirs says only that there is one.
const legacyScheduleName = "daily-backup"

// veleroRestore backs the workload's namespace up with Velero (file-system
// backup of its volume), deletes the namespace, and restores it.
type veleroRestore struct {
	env Env
	sc  *scenarios.Scenario
	p   *scenarios.VeleroRestoreParams
	v   *velero.Velero
	c   client.Client
	// store deploys drill's S3 store and returns it (deployStore; a
	// test's own in tests).
	store func(context.Context) (velero.Store, error)

	run string // names this run's backup and restore

	mu       sync.Mutex
	backup   *velero.BackupResult
	restore  *velero.RestoreResult
	deleted  bool
	gone     time.Time // when the namespace was seen gone
	steps    stepLog
	location string // the backup location used
	schedule string // the Schedule the drill created, or was about to; "" none
	restored veleroRestoreProgress
}

var _ interface {
	Fault
	EffectChecker
	Measurer
	Timeline
	DataLossBound
	Journaled
	Planner
} = (*veleroRestore)(nil)

// veleroRestoreJournal is what restoring the namespace needs.
type veleroRestoreJournal struct {
	// Namespace and Deployment are the workload's.
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	// Run names the drill's backup and its restore.
	Run string `json:"run"`
	// Schedule: the drill created ScheduleName (or was about to), which the
	// revert deletes if it carries drill's label.
	Schedule bool `json:"schedule,omitempty"`
	// ScheduleName is that Schedule's name; "" with Schedule is
	// legacyScheduleName (a journal of an older drill).
	ScheduleName string `json:"scheduleName,omitempty"`
	// Location is the backup location the backups went to.
	Location string `json:"location,omitempty"`
	// Backup is the backup completed, "" before.
	Backup string `json:"backup,omitempty"`
	// Deleted: the namespace was deleted, or was about to be.
	Deleted bool `json:"deleted,omitempty"`
	// Restore is how far the restore got.
	Restore veleroRestoreProgress `json:"restore"`
}

// veleroRestoreProgress is how far the restore of the namespace got.
type veleroRestoreProgress struct {
	// Started: the namespace was gone and the Restore was created, or was
	// about to be.
	Started bool `json:"started,omitempty"`
	// Completed: Velero completed the Restore.
	Completed bool `json:"completed,omitempty"`
	// Available: the workload is available again.
	Available bool `json:"available,omitempty"`
}

// JournalState implements Journaled.
func (f *veleroRestore) JournalState() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	js := veleroRestoreJournal{Namespace: f.env.Namespace, Deployment: f.env.Deployment, Run: f.run,
		Schedule: f.schedule != "", ScheduleName: f.schedule, Location: f.location, Deleted: f.deleted, Restore: f.restored}
	if f.backup != nil && f.backup.Phase == velerov1.BackupPhaseCompleted {
		js.Backup = f.backup.Name
	}
	return js
}

// RestoreJournal implements Journaled.
func (f *veleroRestore) RestoreJournal(state json.RawMessage) error {
	var js veleroRestoreJournal
	if err := restoreJournal(state, &js); err != nil {
		return err
	}
	if js.Namespace == "" || js.Deployment == "" || js.Run == "" {
		return fmt.Errorf("restore journal: no workload or run name")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.env.Namespace, f.env.Deployment, f.run = js.Namespace, js.Deployment, js.Run
	f.schedule, f.location, f.deleted, f.restored = "", js.Location, js.Deleted, js.Restore
	if js.Schedule {
		f.schedule = cmp.Or(js.ScheduleName, legacyScheduleName)
	}
	f.backup = nil
	if js.Backup != "" {
		f.backup = &velero.BackupResult{Name: js.Backup, Phase: velerov1.BackupPhaseCompleted}
	}
	return nil
}

func newVeleroRestore(env Env, sc *scenarios.Scenario, p *scenarios.VeleroRestoreParams) (Fault, error) {
	if (env.Namespace == "" || env.Deployment == "") && !(env.DryRun && sc.Workload != nil) {
		return nil, fmt.Errorf("velero-restore: the drill deployed no workload to back up")
	}
	c, err := velero.NewClient(env.RESTConfig, env.Logger)
	if err != nil {
		return nil, err
	}
	v := velero.New(c, velero.DefaultNamespace, env.Logger)
	v.Timeout = p.BackupTimeout
	f := &veleroRestore{env: env, sc: sc, p: p, v: v, c: c, run: runName(time.Now()),
		steps: stepLog{locator: LocatorVelero, logger: env.Logger}}
	f.store = f.deployStore
	return f, nil
}

// runName names a drill's Backup and Restore: its start time, and a random
// suffix, so that two drills started in the same second (two clusters
// backing up to one store) do not share names.
func runName(now time.Time) string {
	return fmt.Sprintf("drill-%d-%s", now.Unix(), strings.ToLower(rand.Text()[:6]))
}

// Target sets the backup up: the S3 store and Velero installed, or a Velero
// drill did not install used as it is, the location to back up to ready,
// the Schedule created when one is declared, and a backup of the workload's
// namespace completed. Then the workload keeps taking writes for
// WriteAfterBackup.
func (f *veleroRestore) Target(ctx context.Context) (string, error) {
	if loader, ok := f.env.Provider.(cluster.ImageLoader); ok {
		t := time.Now()
		_, err := loader.LoadImages(ctx, VeleroImages...)
		f.steps.record("load Velero's and the S3 store's images into the nodes", t, err)
		if err != nil {
			return "", err
		}
	}
	location, err := f.prepare(ctx)
	if err != nil {
		return "", err
	}

	labels := map[string]string{kube.LabelManagedBy: kube.ManagedBy, "drill.sre/drill": f.sc.Name}
	namespaces := []string{f.env.Namespace}
	if f.p.Schedule != "" {
		f.mu.Lock()
		f.schedule = ScheduleName
		f.mu.Unlock()
		if err := f.env.step(ctx, "creating Schedule "+ScheduleName); err != nil {
			return "", err
		}
		t := time.Now()
		_, err := f.v.Schedule(ctx, velero.ScheduleInput{
			Name: ScheduleName, Cron: f.p.Schedule, SkipImmediately: true, Labels: labels,
			Template: velerov1.BackupSpec{IncludedNamespaces: namespaces, StorageLocation: location, DefaultVolumesToFsBackup: ptrTo(true)},
		})
		f.steps.record(fmt.Sprintf("Schedule %s (%s) created", ScheduleName, f.p.Schedule), t, err)
		if err != nil {
			return "", err
		}
		if err := f.env.step(ctx, "Schedule "+ScheduleName+" created"); err != nil {
			return "", err
		}
		// What `velero backup create --from-schedule` does: the
		// schedule's template, labelled with the schedule's name.
		labels[velerov1.ScheduleNameLabel] = ScheduleName
	}
	t := time.Now()
	res, err := f.v.Backup(ctx, velero.BackupInput{Name: f.run, IncludedNamespaces: namespaces, StorageLocation: location, Labels: labels, Timeout: f.p.BackupTimeout})
	f.mu.Lock()
	f.backup = &res
	f.mu.Unlock()
	f.steps.record(fmt.Sprintf("Backup %s to %s: %s, %d/%d items, %s", res.Name, location, res.Phase, res.Items, res.TotalItems, velero.DescribeVolumes(res.Volumes)), t, err)
	if err != nil {
		return "", err
	}
	if err := backedUpVolume(res.Volumes); err != nil {
		return "", fmt.Errorf("backup %s: %w", res.Name, err)
	}
	if err := f.env.step(ctx, "Backup "+res.Name+" completed"); err != nil {
		return "", err
	}
	f.env.Logger.V(0).Infof("backup %s completed; the workload keeps taking writes for %s", res.Name, f.p.WriteAfterBackup)
	if err := declaredHold(ctx, "writeAfterBackup", f.p.WriteAfterBackup); err != nil {
		return "", err
	}
	return fmt.Sprintf("namespace %s (deployment %s and its volume), backed up by Velero as %s to location %s", f.env.Namespace, f.env.Deployment, res.Name, location), nil
}

// prepare readies Velero and the location the drill backs up to, and
// returns the location's name; a Schedule name of drill's held by a user's
// Schedule is refused first. Drill installs Velero (with its S3 store,
// which f.store deploys, and its location velero.LocationName), unless Velero
// is there and drill did not install it: then drill changes nothing of it
// and adds only its own location, which needs the AWS plugin in that
// Velero. A location the user names (backupLocation) is used as it is, in
// the Velero there, whoever installed it: then drill installs nothing and
// creates no location, no credentials and no store.
func (f *veleroRestore) prepare(ctx context.Context) (string, error) {
	t := time.Now()
	inst, err := f.v.Installed(ctx)
	if err == nil && f.p.Schedule != "" {
		err = f.v.CheckSchedule(ctx, ScheduleName)
	}
	if err != nil {
		f.steps.record("look for Velero", t, err)
		return "", err
	}
	named := f.p.BackupLocation
	location := cmp.Or(named, velero.LocationName)
	f.mu.Lock()
	f.location = location
	f.mu.Unlock()
	if named != "" {
		return location, f.useLocation(ctx, inst, named)
	}
	if inst.IsForeign() {
		// Refused before drill's store is deployed for nothing.
		if err := f.waitServer(ctx, inst); err != nil {
			return location, err
		}
		if err := f.v.CheckAWSPlugin(ctx); err != nil {
			f.steps.record("the AWS plugin in that Velero", time.Now(), err)
			return location, err
		}
	}
	t = time.Now()
	store, err := f.store(ctx)
	f.steps.record("S3 store (versitygw) available in "+fixtures.S3StoreNamespace, t, err)
	if err != nil {
		return "", err
	}
	cfg := velero.InstallConfig{Store: store, Timeout: f.p.BackupTimeout}
	t = time.Now()
	if !inst.IsForeign() {
		err = f.v.Install(ctx, cfg)
		f.steps.record("Velero installed, its backup location "+location+" Available", t, err)
		return location, err
	}
	t = time.Now()
	err = f.v.AddLocation(ctx, cfg)
	f.steps.record("drill's backup location "+location+" added to that Velero, Available", t, err)
	return location, err
}

// waitServer waits for the server of a Velero drill uses as it is.
func (f *veleroRestore) waitServer(ctx context.Context, inst velero.Installation) error {
	t := time.Now()
	err := f.v.WaitServer(ctx, f.p.BackupTimeout)
	whose := "drill's"
	if inst.IsForeign() {
		whose = "not drill's (" + strings.Join(inst.Foreign, ", ") + ")"
	}
	f.steps.record("Velero there, "+whose+", used as it is: its server available", t, err)
	return err
}

// useLocation checks the Velero there and the user's location named, and
// changes nothing.
func (f *veleroRestore) useLocation(ctx context.Context, inst velero.Installation, named string) error {
	if !inst.Found {
		err := fmt.Errorf("fault.params.backupLocation names location %s, but no Velero is installed in namespace %s: "+
			"drill installs no Velero to back up to a location of the user's", named, f.v.Namespace)
		f.steps.record("look for Velero", time.Now(), err)
		return err
	}
	if err := f.waitServer(ctx, inst); err != nil {
		return err
	}
	t := time.Now()
	err := f.v.UseLocation(ctx, named, f.p.BackupTimeout)
	f.steps.record("the user's backup location "+named+" Available", t, err)
	return err
}

// Plan implements Planner. Target is not read-only (it installs Velero and
// takes the backup): Plan reads what is there instead, and says what Target
// would create or overwrite.
func (f *veleroRestore) Plan(ctx context.Context) (Plan, error) {
	ns, workload := f.env.Namespace, "deployment "+f.env.Deployment+" and its volume"
	if ns == "" {
		ns, workload = DryRunNamespace, plannedWorkload(f.sc)
	}
	inst, err := f.v.Installed(ctx)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Target: fmt.Sprintf("namespace %s (%s)", ns, workload)}
	add := func(format string, args ...any) { plan.Changes = append(plan.Changes, fmt.Sprintf(format, args...)) }
	if f.p.Schedule != "" {
		if err := f.v.CheckSchedule(ctx, ScheduleName); err != nil {
			add("a run would be refused before anything is created: %v", err)
		}
	}
	named := f.p.BackupLocation
	location := cmp.Or(named, velero.LocationName)
	switch {
	case named != "" && !inst.Found:
		add("a run would be refused: fault.params.backupLocation names location %s, but no Velero is installed in namespace %s", named, f.v.Namespace)
	case named != "":
		add("use the Velero in namespace %s as it is, and back up to the user's location %s/%s, which must be Available; install nothing, create no store, location or credentials", f.v.Namespace, f.v.Namespace, named)
	default:
		if loader, ok := f.env.Provider.(cluster.ImageLoader); ok && loader != nil {
			add("load %s into the nodes (provider %s)", strings.Join(VeleroImages, ", "), f.env.Provider.Name())
		}
		add("apply drill's S3 store %s in namespace %s, its keys in Secret %s/%s", fixtures.VeleroS3Store, fixtures.S3StoreNamespace, fixtures.S3StoreNamespace, fixtures.S3StoreSecret)
		if inst.IsForeign() {
			add("use the Velero in namespace %s as it is, not drill's (%s): install nothing of it (it needs the AWS object-store plugin and its node agent)", f.v.Namespace, strings.Join(inst.Foreign, ", "))
			add("add drill's backup location %s/%s, its credentials in Secret %s/%s", f.v.Namespace, location, f.v.Namespace, velero.CredentialsSecret)
		} else {
			there := "not installed yet"
			if inst.Found {
				there = "drill's, there already"
			}
			add("install Velero (%s) in namespace %s (%s), with drill's backup location %s in the S3 store", velero.DefaultImage, f.v.Namespace, there, location)
		}
	}
	if f.p.Schedule != "" {
		add("create Schedule %s/%s (%s), backing up to location %s", f.v.Namespace, ScheduleName, f.p.Schedule, location)
	}
	add("back up namespace %s as Backup %s/drill-<start time>-<random> to location %s (file-system backup of its volume)", ns, f.v.Namespace, location)
	add("keep the workload writing for %s, then delete namespace %s", f.p.WriteAfterBackup, ns)
	plan.Revert = []string{
		fmt.Sprintf("once namespace %s is gone, restore it from the backup as Restore %s/drill-<start time>-<random>, and wait up to %s for the workload", ns, f.v.Namespace, f.p.RestoreTimeout),
	}
	if f.p.Schedule != "" {
		plan.Revert = append(plan.Revert, fmt.Sprintf("delete Schedule %s/%s if drill created it", f.v.Namespace, ScheduleName))
	}
	return plan, nil
}

func ptrTo[T any](v T) *T { return &v }

// backedUpVolume checks that the backup holds the app's volume: Velero
// says Completed for a backup that skipped a volume it cannot back up.
func backedUpVolume(vols []velero.Volume) error {
	for _, v := range vols {
		if v.Phase == string(velerov1.PodVolumeBackupPhaseCompleted) {
			return nil
		}
	}
	return errors.New("no pod volume was backed up: the restore would bring the app back without its data")
}

// retiredStoreKeys are the fixed keys drill's store once shipped with: a
// store still running with them gets random keys (velero.StoreKeys).
var retiredStoreKeys = [][2]string{{"drill", "drill-s3-secret"}}

// storeObjects decodes the S3 store fixture.
func storeObjects() ([]*unstructured.Unstructured, error) {
	raw, err := fixtures.Velero.ReadFile(fixtures.VeleroS3Store)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decode %s: %w", fixtures.VeleroS3Store, err)
		}
		if len(u.Object) != 0 {
			objs = append(objs, u)
		}
	}
}

// storeKeys returns the store's keys from its Secret, made at random when
// it has none yet (velero.StoreKeys), and the store's objects to apply,
// the gateway's pod template stamped with the keys' hash so that new keys
// restart it. It needs the store's namespace: objs[0], applied first.
func storeKeys(ctx context.Context, cs kubernetes.Interface, objs []*unstructured.Unstructured) (velero.Store, error) {
	access, secret, _, err := velero.StoreKeys(ctx, cs, velero.StoreKeysInput{
		Namespace: fixtures.S3StoreNamespace, Name: fixtures.S3StoreSecret,
		Labels:  kube.ManagedLabels(map[string]string{"app.kubernetes.io/name": "versitygw"}),
		Retired: retiredStoreKeys,
	})
	if err != nil {
		return velero.Store{}, err
	}
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			if err := unstructured.SetNestedField(u.Object, velero.StoreKeysHash(access, secret),
				"spec", "template", "metadata", "annotations", velero.CredentialsAnnotation); err != nil {
				return velero.Store{}, fmt.Errorf("deployment %s: %w", u.GetName(), err)
			}
		}
	}
	return velero.Store{
		URL: fixtures.S3StoreURL, Bucket: fixtures.S3StoreBucket, Region: fixtures.S3StoreRegion,
		AccessKey: access, SecretKey: secret,
	}, nil
}

// deployStore applies the S3 store fixture, with its keys' Secret, waits
// for it, and returns it as Velero reaches it.
func (f *veleroRestore) deployStore(ctx context.Context) (velero.Store, error) {
	objs, err := storeObjects()
	if err != nil {
		return velero.Store{}, err
	}
	if len(objs) == 0 || objs[0].GetKind() != "Namespace" {
		return velero.Store{}, fmt.Errorf("%s does not start with the store's namespace", fixtures.VeleroS3Store)
	}
	apply := func(u *unstructured.Unstructured) error {
		kube.MarkManaged(u)
		if err := f.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("drill"), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %s %s: %w", u.GetKind(), u.GetName(), err)
		}
		return nil
	}
	if err := apply(objs[0]); err != nil {
		return velero.Store{}, err
	}
	store, err := storeKeys(ctx, f.env.Clientset, objs)
	if err != nil {
		return velero.Store{}, err
	}
	for _, u := range objs[1:] {
		if err := apply(u); err != nil {
			return velero.Store{}, err
		}
	}
	return store, waitFor(ctx, f.p.BackupTimeout, "the S3 store to be available", func(ctx context.Context) (bool, string, error) {
		d, err := f.env.Clientset.AppsV1().Deployments(fixtures.S3StoreNamespace).Get(ctx, "versitygw", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		return d.Status.AvailableReplicas > 0 && d.Status.UpdatedReplicas == d.Status.Replicas && d.Status.ObservedGeneration >= d.Generation,
			fmt.Sprintf("%d of %d available", d.Status.AvailableReplicas, d.Status.Replicas), nil
	})
}

// Inject deletes the namespace, journalled before (a deletion cannot be
// undone but by the restore) and after.
func (f *veleroRestore) Inject(ctx context.Context) error {
	f.mu.Lock()
	f.deleted = true
	f.mu.Unlock()
	if err := f.env.step(ctx, "deleting namespace "+f.env.Namespace+" (backed up as "+f.run+")"); err != nil {
		return err
	}
	err := f.env.Clientset.CoreV1().Namespaces().Delete(ctx, f.env.Namespace, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s: %w", f.env.Namespace, err)
	}
	return f.env.step(ctx, "namespace "+f.env.Namespace+" deleted")
}

// Effect waits until the namespace is gone, its volume with it.
func (f *veleroRestore) Effect(ctx context.Context) ([]string, error) {
	t := time.Now()
	err := f.waitNamespaceGone(ctx)
	f.steps.record("namespace "+f.env.Namespace+" deleted, its volume with it", t, err)
	if err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("namespace %s is gone, with deployment %s and its PersistentVolumeClaim", f.env.Namespace, f.env.Deployment)}, nil
}

func (f *veleroRestore) waitNamespaceGone(ctx context.Context) error {
	return waitFor(ctx, f.env.Timeout, "namespace "+f.env.Namespace+" to be gone", func(ctx context.Context) (bool, string, error) {
		ns, err := f.env.Clientset.CoreV1().Namespaces().Get(ctx, f.env.Namespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			f.mu.Lock()
			if f.gone.IsZero() {
				f.gone = time.Now()
			}
			f.mu.Unlock()
			return true, "", nil
		}
		if err != nil {
			return false, "", err
		}
		return false, "namespace " + string(ns.Status.Phase), nil
	})
}

// Revert restores the namespace from the backup, once it is gone, and waits
// for the workload; then deletes the drill's Schedule. Each stage is
// journalled, and one done is skipped: a later process waits for the
// Restore an earlier one created rather than create it again.
func (f *veleroRestore) Revert(ctx context.Context) error {
	f.mu.Lock()
	deleted, backup, schedule := f.deleted, f.backup, f.schedule
	f.mu.Unlock()
	var errs []error
	if deleted && backup != nil {
		errs = append(errs, f.restoreNamespace(ctx, backup.Name))
	}
	if schedule != "" {
		// Only the Schedule drill created: one of that name that is not
		// drill's is left as it is.
		if left, err := f.v.DeleteSchedule(ctx, schedule); err != nil {
			errs = append(errs, err)
		} else {
			f.mu.Lock()
			f.schedule = ""
			f.mu.Unlock()
			step := "Schedule " + schedule + " deleted"
			if left {
				step = "Schedule " + schedule + " left as it was: not drill's"
			}
			errs = append(errs, f.env.step(ctx, step))
		}
	}
	return errors.Join(errs...)
}

// progress notes, under the lock, how far the restore got.
func (f *veleroRestore) progress(note func(*veleroRestoreProgress)) {
	f.mu.Lock()
	note(&f.restored)
	f.mu.Unlock()
}

func (f *veleroRestore) restoreNamespace(ctx context.Context, backup string) error {
	f.mu.Lock()
	done := f.restored // as far as an earlier attempt got
	f.mu.Unlock()
	if !done.Started {
		// A harness killed between journalling the deletion and issuing it
		// left the namespace as it was: there is nothing to restore.
		ns, err := f.env.Clientset.CoreV1().Namespaces().Get(ctx, f.env.Namespace, metav1.GetOptions{})
		if err == nil && ns.DeletionTimestamp == nil {
			f.mu.Lock()
			f.deleted = false
			f.mu.Unlock()
			return f.env.step(ctx, "namespace "+f.env.Namespace+" was never deleted: nothing to restore")
		}
		// Velero restores nothing that still exists: a namespace still
		// terminating would swallow the restore.
		if err := f.waitNamespaceGone(ctx); err != nil {
			return err
		}
		f.progress(func(p *veleroRestoreProgress) { p.Started = true })
		if err := f.env.step(ctx, fmt.Sprintf("restoring namespace %s from backup %s as restore %s", f.env.Namespace, backup, f.run)); err != nil {
			return err
		}
	}
	if !done.Completed {
		t := time.Now()
		res, err := f.v.Restore(ctx, velero.RestoreInput{Name: f.run, Backup: backup, PreserveNodePorts: true, Timeout: f.p.RestoreTimeout,
			Resume: done.Started})
		f.mu.Lock()
		f.restore = &res
		f.mu.Unlock()
		f.steps.record(fmt.Sprintf("Restore %s: %s, %d/%d items, %s", res.Name, res.Phase, res.Items, res.TotalItems, velero.DescribeVolumes(res.Volumes)), t, err)
		if err != nil {
			return err
		}
		f.progress(func(p *veleroRestoreProgress) { p.Completed = true })
		if err := f.env.step(ctx, "Restore "+f.run+" completed"); err != nil {
			return err
		}
	}
	if done.Available {
		return nil
	}
	t := time.Now()
	err := waitDeploymentAvailable(ctx, f.env, f.p.RestoreTimeout)
	f.steps.record("the workload available", t, err)
	if err != nil {
		return err
	}
	f.progress(func(p *veleroRestoreProgress) { p.Available = true })
	return f.env.step(ctx, "the workload available")
}

// Timeline implements Timeline.
func (f *veleroRestore) Timeline() []monitor.Interval { return f.steps.list() }

// DataLossBound implements DataLossBound: writes acknowledged before the
// backup started are in it.
func (f *veleroRestore) DataLossBound() (Backup, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.backup == nil || f.backup.Phase != velerov1.BackupPhaseCompleted {
		return Backup{}, false
	}
	// Velero's timestamps are to the second: the backup started no
	// earlier than the second it names, nor before it was created.
	taken := f.backup.Started
	if taken.Before(f.backup.Created) {
		taken = f.backup.Created
	}
	return Backup{Taken: taken, What: "Velero backup " + f.backup.Name}, true
}

func (f *veleroRestore) Measure(r Record) []reports.Measurement {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ms []reports.Measurement
	if b := f.backup; b != nil && !b.Completed.IsZero() {
		ms = append(ms, seconds("Velero backup", b.Completed.Sub(b.Started), fmt.Sprintf("%s: %d items, %s (Velero's timestamps, to the second)", b.Name, b.Items, velero.DescribeVolumes(b.Volumes))))
		if !r.Injected.IsZero() {
			ms = append(ms, seconds("backup age at the disaster", r.Injected.Sub(b.Started), "from the backup's start"))
		}
	}
	if !f.gone.IsZero() && !r.Injected.IsZero() {
		ms = append(ms, seconds("namespace deletion", f.gone.Sub(r.Injected), "until the namespace was gone"))
	}
	if rs := f.restore; rs != nil && !rs.Completed.IsZero() {
		ms = append(ms, seconds("Velero restore", rs.Completed.Sub(rs.Started), fmt.Sprintf("%s: %d items, %s (Velero's timestamps, to the second)", rs.Name, rs.Items, velero.DescribeVolumes(rs.Volumes))))
	}
	if !r.RevertStarted.IsZero() {
		if e, open := lastErrorEnd(r.Intervals, monitor.LocatorApp, r.RevertStarted); !open && !e.IsZero() {
			ms = append(ms, seconds("app serving after the restore began", e.Sub(r.RevertStarted), "through its node port"))
		}
	}
	return ms
}
