package restore_test

import (
	"context"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/install"
	"github.com/vmware-tanzu/velero/pkg/uploader"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/kube"
	"github.com/drill-sre/drill/internal/velero"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// usersFieldManager stands for the client a user installed Velero with.
const usersFieldManager = "velero-cli"

// The shipped velero-restore drill on a cluster where a user installed
// Velero: `velero install` (Velero's own install package, another field
// manager, nothing labelled as drill's), with its location default (in a
// store of the user's, unreachable here), its credentials
// cloud-credentials, and `velero schedule create daily-backup`. The drill
// passes through its own location and Schedule, and leaves the user's
// Velero, location, credentials and Schedule exactly as they were.
//
// Either order with the velero-restore spec of DrillSpecs works: this one
// removes whatever Velero is there first (drill's own, from that spec) and
// the user's at the end, so that the next velero-restore drill installs
// drill's own again.
var _ = Describe("velero-restore on a user's Velero", func() {
	It("passes, leaving the user's Velero, location default, credentials and Schedule daily-backup as they were",
		framework.SpecLabels(framework.FaultLabel(scenarios.FaultVeleroRestore), "target:namespace", framework.LabelDisruptive, framework.LabelSerial),
		Serial, NodeTimeout(30*time.Minute), func(ctx SpecContext) {
			logger := cluster.NewWriterLogger(GinkgoWriter, 0)
			c, err := velero.NewClient(suite.RESTConfig, logger)
			Expect(err).NotTo(HaveOccurred())
			v := velero.New(c, "", logger)

			if loader, ok := suite.Provider.(cluster.ImageLoader); ok {
				By("loading Velero's images into the nodes, as a user's registry would serve them")
				_, err := loader.LoadImages(ctx, faults.VeleroImages...)
				Expect(err).NotTo(HaveOccurred())
			}
			By("removing the Velero there, if any, for the user's")
			Expect(v.Uninstall(ctx)).To(Succeed())
			DeferCleanup(func(ctx context.Context) error { return v.Uninstall(ctx) }, NodeTimeout(10*time.Minute))

			By("installing the user's Velero, location default, credentials and Schedule daily-backup")
			installUsersVelero(ctx, c)
			Expect(v.WaitServer(ctx, 5*time.Minute)).To(Succeed(), "the user's server and node agent ready")
			inst, err := v.Installed(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(inst.IsForeign()).To(BeTrue(), "drill takes the user's Velero for its own")
			before := usersShapes(ctx, c)

			all, err := scenarios.Shipped()
			Expect(err).NotTo(HaveOccurred())
			i := slices.IndexFunc(all, func(s *scenarios.Scenario) bool { return s.Name == "velero-restore" })
			Expect(i).NotTo(BeNumerically("<", 0), "the shipped velero-restore drill")
			d, err := framework.RunScenario(ctx, framework.RunScenarioInput{
				Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset,
				Scenario: all[i], ReportDir: framework.ReportDir(), Logger: logger, JournalDir: framework.JournalDir(),
				Register: func(revert func(context.Context) error) {
					DeferCleanup(func(ctx context.Context) error { return revert(ctx) }, NodeTimeout(10*time.Minute))
				},
			})
			Expect(err).NotTo(HaveOccurred())
			framework.AddDrillReportEntries(d)
			Expect(d.Verdict).To(Equal(reports.Pass), "drill %s: %s", d.Name, strings.Join(d.Failures, "\n"))
			Expect(d.Fault.Target).To(ContainSubstring("to location "+velero.LocationName), "drill backed up to its own location")

			By("checking the user's Velero, location, credentials and Schedule are as they were")
			Expect(usersShapes(ctx, c)).To(Equal(before))
			bsl := &velerov1.BackupStorageLocation{}
			Expect(c.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: velero.LocationName}, bsl)).To(Succeed())
			Expect(bsl.Labels).To(HaveKeyWithValue(kube.LabelManagedBy, kube.ManagedBy), "drill's location is labelled as drill's")
			err = c.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: faults.ScheduleName}, &velerov1.Schedule{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "drill's Schedule %s deleted by the revert: %v", faults.ScheduleName, err)
		})
})

