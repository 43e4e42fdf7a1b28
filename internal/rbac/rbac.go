// Package rbac is the access drill needs on a cluster, by class of drill.
//
// Each class is a ClusterRole shipped under fixtures/rbac (Role): what every
// drill reads (Observe) and writes of its own (Run), and what each kind of
// fault adds (WorkloadFaults, NodeFaults, DR). A fault names its classes in
// its spec (faults.Spec.Access); With adds the ones every drill needs.
// Needs flattens the classes' rules into permissions, one verb on one
// resource each, which Rules merges back into the fewest rules (`drill
// rbac`) and a Reviewer asks the API server about (the preflight's access
// check).
package rbac

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/drill-sre/drill/fixtures"
)

// Class is a class of access: a ClusterRole drill ships.
type Class string

// The classes.
const (
	// Observe reads what every drill checks, samples and judges.
	Observe Class = "observe"
	// Run writes what every drill creates of its own: its namespace and
	// workload, the journals' copies, the RPO writer's records.
	Run Class = "run"
	// WorkloadFaults acts on workloads: drains, rollouts, pods.
	WorkloadFaults Class = "workload-faults"
	// NodeFaults acts on nodes through drill's node agent, a privileged
	// pod: it amounts to cluster-admin.
	NodeFaults Class = "node-faults"
	// DR backs up, deletes and restores (Velero, etcd).
	DR Class = "dr"
)

// Classes returns every class, in the order roles are listed.
func Classes() []Class { return []Class{Observe, Run, WorkloadFaults, NodeFaults, DR} }

// Common returns the classes every drill needs, whatever its fault.
func Common() []Class { return []Class{Observe, Run} }

// Known tells whether c is one of Classes.
func (c Class) Known() bool { return slices.Contains(Classes(), c) }

// RoleName is the name of c's ClusterRole.
func (c Class) RoleName() string { return "drill-" + string(c) }

// With returns the Common classes and classes, each once, in the order of
// Classes.
func With(classes ...Class) []Class {
	var out []Class
	for _, c := range Classes() {
		if slices.Contains(Common(), c) || slices.Contains(classes, c) {
			out = append(out, c)
		}
	}
	return out
}

// LabelPartOf labels the shipped roles as drill's. It is not
// app.kubernetes.io/managed-by: drill, which `drill cleanup` removes: an
// admin applies these roles, and drill never deletes them.
const LabelPartOf = "app.kubernetes.io/part-of"

// LabelClass names a shipped role's class.
const LabelClass = "drill.sre/access"

// roles loads every shipped role once.
var roles = sync.OnceValues(func() (map[Class]*rbacv1.ClusterRole, error) {
	out := map[Class]*rbacv1.ClusterRole{}
	for _, c := range Classes() {
		file := fixtures.RBACRole(string(c))
		data, err := fixtures.RBAC.ReadFile(file)
		if err != nil {
			return nil, err
		}
		r, err := Decode(data)
		if err == nil {
			err = checkShipped(c, r)
		}
		if err != nil {
			return nil, fmt.Errorf("fixtures/%s: %w", file, err)
		}
		out[c] = r
	}
	return out, nil
})

// Role returns the ClusterRole of class c, as shipped (fixtures/rbac). The
// caller may change it.
func Role(c Class) (*rbacv1.ClusterRole, error) {
	all, err := roles()
	if err != nil {
		return nil, err
	}
	r, ok := all[c]
	if !ok {
		return nil, fmt.Errorf("no access class %q (want one of %v)", c, Classes())
	}
	return r.DeepCopy(), nil
}

// Decode decodes one ClusterRole strictly: unknown fields are errors, and
// so are rules drill never ships (wildcards, a verb Kubernetes does not
// know, a rule that mixes resources and URLs).
func Decode(data []byte) (*rbacv1.ClusterRole, error) {
	if bytes.Contains(data, []byte("\n---")) {
		return nil, fmt.Errorf("one ClusterRole per file")
	}
	r := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(data, r); err != nil {
		return nil, err
	}
	if r.APIVersion != rbacv1.SchemeGroupVersion.String() || r.Kind != "ClusterRole" {
		return nil, fmt.Errorf("%s %s: want a %s ClusterRole", r.APIVersion, r.Kind, rbacv1.SchemeGroupVersion)
	}
	if r.AggregationRule != nil {
		return nil, fmt.Errorf("an aggregated role: want its rules listed")
	}
	if len(r.Rules) == 0 {
		return nil, fmt.Errorf("no rules")
	}
	for i, rule := range r.Rules {
		if err := checkRule(rule); err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
	}
	return r, nil
}

// verbs are the verbs a rule may name.
var verbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

func checkRule(r rbacv1.PolicyRule) error {
	if len(r.Verbs) == 0 {
		return fmt.Errorf("no verbs")
	}
	for _, v := range r.Verbs {
		if !slices.Contains(verbs, v) {
			return fmt.Errorf("verb %q: want one of %v", v, verbs)
		}
	}
	all := slices.Concat(r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs)
	if slices.ContainsFunc(all, func(s string) bool { return s == "*" }) {
		return fmt.Errorf("a wildcard: drill names what it needs")
	}
	if len(r.NonResourceURLs) > 0 {
		if len(r.APIGroups)+len(r.Resources)+len(r.ResourceNames) > 0 {
			return fmt.Errorf("URLs and resources in one rule")
		}
		if !slices.Equal(r.Verbs, []string{"get"}) {
			return fmt.Errorf("URLs with verbs %v: drill only gets them", r.Verbs)
		}
		return nil
	}
	if len(r.APIGroups) == 0 || len(r.Resources) == 0 {
		return fmt.Errorf("no API group or no resource")
	}
	for _, res := range r.Resources {
		if res == "" {
			return fmt.Errorf("an empty resource")
		}
	}
	return nil
}

// checkShipped checks what a shipped role must say of itself.
func checkShipped(c Class, r *rbacv1.ClusterRole) error {
	switch {
	case r.Name != c.RoleName():
		return fmt.Errorf("named %q, want %q", r.Name, c.RoleName())
	case r.Labels[LabelPartOf] != "drill" || r.Labels[LabelClass] != string(c):
		return fmt.Errorf("labels %v: want %s=drill and %s=%s", r.Labels, LabelPartOf, LabelClass, c)
	case r.Namespace != "":
		return fmt.Errorf("a ClusterRole in namespace %q", r.Namespace)
	}
	return nil
}
