package kube

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Every object drill creates in a cluster carries LabelManagedBy=ManagedBy,
// so that `drill cleanup` finds it all, and so that a namespace with it is
// one drill created, where workload faults may act.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "drill"
)

// MarkManaged labels o as created by drill, keeping its other labels.
func MarkManaged(o metav1.Object) {
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelManagedBy] = ManagedBy
	o.SetLabels(labels)
}

// ManagedLabels returns labels plus the label of what drill creates, as a
// new map.
func ManagedLabels(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out[LabelManagedBy] = ManagedBy
	return out
}
