package framework

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
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

// fakeAPI serves discovery (the core group, apps, coordination.k8s.io and
// metrics.k8s.io) and the lists of pods (in two pages), nodes, leases and
// deployments.
// Discovery of the groups in down fails.
func fakeAPI(t *testing.T, listed *[]string, down ...string) *httptest.Server {
	t.Helper()
	resources := func(gv string, rs ...metav1.APIResource) metav1.APIResourceList {
		return metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv, APIResources: rs}
	}
	list := []string{"get", "list"}
	group := func(name string) metav1.APIGroup {
		v := metav1.GroupVersionForDiscovery{GroupVersion: name + "/v1", Version: "v1"}
		return metav1.APIGroup{Name: name, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v}
	}
	item := func(kind, ns, name, rv string) map[string]any {
		md := map[string]any{"name": name, "resourceVersion": rv}
		if ns != "" {
			md["namespace"] = ns
		}
		return map[string]any{"kind": kind, "apiVersion": "v1", "metadata": md}
	}
	page := func(kind string, cont string, items ...map[string]any) map[string]any {
		return map[string]any{"kind": kind + "List", "apiVersion": "v1", "metadata": map[string]any{"continue": cont}, "items": items}
	}
	routes := map[string]any{
		"/api": metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}},
		"/apis": metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups: []metav1.APIGroup{group("apps"), group("coordination.k8s.io"), group("metrics.k8s.io")}},
		"/api/v1": resources("v1",
			metav1.APIResource{Name: "pods", Namespaced: true, Kind: "Pod", Verbs: list},
			metav1.APIResource{Name: "pods/log", Namespaced: true, Kind: "Pod", Verbs: []string{"get"}},
			metav1.APIResource{Name: "nodes", Kind: "Node", Verbs: list},
			metav1.APIResource{Name: "events", Namespaced: true, Kind: "Event", Verbs: list},
			metav1.APIResource{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: []string{"create"}}),
		"/apis/apps/v1":                resources("apps/v1", metav1.APIResource{Name: "deployments", Namespaced: true, Kind: "Deployment", Verbs: list}),
		"/apis/coordination.k8s.io/v1": resources("coordination.k8s.io/v1", metav1.APIResource{Name: "leases", Namespaced: true, Kind: "Lease", Verbs: list}),
		"/apis/metrics.k8s.io/v1":      resources("metrics.k8s.io/v1", metav1.APIResource{Name: "nodes", Kind: "NodeMetrics", Verbs: list}),
		"/api/v1/pods":                 page("Pod", "page-2", item("Pod", "kube-system", "etcd-cp1", "5")),
		"/api/v1/pods?page-2":          page("Pod", "", item("Pod", "default", "web", "6")),
		"/api/v1/nodes":                page("Node", "", item("Node", "", "cp1", "7")),
		"/apis/apps/v1/deployments":    page("Deployment", "", item("Deployment", "kube-system", "coredns", "8")),
	}
	for _, d := range down {
		delete(routes, d)
	}
	var mu sync.Mutex
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path
		if c := r.URL.Query().Get("continue"); c != "" {
			key += "?" + c
		}
		body, ok := routes[key]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Has("limit") {
			mu.Lock()
			*listed = append(*listed, key)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
}

// SnapshotCluster lists every listable resource at its preferred version,
// page by page, but Leases, Events, subresources, create-only resources
// and the metrics APIs.
func TestSnapshotCluster(t *testing.T) {
	var listed []string
	srv := fakeAPI(t, &listed)
	defer srv.Close()
	s, err := SnapshotCluster(t.Context(), &rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"deployments.apps kube-system/coredns", "nodes cp1", "pods default/web", "pods kube-system/etcd-cp1"}
	if got := s.Keys(); !slices.Equal(got, want) {
		t.Errorf("objects %q, want %q", got, want)
	}
	if rv := s.Objects["pods default/web"].ResourceVersion; rv != "6" {
		t.Errorf("resourceVersion %q, want 6", rv)
	}
	slices.Sort(listed)
	if want := []string{"/api/v1/nodes", "/api/v1/pods", "/api/v1/pods?page-2", "/apis/apps/v1/deployments"}; !slices.Equal(listed, want) {
		t.Errorf("listed %q, want %q", listed, want)
	}
}

// Discovery failing for the metrics API (metrics-server down) is no
// error; for any other group it is.
func TestSnapshotClusterDiscoveryFailure(t *testing.T) {
	var listed []string
	srv := fakeAPI(t, &listed, "/apis/metrics.k8s.io/v1")
	defer srv.Close()
	if _, err := SnapshotCluster(t.Context(), &rest.Config{Host: srv.URL}); err != nil {
		t.Errorf("metrics.k8s.io down: %v", err)
	}
	srv2 := fakeAPI(t, &listed, "/apis/apps/v1")
	defer srv2.Close()
	if _, err := SnapshotCluster(t.Context(), &rest.Config{Host: srv2.URL}); err == nil {
		t.Error("apps/v1 down: no error; the snapshot would miss every Deployment")
	}
}