// usersVelero are the user's objects, as `velero install --provider aws
// --plugins velero/velero-plugin-for-aws --bucket users-backups
// --secret-file ... --use-node-agent` makes them.
func usersVelero() []*unstructured.Unstructured {
	list := install.AllResources(&install.VeleroOptions{
		Namespace:    velero.DefaultNamespace,
		Image:        velero.DefaultImage,
		ProviderName: "aws",
		Bucket:       "users-backups",
		SecretData:   []byte("[default]\naws_access_key_id=USERS\naws_secret_access_key=USERS-SECRET\n"),
		// A store of the user's, which this cluster does not reach: the
		// location is Unavailable, and stays the user's.
		BSLConfig:                map[string]string{"region": "us-east-1", "s3ForcePathStyle": "true", "s3Url": "http://users-s3.invalid:9000"},
		Plugins:                  []string{velero.DefaultPluginImage},
		UseNodeAgent:             true,
		UploaderType:             uploader.KopiaType,
		DefaultVolumesToFsBackup: true,
		KubeletRootDir:           install.DefaultKubeletRootDir,
	})
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out
}

// installUsersVelero applies the user's Velero and creates their Schedule
// daily-backup, as the user's own field manager.
func installUsersVelero(ctx context.Context, c client.Client) {
	objs := usersVelero()
	for _, u := range objs {
		Expect(u.GetLabels()).NotTo(HaveKey(kube.LabelManagedBy))
		Expect(c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(usersFieldManager))).To(Succeed(), "apply %s %s", u.GetKind(), u.GetName())
		if u.GetKind() == "CustomResourceDefinition" {
			Eventually(func(g Gomega) {
				crd := &apiextv1.CustomResourceDefinition{}
				g.Expect(c.Get(ctx, client.ObjectKey{Name: u.GetName()}, crd)).To(Succeed())
				g.Expect(crd.Status.Conditions).To(ContainElement(And(HaveField("Type", apiextv1.Established), HaveField("Status", apiextv1.ConditionTrue))))
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed(), "CRD %s established", u.GetName())
		}
	}
	s := &velerov1.Schedule{
		ObjectMeta: metav1.ObjectMeta{Namespace: velero.DefaultNamespace, Name: "daily-backup"},
		Spec: velerov1.ScheduleSpec{Schedule: "0 2 * * *", SkipImmediately: ptr.To(true),
			Template: velerov1.BackupSpec{IncludedNamespaces: []string{"default"}, StorageLocation: "default"}},
	}
	Expect(c.Create(ctx, s, client.FieldOwner(usersFieldManager))).To(Succeed())
	// Velero takes a new Schedule by changing its spec (skipImmediately
	// true, once used, becomes false): the user's Schedule is the one
	// Velero has taken.
	Eventually(func(g Gomega) {
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
		g.Expect(s.Status.Phase).NotTo(BeEmpty(), "the user's Schedule validated by Velero")
		g.Expect(s.Spec.SkipImmediately).To(HaveValue(BeFalse()), "the user's Schedule taken by Velero")
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
}

// usersShapes returns what the drill must not change of the user's Velero:
// for each object, its labels, annotations and all but its status (spec; a
// Secret's data), by kind and name; and its generation, or, for objects no
// controller writes, its resourceVersion. Velero's location and Schedule
// have no status subresource: Velero's status updates (each validation of
// the location) change their generation, so theirs is not compared.
func usersShapes(ctx context.Context, c client.Client) map[string]map[string]any {
	ns := velero.DefaultNamespace
	const generation, resourceVersion, neither = "generation", "resourceVersion", ""
	objs := []struct {
		what  string
		obj   client.Object
		field string
	}{
		{"CRD backups.velero.io", &apiextv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "backups.velero.io"}}, generation},
		{"ClusterRoleBinding velero", &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "velero"}}, resourceVersion},
		{"Deployment velero", &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: velero.DeploymentName}}, generation},
		{"DaemonSet node-agent", &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: velero.NodeAgentName}}, generation},
		{"Secret cloud-credentials", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cloud-credentials"}}, resourceVersion},
		{"BackupStorageLocation default", &velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}}, neither},
		{"Schedule daily-backup", &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "daily-backup"}}, neither},
	}
	shapes := map[string]map[string]any{}
	for _, o := range objs {
		Expect(c.Get(ctx, client.ObjectKeyFromObject(o.obj), o.obj)).To(Succeed(), "the user's %s", o.what)
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.obj)
		Expect(err).NotTo(HaveOccurred())
		delete(u, "status")
		m := map[string]any{"labels": o.obj.GetLabels(), "annotations": o.obj.GetAnnotations()}
		switch o.field {
		case generation:
			m[generation] = o.obj.GetGeneration()
		case resourceVersion:
			m[resourceVersion] = o.obj.GetResourceVersion()
		}
		u["metadata"] = m
		shapes[o.what] = u
	}
	return shapes
}
