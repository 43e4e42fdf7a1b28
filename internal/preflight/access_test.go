package preflight

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/drill-sre/drill/internal/rbac"
)

// reviews answers every SelfSubjectAccessReview, allowed unless deny says
// no; an error answers none.
func reviews(deny func(*authorizationv1.ResourceAttributes) bool, err error) *fake.Clientset {
	cs := fake.NewClientset(haCluster()...)
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if err != nil {
			return true, nil, err
		}
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		attrs := r.Spec.ResourceAttributes
		r.Status.Allowed = attrs == nil || !deny(attrs)
		return true, r, nil
	})
	return cs
}

func TestAccess(t *testing.T) {
	needs, err := rbac.Needs(rbac.With(rbac.WorkloadFaults))
	if err != nil {
		t.Fatal(err)
	}
	none := func(*authorizationv1.ResourceAttributes) bool { return false }
	evictions := func(a *authorizationv1.ResourceAttributes) bool {
		return a.Verb == "create" && a.Resource == "pods" && a.Subresource == "eviction"
	}
	for _, tc := range []struct {
		name   string
		access func() *Access
		status Status
		detail string
	}{
		{"not given", func() *Access { return nil }, StatusNotChecked, "no access rules given"},
		{"all held", func() *Access { return &Access{Needs: needs, Reviewer: rbac.NewReviewer(reviews(none, nil))} },
			StatusOK, fmt.Sprintf("every one of the %d permissions of drill-observe, drill-run, drill-workload-faults held", len(needs))},
		{"evictions denied", func() *Access { return &Access{Needs: needs, Reviewer: rbac.NewReviewer(reviews(evictions, nil))} },
			StatusFailed, "missing rule: create pods/eviction (group \"\") — needed by the workload-faults class; see `drill rbac`"},
		{"no answer", func() *Access {
			return &Access{Needs: needs, Reviewer: rbac.NewReviewer(reviews(none, errors.New("the server is on fire")))}
		}, StatusFailed, "the server is on fire"},
		{"no reviewer", func() *Access { return &Access{Needs: needs} }, StatusFailed, "no reviewer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := RunAccess(t.Context(), tc.access())
			if c.Name != CheckAccess || c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %+v, want %s with %q", c, tc.status, tc.detail)
			}
		})
	}

	// Within Run: a denied rule fails the preflight, naming it.
	r := Run(t.Context(), Input{Clientset: fake.NewClientset(haCluster()...),
		Access: &Access{Needs: needs, Reviewer: rbac.NewReviewer(reviews(evictions, nil))}})
	if r.OK() || len(r.Problems()) != 1 || !strings.HasPrefix(r.Problems()[0], "access: missing rule: create pods/eviction") {
		t.Errorf("problems %q\n%s", r.Problems(), r)
	}
}
