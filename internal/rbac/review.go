package rbac

import (
	"context"
	"fmt"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Reviewer asks the API server whether the user drill runs as holds
// permissions, one SelfSubjectAccessReview each, a few at a time. An
// allowed permission is remembered for the Reviewer's life (a run of
// drills); a denied one is asked again the next time, so that a grant made
// meanwhile counts.
type Reviewer struct {
	client kubernetes.Interface

	mu      sync.Mutex
	allowed map[Permission]bool
}

// NewReviewer returns a Reviewer that asks through cs.
func NewReviewer(cs kubernetes.Interface) *Reviewer {
	return &Reviewer{client: cs, allowed: map[Permission]bool{}}
}

// NewReviewerFor returns a Reviewer with a client of its own made from
// cfg: the reviews of a drill go at once, not at the pace of the drill's
// client.
func NewReviewerFor(cfg *rest.Config) (*Reviewer, error) {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("access reviews: %w", err)
	}
	return NewReviewer(cs), nil
}

// parallel is how many reviews are in flight at once.
const parallel = 8

// Missing returns the needs the user does not hold, in the order of needs.
// A permission is asked for every namespace at once: the shipped roles are
// ClusterRoles bound cluster-wide. An error means a review got no answer.
func (r *Reviewer) Missing(ctx context.Context, needs []Need) ([]Need, error) {
	denied := make([]bool, len(needs))
	errs := make([]error, len(needs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, n := range needs {
		r.mu.Lock()
		known := r.allowed[n.Permission]
		r.mu.Unlock()
		if known {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, err := r.review(ctx, n.Permission)
			switch {
			case err != nil:
				errs[i] = err
			case ok:
				r.mu.Lock()
				r.allowed[n.Permission] = true
				r.mu.Unlock()
			default:
				denied[i] = true
			}
		})
	}
	wg.Wait()
	var missing []Need
	for i, n := range needs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if denied[i] {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// review asks whether the user holds p.
func (r *Reviewer) review(ctx context.Context, p Permission) (bool, error) {
	review := &authorizationv1.SelfSubjectAccessReview{}
	if p.URL != "" {
		review.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: p.URL, Verb: p.Verb}
	} else {
		resource, sub, _ := strings.Cut(p.Resource, "/")
		review.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{
			Verb: p.Verb, Group: p.Group, Resource: resource, Subresource: sub, Name: p.Name,
		}
	}
	got, err := r.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("ask the API whether drill may %s (SelfSubjectAccessReview): %w", p, err)
	}
	return got.Status.Allowed, nil
}

// Describe says what is missing, one "missing rule: ..." per need, each
// naming the classes that need it, then where to find the rules.
func Describe(missing []Need) string {
	parts := make([]string, len(missing))
	for i, n := range missing {
		parts[i] = fmt.Sprintf("missing rule: %s — needed by %s", n.Permission, n.ClassNames())
	}
	return strings.Join(parts, "; ") + "; see `drill rbac`"
}
