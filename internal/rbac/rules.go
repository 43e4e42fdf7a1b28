package rbac

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Permission is one thing drill does through the API: a verb on a resource
// of an API group (on one object of it when Name is set), or a verb on a URL
// that is not a resource.
type Permission struct {
	Verb string
	// Group is the API group, "" for the core group.
	Group string
	// Resource is the resource, with its subresource after a slash
	// ("pods/eviction").
	Resource string
	// Name restricts the permission to one object (a rule's
	// resourceNames); "" is any.
	Name string
	// URL is a URL that is not a resource ("/readyz"); then Group and
	// Resource are "".
	URL string
}

// String says the permission as a rule would: `create pods/eviction (group
// "")`, `get customresourcedefinitions backups.velero.io (group
// "apiextensions.k8s.io")`, `get /readyz`.
func (p Permission) String() string {
	if p.URL != "" {
		return p.Verb + " " + p.URL
	}
	what := p.Resource
	if p.Name != "" {
		what += " " + p.Name
	}
	return fmt.Sprintf("%s %s (group %q)", p.Verb, what, p.Group)
}

// compare orders permissions: resources before URLs, then by group,
// resource, name and verb.
func (p Permission) compare(q Permission) int {
	return cmp.Or(
		compareBool(p.URL != "", q.URL != ""),
		cmp.Compare(p.Group, q.Group), cmp.Compare(p.Resource, q.Resource), cmp.Compare(p.Name, q.Name),
		cmp.Compare(p.URL, q.URL), cmp.Compare(p.Verb, q.Verb))
}

// Need is a permission and the classes whose roles grant it.
type Need struct {
	Permission
	Classes []Class
}

// ClassNames says which classes need it: "the run class", "the observe and
// workload-faults classes".
func (n Need) ClassNames() string {
	names := make([]string, len(n.Classes))
	for i, c := range n.Classes {
		names[i] = string(c)
	}
	switch len(names) {
	case 0:
		return "no class"
	case 1:
		return "the " + names[0] + " class"
	}
	return "the " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " classes"
}

// Needs returns every permission the roles of classes grant, each once
// with the classes that grant it, sorted.
func Needs(classes []Class) ([]Need, error) {
	by := map[Permission][]Class{}
	for _, c := range Classes() { // in order, whatever the caller's
		if !slices.Contains(classes, c) {
			continue
		}
		r, err := Role(c)
		if err != nil {
			return nil, err
		}
		for _, p := range Permissions(r.Rules) {
			if !slices.Contains(by[p], c) {
				by[p] = append(by[p], c)
			}
		}
	}
	for _, c := range classes {
		if !c.Known() {
			return nil, fmt.Errorf("no access class %q (want one of %v)", c, Classes())
		}
	}
	out := make([]Need, 0, len(by))
	for p, cs := range by {
		out = append(out, Need{Permission: p, Classes: cs})
	}
	slices.SortFunc(out, func(a, b Need) int { return a.compare(b.Permission) })
	return out, nil
}

// Permissions flattens rules into one permission per verb, resource (or
// URL) and name.
func Permissions(rules []rbacv1.PolicyRule) []Permission {
	var out []Permission
	for _, r := range rules {
		for _, v := range r.Verbs {
			for _, u := range r.NonResourceURLs {
				out = append(out, Permission{Verb: v, URL: u})
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					if len(r.ResourceNames) == 0 {
						out = append(out, Permission{Verb: v, Group: g, Resource: res})
					}
					for _, n := range r.ResourceNames {
						out = append(out, Permission{Verb: v, Group: g, Resource: res, Name: n})
					}
				}
			}
		}
	}
	return out
}

// Rule is a policy rule and the classes that need it.
type Rule struct {
	rbacv1.PolicyRule
	Classes []Class
}

