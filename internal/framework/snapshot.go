package framework

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// ClusterSnapshot is every object a cluster served at one moment (see
// SnapshotCluster), for Diff.
type ClusterSnapshot struct {
	// Objects are keyed "<resource>.<group> <namespace>/<name>" ("nodes
	// kind-worker" for cluster-scoped ones, "deployments.apps
	// kube-system/coredns" for namespaced ones).
	Objects map[string]SnapshotObject
}

// SnapshotObject is one object of a ClusterSnapshot.
type SnapshotObject struct {
	ResourceVersion string
	// Content is the object as the API served it.
	Content map[string]any
}

// snapshotExcluded are the resources SnapshotCluster leaves out, by
// "<resource>.<group>" (the core group is ""), and why.
var snapshotExcluded = map[string]string{
	"leases.coordination.k8s.io": "renewed every few seconds by every leader election and node heartbeat (the issue excludes them)",
	"events":                     "written by controllers and the kubelet on their own (the issue excludes them)",
	"events.events.k8s.io":       "the same Events, through the events.k8s.io API",
	"componentstatuses":          "deprecated; not stored: each list probes the scheduler, controller-manager and etcd again",
}

// snapshotExcludedGroups are the API groups SnapshotCluster leaves out:
// metrics computed on each read, not stored objects, with no
// resourceVersion that means anything.
var snapshotExcludedGroups = []string{"metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"}

// SnapshotCluster records every object the API serves (discovery: every group/version/resource that supports list, cluster-scoped and namespaced), except Leases and Events, with its resourceVersion and its content.
//
// It reads each resource at the group's preferred version only (one object
// served by two versions is one object). It leaves out, besides Leases
// (coordination.k8s.io) and Events (core and events.k8s.io):
//   - resources that cannot be listed: the create-only reviews
//     (tokenreviews, subjectaccessreviews, selfsubjectreviews, …) and
//     bindings, which are not objects that are kept;
//   - subresources (pods/log, deployments/scale, …): parts of objects that
//     are recorded whole;
//   - componentstatuses: deprecated, and not stored: each list probes the
//     components again;
//   - the metrics APIs (metrics.k8s.io, custom.metrics.k8s.io,
//     external.metrics.k8s.io): computed on each read.
//
// An API group whose discovery fails is an error, unless it is one of the
// metrics APIs.
func SnapshotCluster(ctx context.Context, cfg *rest.Config) (ClusterSnapshot, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return ClusterSnapshot{}, fmt.Errorf("discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return ClusterSnapshot{}, fmt.Errorf("dynamic client: %w", err)
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil {
		var failed *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &failed) {
			return ClusterSnapshot{}, fmt.Errorf("discover the API's resources: %w", err)
		}
		for gv, gerr := range failed.Groups {
			if !slices.Contains(snapshotExcludedGroups, gv.Group) {
				return ClusterSnapshot{}, fmt.Errorf("discover the resources of %s: %w", gv, gerr)
			}
		}
	}
	s := ClusterSnapshot{Objects: map[string]SnapshotObject{}}
	for _, gvr := range snapshotResources(lists) {
		if err := s.add(ctx, dyn, gvr); err != nil {
			return ClusterSnapshot{}, err
		}
	}
	return s, nil
}

// snapshotResources are the resources SnapshotCluster lists, from
// discovery's preferred resources.
func snapshotResources(lists []*metav1.APIResourceList) []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil || slices.Contains(snapshotExcludedGroups, gv.Group) {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			if _, excluded := snapshotExcluded[resourceKey(gvr)]; excluded {
				continue
			}
			out = append(out, gvr)
		}
	}
	return out
}

// resourceKey names a resource "<resource>.<group>", or "<resource>" in
// the core group.
func resourceKey(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource
	}
	return gvr.Resource + "." + gvr.Group
}

// add lists every object of gvr, in every namespace, page by page.
func (s ClusterSnapshot) add(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource) error {
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := dyn.Resource(gvr).List(ctx, opts)
		if err != nil {
			return fmt.Errorf("list %s: %w", resourceKey(gvr), err)
		}
		for _, o := range list.Items {
			s.Objects[objectKey(gvr, o.GetNamespace(), o.GetName())] = SnapshotObject{ResourceVersion: o.GetResourceVersion(), Content: o.Object}
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			return nil
		}
	}
}

