package cleanup

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/drill-sre/drill/internal/kube"
)

var (
	namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	events     = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	pdbs       = schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}
	deploys    = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	crbs       = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
	backups    = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backups"}
)

func object(gvr schema.GroupVersionResource, kind, ns, name string, drills bool) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(gvr.GroupVersion().String())
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetUID(types.UID(kind + "/" + ns + "/" + name))
	if drills {
		kube.MarkManaged(u)
	} else {
		u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "helm"})
	}
	return u
}

func resources(name string, kind string, namespaced bool, verbs ...string) metav1.APIResource {
	if verbs == nil {
		verbs = []string{"get", "list", "delete"}
	}
	return metav1.APIResource{Name: name, Kind: kind, Namespaced: namespaced, Verbs: verbs}
}

// a cluster with drill's objects and others', as the fakes serve it.
func cluster(t *testing.T) (*fakediscovery.FakeDiscovery, *dynamicfake.FakeDynamicClient) {
	crd := object(crdResource, "CustomResourceDefinition", "", "backups.velero.io", true)
	if err := unstructured.SetNestedField(crd.Object, "velero.io", "spec", "group"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(crd.Object, "backups", "spec", "names", "plural"); err != nil {
		t.Fatal(err)
	}
	objs := []runtime.Object{
		object(namespaces, "Namespace", "", "drill-crash-x1", true),
		object(configMaps, "ConfigMap", "drill-crash-x1", "rpo-1", true),
		object(namespaces, "Namespace", "", "velero", true),
		object(deploys, "Deployment", "velero", "velero", true),
		object(backups, "Backup", "velero", "drill-backup-1", true),
		object(pdbs, "PodDisruptionBudget", "kube-system", "coredns", true),
		object(crbs, "ClusterRoleBinding", "", "velero", true),
		crd,
		// Not drill's: the user's namespace and Deployment, and the
		// opt-in, which is the person's.
		object(namespaces, "Namespace", "", "shop", false),
		object(deploys, "Deployment", "shop", "cart", false),
		object(configMaps, "ConfigMap", "kube-system", "drill-opt-in", false),
	}
	listKinds := map[schema.GroupVersionResource]string{
		namespaces: "NamespaceList", configMaps: "ConfigMapList", events: "EventList", pdbs: "PodDisruptionBudgetList",
		deploys: "DeploymentList", crbs: "ClusterRoleBindingList", backups: "BackupList", crdResource: "CustomResourceDefinitionList",
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	disc := &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{Resources: []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			resources("namespaces", "Namespace", false), resources("configmaps", "ConfigMap", true),
			resources("events", "Event", true), resources("pods/log", "Pod", true),
			resources("bindings", "Binding", true, "create"),
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{resources("deployments", "Deployment", true)}},
		{GroupVersion: "policy/v1", APIResources: []metav1.APIResource{resources("poddisruptionbudgets", "PodDisruptionBudget", true)}},
		{GroupVersion: "rbac.authorization.k8s.io/v1", APIResources: []metav1.APIResource{resources("clusterrolebindings", "ClusterRoleBinding", false)}},
		{GroupVersion: "velero.io/v1", APIResources: []metav1.APIResource{resources("backups", "Backup", true)}},
		{GroupVersion: "apiextensions.k8s.io/v1", APIResources: []metav1.APIResource{resources("customresourcedefinitions", "CustomResourceDefinition", false)}},
	}}}
	return disc, dyn
}

func names(objs []Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.String())
	}
	return out
}

func TestFind(t *testing.T) {
	disc, dyn := cluster(t)
	objs, warnings, err := Find(context.Background(), disc, dyn)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	want := []string{
		"Backup velero/drill-backup-1",
		"ClusterRoleBinding velero",
		"ConfigMap drill-crash-x1/rpo-1",
		"CustomResourceDefinition backups.velero.io",
		"Deployment velero/velero",
		"Namespace drill-crash-x1",
		"Namespace velero",
		"PodDisruptionBudget kube-system/coredns",
	}
	if got := names(objs); !slices.Equal(got, want) {
		t.Errorf("found\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, o := range objs {
		if o.Custom != (o.Kind == "Backup") {
			t.Errorf("%s: custom %t", o, o.Custom)
		}
	}
	for _, a := range dyn.Actions() {
		if a.GetVerb() != "list" {
			t.Errorf("Find did %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
}

func TestStages(t *testing.T) {
	disc, dyn := cluster(t)
	objs, _, err := Find(context.Background(), disc, dyn)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, s := range Stages(objs) {
		got = append(got, names(s))
	}
	want := [][]string{
		{"Backup velero/drill-backup-1"},                                            // while Velero runs
		{"Namespace drill-crash-x1", "Namespace velero"},                            // with all they hold
		{"PodDisruptionBudget kube-system/coredns"},                                 // in a namespace not drill's
		{"ClusterRoleBinding velero", "CustomResourceDefinition backups.velero.io"}, // CRDs last
	}
	if len(got) != len(want) {
		t.Fatalf("stages %q, want %q", got, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("stage %d: %q, want %q", i+1, got[i], want[i])
		}
	}
}

func TestRemove(t *testing.T) {
	disc, dyn := cluster(t)
	ctx := context.Background()
	objs, _, err := Find(ctx, disc, dyn)
	if err != nil {
		t.Fatal(err)
	}
	dyn.ClearActions()
	var said []string
	if err := Remove(ctx, dyn, objs, 5*time.Second, func(s string) { said = append(said, s) }); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range dyn.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok {
			deleted = append(deleted, a.GetResource().Resource+" "+d.GetName())
		}
	}
	want := []string{"backups drill-backup-1", "namespaces drill-crash-x1", "namespaces velero", "poddisruptionbudgets coredns",
		"clusterrolebindings velero", "customresourcedefinitions backups.velero.io"}
	if !slices.Equal(deleted, want) {
		t.Errorf("deleted, in order,\n  %s\nwant\n  %s", strings.Join(deleted, "\n  "), strings.Join(want, "\n  "))
	}
	if len(said) != len(want) {
		t.Errorf("progress %q", said)
	}
	for _, keep := range []struct {
		gvr      schema.GroupVersionResource
		ns, name string
	}{{namespaces, "", "shop"}, {deploys, "shop", "cart"}, {configMaps, "kube-system", "drill-opt-in"}} {
		r := dyn.Resource(keep.gvr)
		var err error
		if keep.ns != "" {
			_, err = r.Namespace(keep.ns).Get(ctx, keep.name, metav1.GetOptions{})
		} else {
			_, err = r.Get(ctx, keep.name, metav1.GetOptions{})
		}
		if err != nil {
			t.Errorf("%s %s/%s, not drill's, is gone: %v", keep.gvr.Resource, keep.ns, keep.name, err)
		}
	}
}

// An object that does not go is named when the wait ends.
func TestRemoveNamesWhatIsLeft(t *testing.T) {
	disc, dyn := cluster(t)
	ctx := context.Background()
	objs, _, err := Find(ctx, disc, dyn)
	if err != nil {
		t.Fatal(err)
	}
	// A finalizer nobody removes: the delete is accepted, the object stays.
	dyn.PrependReactor("delete", "backups", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, nil
	})
	err = Remove(ctx, dyn, objs, 2*time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "still there: Backup velero/drill-backup-1") {
		t.Fatalf("got %v", err)
	}
}