// Rules merges needs into few rules that grant exactly them: the verbs of
// each resource (or URL) together, then the resources of one API group
// with the same verbs, object names and classes together. They are sorted:
// by group (the core group first), then resource; URLs last.
func Rules(needs []Need) []Rule {
	type target struct{ group, resource, name, url string }
	verbsOf := map[target][]string{}
	classesOf := map[target][]Class{}
	for _, n := range needs {
		t := target{n.Group, n.Resource, n.Name, n.URL}
		if !slices.Contains(verbsOf[t], n.Verb) {
			verbsOf[t] = append(verbsOf[t], n.Verb)
		}
		for _, c := range n.Classes {
			if !slices.Contains(classesOf[t], c) {
				classesOf[t] = append(classesOf[t], c)
			}
		}
	}
	type ruleKey struct {
		urls           bool
		group, name    string
		verbs, classes string
	}
	merged := map[ruleKey]*Rule{}
	for _, t := range slices.SortedFunc(maps.Keys(verbsOf), func(a, b target) int {
		return Permission{Group: a.group, Resource: a.resource, Name: a.name, URL: a.url}.compare(
			Permission{Group: b.group, Resource: b.resource, Name: b.name, URL: b.url})
	}) {
		vs := verbsOf[t]
		slices.SortFunc(vs, compareVerbs)
		cs := classesOf[t]
		slices.SortFunc(cs, compareClasses)
		k := ruleKey{urls: t.url != "", group: t.group, name: t.name, verbs: fmt.Sprint(vs), classes: fmt.Sprint(cs)}
		r := merged[k]
		if r == nil {
			r = &Rule{PolicyRule: rbacv1.PolicyRule{Verbs: vs}}
			if !k.urls {
				r.APIGroups = []string{t.group}
				if t.name != "" {
					r.ResourceNames = []string{t.name}
				}
			}
			merged[k] = r
		}
		if k.urls {
			r.NonResourceURLs = append(r.NonResourceURLs, t.url)
		} else {
			r.Resources = append(r.Resources, t.resource)
		}
		r.Classes = cs
	}
	out := make([]Rule, 0, len(merged))
	for _, r := range merged {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Rule) int {
		return cmp.Or(
			compareBool(len(a.NonResourceURLs) > 0, len(b.NonResourceURLs) > 0),
			slices.Compare(a.APIGroups, b.APIGroups), slices.Compare(a.Resources, b.Resources),
			slices.Compare(a.ResourceNames, b.ResourceNames), slices.Compare(a.NonResourceURLs, b.NonResourceURLs),
			slices.CompareFunc(a.Verbs, b.Verbs, compareVerbs))
	})
	return out
}

// compareClasses orders classes as Classes does.
func compareClasses(a, b Class) int {
	return cmp.Compare(slices.Index(Classes(), a), slices.Index(Classes(), b))
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// compareVerbs orders verbs as reads, then writes: get, list, watch,
// create, update, patch, delete, deletecollection.
func compareVerbs(a, b string) int {
	ia, ib := slices.Index(verbs, a), slices.Index(verbs, b)
	if ia < 0 || ib < 0 {
		return strings.Compare(a, b)
	}
	return cmp.Compare(ia, ib)
}

// Allows tells whether needs hold p: a permission of the same verb on the
// same resource (or URL), for any object or the one p names.
func Allows(needs []Need, p Permission) bool {
	return slices.ContainsFunc(needs, func(n Need) bool {
		q := n.Permission
		return q.Verb == p.Verb && q.Group == p.Group && q.Resource == p.Resource && q.URL == p.URL &&
			(q.Name == "" || q.Name == p.Name)
	})
}

// ClusterRole returns the ClusterRole name that grants rules.
func ClusterRole(name string, rules []Rule) *rbacv1.ClusterRole {
	r := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelPartOf: "drill"}},
	}
	for _, rule := range rules {
		r.Rules = append(r.Rules, rule.PolicyRule)
	}
	return r
}

// WriteRole writes the ClusterRole name that grants rules as YAML, after
// header (comment lines, without their "# "), each rule after a comment
// naming the classes that need some of its verbs. Decode reads it back.
func WriteRole(w io.Writer, name string, header []string, rules []Rule) error {
	str := func(s string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
		if s == "" {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n
	}
	seq := func(values []string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range values {
			n.Content = append(n.Content, str(v))
		}
		return n
	}
	mapping := func(kv ...*yaml.Node) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
	}
	ruleNodes := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range rules {
		var kv []*yaml.Node
		add := func(key string, values []string) {
			if len(values) > 0 {
				kv = append(kv, str(key), seq(values))
			}
		}
		add("apiGroups", r.APIGroups)
		add("resources", r.Resources)
		add("resourceNames", r.ResourceNames)
		add("nonResourceURLs", r.NonResourceURLs)
		add("verbs", r.Verbs)
		m := mapping(kv...)
		names := make([]string, len(r.Classes))
		for i, c := range r.Classes {
			names[i] = c.RoleName()
		}
		m.HeadComment = "# " + strings.Join(names, ", ")
		ruleNodes.Content = append(ruleNodes.Content, m)
	}
	role := ClusterRole(name, rules)
	doc := mapping(
		str("apiVersion"), str(role.APIVersion),
		str("kind"), str(role.Kind),
		str("metadata"), mapping(str("name"), str(name), str("labels"), mapping(str(LabelPartOf), str("drill"))),
		str("rules"), ruleNodes,
	)
	var lines []string
	for _, h := range header {
		lines = append(lines, strings.TrimRight("# "+h, " "))
	}
	root := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}, HeadComment: strings.Join(lines, "\n")}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("write ClusterRole %s: %w", name, err)
	}
	return enc.Close()
}