// objectKey is an object's key in ClusterSnapshot.Objects.
func objectKey(gvr schema.GroupVersionResource, namespace, name string) string {
	if namespace == "" {
		return resourceKey(gvr) + " " + name
	}
	return resourceKey(gvr) + " " + namespace + "/" + name
}

// periodicStatus are the fields, by resource, that a component rewrites on
// a period without anything happening: a change to them alone is not a
// change (Diff).
var periodicStatus = map[string][][]string{
	// The kubelet posts its heartbeat (every 10 s to the Lease, which is
	// excluded, and every 5 minutes to the Node's conditions); the time of
	// its status update is in managedFields.
	"nodes": {{"status", "conditions", "*", "lastHeartbeatTime"}, {"metadata", "managedFields", "*", "time"}},
	// Velero, when an earlier drill installed it, validates its backup
	// location every minute.
	"backupstoragelocations.velero.io": {{"status", "lastValidationTime"}, {"status", "lastSyncedTime"}, {"metadata", "managedFields", "*", "time"}},
}

// Diff lists, one line each, the objects created, deleted or changed between
// s and after: "created: <key>", "deleted: <key>", "changed: <key>
// (resourceVersion A → B)", sorted.
//
// An object is changed when its resourceVersion is, unless all that
// changed is a field rewritten on a period without anything happening:
//   - Node: status.conditions[].lastHeartbeatTime (the kubelet's status
//     report, every 5 minutes when nothing else changes) and
//     metadata.managedFields[].time (the time of that update);
//   - BackupStorageLocation (velero.io, when an earlier drill installed
//     Velero): status.lastValidationTime and status.lastSyncedTime (Velero
//     checks its location every minute) and metadata.managedFields[].time.
//
// metadata.resourceVersion itself is not compared for those.
func (s ClusterSnapshot) Diff(after ClusterSnapshot) []string {
	var out []string
	for k, b := range s.Objects {
		a, ok := after.Objects[k]
		switch {
		case !ok:
			out = append(out, "deleted: "+k)
		case a.ResourceVersion != b.ResourceVersion && !periodicOnly(k, b.Content, a.Content):
			out = append(out, fmt.Sprintf("changed: %s (resourceVersion %s → %s)", k, b.ResourceVersion, a.ResourceVersion))
		}
	}
	for k := range after.Objects {
		if _, ok := s.Objects[k]; !ok {
			out = append(out, "created: "+k)
		}
	}
	slices.Sort(out)
	return out
}

// periodicOnly says whether before and after, the object key names, differ
// only in fields periodicStatus lists for its resource.
func periodicOnly(key string, before, after map[string]any) bool {
	resource, _, _ := strings.Cut(key, " ")
	fields, ok := periodicStatus[resource]
	if !ok {
		return false
	}
	strip := func(obj map[string]any) map[string]any {
		obj = runtimeDeepCopy(obj)
		unstructured.RemoveNestedField(obj, "metadata", "resourceVersion")
		for _, f := range fields {
			removePath(obj, f)
		}
		return obj
	}
	return reflect.DeepEqual(strip(before), strip(after))
}

// runtimeDeepCopy copies a JSON object.
func runtimeDeepCopy(obj map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: obj}).DeepCopy().Object
}

// removePath removes the field at path from obj; "*" walks every element
// of a list.
func removePath(obj map[string]any, path []string) {
	if len(path) == 0 {
		return
	}
	if len(path) == 1 {
		delete(obj, path[0])
		return
	}
	next, ok := obj[path[0]]
	if !ok {
		return
	}
	if path[1] == "*" {
		items, _ := next.([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				removePath(m, path[2:])
			}
		}
		return
	}
	if m, ok := next.(map[string]any); ok {
		removePath(m, path[1:])
	}
}

// Keys returns the snapshot's object keys, sorted.
func (s ClusterSnapshot) Keys() []string {
	return slices.Sorted(maps.Keys(s.Objects))
}
