package framework

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(rv, heartbeat, ready string) SnapshotObject {
	return SnapshotObject{ResourceVersion: rv, Content: map[string]any{
		"metadata": map[string]any{"name": "w1", "resourceVersion": rv,
			"managedFields": []any{map[string]any{"manager": "kubelet", "time": heartbeat}}},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": ready, "lastHeartbeatTime": heartbeat}}},
	}}
}

func obj(rv string) SnapshotObject {
	return SnapshotObject{ResourceVersion: rv, Content: map[string]any{"metadata": map[string]any{"resourceVersion": rv}}}
}

func TestSnapshotDiff(t *testing.T) {
	before := ClusterSnapshot{Objects: map[string]SnapshotObject{
		"nodes w1":                         node("10", "12:00", "True"),
		"nodes w2":                         node("11", "12:00", "True"),
		"deployments.apps kube-system/dns": obj("20"),
		"configmaps default/gone":          obj("21"),
		"configmaps default/same":          obj("22"),
	}}
	after := ClusterSnapshot{Objects: map[string]SnapshotObject{
		"nodes w1":                         node("15", "12:05", "True"),  // heartbeat only
		"nodes w2":                         node("16", "12:05", "False"), // not Ready: changed
		"deployments.apps kube-system/dns": obj("23"),
		"configmaps default/same":          obj("22"),
		"namespaces drill-x-abcde":         obj("30"),
	}}
	want := []string{
		"changed: deployments.apps kube-system/dns (resourceVersion 20 → 23)",
		"changed: nodes w2 (resourceVersion 11 → 16)",
		"created: namespaces drill-x-abcde",
		"deleted: configmaps default/gone",
	}
	if got := before.Diff(after); !slices.Equal(got, want) {
		t.Errorf("Diff:\n%q\nwant\n%q", got, want)
	}
	if got := before.Diff(before); len(got) != 0 {
		t.Errorf("a snapshot differs from itself: %q", got)
	}
	// The heartbeat-only comparison does not alter the snapshots.
	if before.Objects["nodes w1"].Content["status"].(map[string]any)["conditions"].([]any)[0].(map[string]any)["lastHeartbeatTime"] != "12:00" {
		t.Error("Diff changed the snapshot it compared")
	}
}

func TestSnapshotResources(t *testing.T) {
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
			{Name: "pods/log", Namespaced: true, Verbs: []string{"get"}},
			{Name: "events", Namespaced: true, Verbs: []string{"list"}},
			{Name: "componentstatuses", Verbs: []string{"get", "list"}},
			{Name: "bindings", Namespaced: true, Verbs: []string{"create"}},
			{Name: "nodes", Verbs: []string{"list"}},
		}},
		{GroupVersion: "coordination.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "leases", Namespaced: true, Verbs: []string{"list"}}}},
		{GroupVersion: "authentication.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "tokenreviews", Verbs: []string{"create"}}}},
		{GroupVersion: "metrics.k8s.io/v1beta1", APIResources: []metav1.APIResource{{Name: "nodes", Verbs: []string{"get", "list"}}}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{{Name: "deployments", Namespaced: true, Verbs: []string{"list"}}}},
	}
	var got []string
	for _, gvr := range snapshotResources(lists) {
		got = append(got, resourceKey(gvr))
	}
	if want := []string{"pods", "nodes", "deployments.apps"}; !slices.Equal(got, want) {
		t.Errorf("resources %q, want %q", got, want)
	}
}
