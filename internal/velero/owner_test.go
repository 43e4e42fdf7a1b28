package velero

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/drill-sre/drill/internal/kube"
)

func TestOwned(t *testing.T) {
	for _, tc := range []struct {
		name string
		meta metav1.ObjectMeta
		want bool
	}{
		{"labelled", metav1.ObjectMeta{Labels: map[string]string{kube.LabelManagedBy: kube.ManagedBy}}, true},
		{"another manager's label", metav1.ObjectMeta{Labels: map[string]string{kube.LabelManagedBy: "Helm"}}, false},
		{"nothing", metav1.ObjectMeta{}, false},
		// An install by a drill older than the label: applied by drill.
		{"applied by drill", metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply}}}, true},
		// A binary called drill that updated it is no proof: any client
		// is named after its binary.
		{"updated by a drill binary", metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "drill", Operation: metav1.ManagedFieldsOperationUpdate}}}, false},
		{"applied by the user", metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}}, false},
	} {
		if got := Owned(&tc.meta); got != tc.want {
			t.Errorf("%s: Owned = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHasAWSPlugin(t *testing.T) {
	for image, want := range map[string]bool{
		"velero/velero-plugin-for-aws:v1.14.3":                  true,
		"localhost:5000/velero/velero-plugin-for-aws:v1":        true,
		"velero-plugin-for-aws@sha256:0123":                     true,
		"velero/velero-plugin-for-gcp:v1.10.0":                  false,
		"example.com/velero-plugin-for-aws-fork/something:v1.0": false,
	} {
		d := &appsv1.Deployment{}
		d.Spec.Template.Spec.InitContainers = []corev1.Container{{Image: image}}
		if got := hasAWSPlugin(d); got != want {
			t.Errorf("%s: %v, want %v", image, got, want)
		}
	}
}

// Install applies nothing over a Velero drill did not install.
func TestInstallRefusesAVeleroNotDrills(t *testing.T) {
	for _, obj := range []client.Object{
		&apiextv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "backups.velero.io"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: DefaultNamespace, Name: DeploymentName}},
	} {
		v, c := newFake(t, nil, obj)
		err := v.Install(t.Context(), InstallConfig{Store: testStore()})
		if err == nil || !strings.Contains(err.Error(), "drill did not install the Velero there") {
			t.Errorf("%T: got %v, want a refusal", obj, err)
		}
		list := &apiextv1.CustomResourceDefinitionList{}
		if err := c.List(t.Context(), list); err != nil {
			t.Fatal(err)
		}
		if n := len(list.Items); n > 1 {
			t.Errorf("%T: %d CRDs after a refused install", obj, n)
		}
	}
}
