// Package cleanup finds and removes what drill created in a cluster: every
// object labelled app.kubernetes.io/managed-by=drill (kube.MarkManaged), of
// every resource the API serves.
//
// The cluster's opt-in (package guard) carries no such label: removing what
// drill installed does not take the consent away.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	"github.com/drill-sre/drill/internal/kube"
)

// Object is one object drill created.
type Object struct {
	Resource  schema.GroupVersionResource
	Kind      string
	Namespace string
	Name      string
	UID       types.UID
	// Custom says its resource is served by a CustomResourceDefinition:
	// its controller (Velero's server) may hold it with a finalizer.
	Custom bool
}

func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Selector selects what drill created.
var Selector = kube.LabelManagedBy + "=" + kube.ManagedBy

// Find lists every object drill created, of every resource the API serves
// that can be listed and deleted (each group's preferred version; an
// object served by two groups is listed once). An API group that does not
// answer discovery (an aggregated API that is down) is skipped, and named
// in the returned warnings.
func Find(ctx context.Context, disc discovery.DiscoveryInterface, dyn dynamic.Interface) (objs []Object, warnings []string, err error) {
	lists, err := discovery.ServerPreferredResources(disc)
	var failed *discovery.ErrGroupDiscoveryFailed
	if errors.As(err, &failed) {
		for gv, gerr := range failed.Groups {
			warnings = append(warnings, fmt.Sprintf("API group %s not searched: %v", gv, gerr))
		}
		slices.Sort(warnings)
	} else if err != nil {
		return nil, nil, fmt.Errorf("discover the API's resources: %w", err)
	}
	custom, err := customResources(ctx, dyn)
	if err != nil {
		return nil, warnings, err
	}
	seen := map[types.UID]bool{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			got, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: Selector})
			if err != nil {
				if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
					continue
				}
				return nil, warnings, fmt.Errorf("list %s: %w", gvr, err)
			}
			for _, u := range got.Items {
				if seen[u.GetUID()] {
					continue
				}
				seen[u.GetUID()] = true
				objs = append(objs, Object{Resource: gvr, Kind: r.Kind, Namespace: u.GetNamespace(), Name: u.GetName(),
					UID: u.GetUID(), Custom: custom[gvr.GroupResource()]})
			}
		}
	}
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.String(), b.String()) })
	return objs, warnings, nil
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// customResources lists the resources that CRDs serve.
func customResources(ctx context.Context, dyn dynamic.Interface) (map[schema.GroupResource]bool, error) {
	crds, err := dyn.Resource(crdResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list CustomResourceDefinitions: %w", err)
	}
	out := map[schema.GroupResource]bool{}
	for _, c := range crds.Items {
		group, _, _ := unstructured.NestedString(c.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(c.Object, "spec", "names", "plural")
		out[schema.GroupResource{Group: group, Resource: plural}] = true
	}
	return out, nil
}

// Stages orders objs for removal, each stage removed and gone before the
// next starts:
//  1. custom resources (Velero's backups, schedules and restores), while
//     the controllers that hold them with finalizers still run;
//  2. drill's namespaces, with all they hold;
//  3. the other namespaced objects (in namespaces that are not drill's,
//     such as a PodDisruptionBudget in kube-system);
//  4. cluster-scoped objects, CustomResourceDefinitions last.
//
// Namespaced objects in a namespace of stage 2 are left to the namespace's
// deletion, but for custom resources.
func Stages(objs []Object) [][]Object {
	namespaces := map[string]bool{}
	for _, o := range objs {
		if o.Namespace == "" && o.Resource.Group == "" && o.Resource.Resource == "namespaces" {
			namespaces[o.Name] = true
		}
	}
	stages := make([][]Object, 4)
	var crds []Object
	for _, o := range objs {
		switch {
		case o.Namespace != "" && o.Custom:
			stages[0] = append(stages[0], o)
		case namespaces[o.Name] && o.Namespace == "" && o.Resource.Resource == "namespaces":
			stages[1] = append(stages[1], o)
		case o.Namespace != "" && namespaces[o.Namespace]:
			// the namespace takes it with it
		case o.Namespace != "":
			stages[2] = append(stages[2], o)
		case o.Resource == crdResource:
			crds = append(crds, o)
		default:
			stages[3] = append(stages[3], o)
		}
	}
	stages[3] = append(stages[3], crds...)
	return slices.DeleteFunc(stages, func(s []Object) bool { return len(s) == 0 })
}

// Remove deletes objs, stage by stage (Stages), and waits up to timeout for
// each stage to be gone. progress, when set, hears of each deletion and
// wait. An error names what was left.
func Remove(ctx context.Context, dyn dynamic.Interface, objs []Object, timeout time.Duration, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	for _, stage := range Stages(objs) {
		for _, o := range stage {
			err := resource(dyn, o).Delete(ctx, o.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
				Preconditions: &metav1.Preconditions{UID: &o.UID}})
			switch {
			case apierrors.IsNotFound(err), apierrors.IsConflict(err): // gone, or another object of that name now
			case err != nil:
				return fmt.Errorf("delete %s: %w", o, err)
			default:
				progress("deleted " + o.String())
			}
		}
		var left []string
		err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
			left = left[:0]
			for _, o := range stage {
				u, err := resource(dyn, o).Get(ctx, o.Name, metav1.GetOptions{})
				if apierrors.IsNotFound(err) || (err == nil && u.GetUID() != o.UID) {
					continue
				}
				left = append(left, o.String())
			}
			return len(left) == 0, nil
		})
		if err != nil {
			return fmt.Errorf("waited %s for drill's objects to go; still there: %s", timeout, strings.Join(left, ", "))
		}
	}
	return nil
}

func resource(dyn dynamic.Interface, o Object) dynamic.ResourceInterface {
	if o.Namespace == "" {
		return dyn.Resource(o.Resource)
	}
	return dyn.Resource(o.Resource).Namespace(o.Namespace)
}
