package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/drill-sre/drill/internal/rbac"
)

// Access is what a drill needs of the API, and who asks the API server
// whether the user drill runs as holds it.
type Access struct {
	// Needs are the permissions of the drill's access classes
	// (rbac.Needs of its fault's classes and those every drill needs).
	Needs []rbac.Need
	// Reviewer asks, once per permission (SelfSubjectAccessReview); it
	// remembers what was allowed, so that a check repeated while the
	// preflight waits, or for the next drill, asks only again what was
	// denied.
	Reviewer *rbac.Reviewer
}

// RunAccess checks that the user drill runs as holds every permission its
// drill needs. It fails naming each missing rule and the classes that need
// it; it is not checked without a, and fails when the API gives no answer.
// An access that is missing does not come by waiting.
func RunAccess(ctx context.Context, a *Access) Check {
	switch {
	case a == nil:
		return Check{Name: CheckAccess, Status: StatusNotChecked, Detail: "no access rules given"}
	case a.Reviewer == nil || len(a.Needs) == 0:
		return failed(CheckAccess, []string{"no reviewer or no rules given"}, "")
	}
	missing, err := a.Reviewer.Missing(ctx, a.Needs)
	switch {
	case err != nil:
		return failed(CheckAccess, []string{err.Error()}, "")
	case len(missing) > 0:
		return failed(CheckAccess, []string{rbac.Describe(missing)}, "")
	}
	var roles []string
	for _, n := range a.Needs {
		for _, c := range n.Classes {
			if !slices.Contains(roles, c.RoleName()) {
				roles = append(roles, c.RoleName())
			}
		}
	}
	slices.Sort(roles)
	return Check{Name: CheckAccess, Status: StatusOK,
		Detail: fmt.Sprintf("every one of the %d permissions of %s held", len(a.Needs), strings.Join(roles, ", "))}
}
