// Package rbactest checks, in tests, that what code did through a fake
// clientset is granted by the access classes it belongs to: the drift
// between the code and the shipped roles (fixtures/rbac) shows as a test
// failure naming the call.
package rbactest

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/drill-sre/drill/internal/rbac"
)

// Needed returns what an action of a fake clientset needed: its verb on
// its resource (and subresource) and object; a server-side apply needs
// create as well as patch, as it may create. The fake discovery client's
// reads are the core group's discovery, /api/*.
func Needed(a k8stesting.Action) []rbac.Permission {
	gvr := a.GetResource()
	if gvr.Group == "" && gvr.Version == "" && slices.Contains([]string{"resource", "group", "version"}, gvr.Resource) {
		return []rbac.Permission{{Verb: "get", URL: "/api/*"}}
	}
	verb := a.GetVerb()
	if verb == "delete-collection" { // the fake's name for it
		verb = "deletecollection"
	}
	p := rbac.Permission{Verb: verb, Group: gvr.Group, Resource: gvr.Resource}
	if sub := a.GetSubresource(); sub != "" {
		p.Resource += "/" + sub
	}
	switch a := a.(type) {
	case k8stesting.GetAction:
		p.Name = a.GetName()
	case k8stesting.DeleteAction:
		p.Name = a.GetName()
	case k8stesting.PatchAction:
		p.Name = a.GetName()
		if a.GetPatchType() == types.ApplyPatchType {
			create := p
			create.Verb = "create"
			return []rbac.Permission{p, create}
		}
	}
	return []rbac.Permission{p}
}

// Granted fails t for each action the roles of classes do not grant,
// naming it and what it needed.
func Granted(t testing.TB, what string, actions []k8stesting.Action, classes ...rbac.Class) {
	t.Helper()
	needs, err := rbac.Needs(classes)
	if err != nil {
		t.Fatal(err)
	}
	reported := map[rbac.Permission]bool{}
	for _, a := range actions {
		for _, p := range Needed(a) {
			if rbac.Allows(needs, p) || reported[p] {
				continue
			}
			reported[p] = true
			where := ""
			if ns := a.GetNamespace(); ns != "" {
				where = " in namespace " + ns
			}
			t.Errorf("%s: a call%s needs %s, which %v do not grant: add it to the class whose code it is (fixtures/rbac)",
				what, where, p, classes)
		}
	}
}
