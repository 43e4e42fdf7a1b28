// Package preflight tells whether a cluster is whole before a drill injects
// anything into it.
//
// A drill started on a cluster that is already degraded measures the wrong
// thing and can break it for good: with one control-plane node already
// stopped, killing the etcd leader takes etcd's quorum away. Run takes one
// look at the nodes, the etcd members, the API servers, the drill's workload,
// the open fault journals and the access the drill needs (a
// SelfSubjectAccessReview per permission of its classes, package rbac), and
// says per check whether it passed, failed or could not be checked. Each check is a snapshot: only a transient API
// error (a timeout, a refused or reset connection, 429, 500, 503) is retried,
// briefly; whether to wait for a cluster to become whole is the caller's
// decision.
//
// A check that lacks the means to run (no etcd access on an existing
// cluster, no workload, no journal source) is reported as not checked, never
// as passed. A check that runs but gets no answer (the API times out, etcd
// does not answer) fails: a cluster that should answer and does not is not
// whole.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Status is the outcome of one check.
type Status string

// Statuses of a check.
const (
	// StatusOK means the check ran and found nothing wrong.
	StatusOK Status = "ok"
	// StatusFailed means the check found something wrong, or could not get
	// an answer from what it checks.
	StatusFailed Status = "failed"
	// StatusNotChecked means the check could not run: what it needs was not
	// given. It is not a pass.
	StatusNotChecked Status = "not checked"
)

// Names of the checks, in the order Run reports them.
const (
	CheckNodes      = "nodes"
	CheckEtcd       = "etcd"
	CheckAPIServers = "apiservers"
	CheckWorkload   = "workload"
	CheckJournals   = "journals"
	CheckAccess     = "access"
)

// DefaultTimeout bounds each check when Input.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Check is the outcome of one check.
type Check struct {
	// Name is one of the Check* names.
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Detail says what was seen, for a person reading a report: on failure
	// every problem found ("drill-worker2 is cordoned; ..."), otherwise a
	// summary, or why the check did not run.
	Detail string `json:"detail,omitempty"`
}

// Result is the outcome of every check, in a fixed order.
type Result struct {
	Checks []Check `json:"checks"`
}

// OK tells whether no check failed. Checks not run do not fail.
func (r Result) OK() bool {
	for _, c := range r.Checks {
		if c.Status == StatusFailed {
			return false
		}
	}
	return true
}

// Problems describes each failed check as "name: detail", one per check.
func (r Result) Problems() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == StatusFailed {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// String summarizes the result for logs and reports: a line with the
// verdict, then one line per check.
func (r Result) String() string {
	var failed, skipped []string
	for _, c := range r.Checks {
		switch c.Status {
		case StatusFailed:
			failed = append(failed, c.Name)
		case StatusNotChecked:
			skipped = append(skipped, c.Name)
		}
	}
	var b strings.Builder
	b.WriteString("preflight: ")
	if len(failed) == 0 {
		b.WriteString("ok")
	} else {
		fmt.Fprintf(&b, "failed (%s)", strings.Join(failed, ", "))
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "; not checked: %s", strings.Join(skipped, ", "))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "\n  %-10s %-11s %s", c.Name, c.Status, c.Detail)
	}
	return b.String()
}

// Workload names the Deployment a drill measures.
type Workload struct {
	Namespace  string
	Deployment string
}

// Input is what Run checks, and with what.
type Input struct {
	// Clientset reads nodes, node leases, the API servers' EndpointSlices
	// and the workload. Required: without it those checks fail.
	Clientset kubernetes.Interface
	// RESTConfig reaches the API: its server and credentials are used for
	// every API server's /readyz. Nil: the API servers are not checked.
	RESTConfig *rest.Config
	// Etcd reaches every etcd member (a *clientv3.Client satisfies it). Nil,
	// or a nil pointer in the interface: etcd is not checked.
	Etcd Etcd
	// Workload is the drill's Deployment. Nil: not checked.
	Workload *Workload
	// OpenJournals lists the fault journals still open (a fault injected
	// and not reverted), each as a description. Nil: not checked.
	OpenJournals func(ctx context.Context) ([]string, error)
	// Access is what the drill needs of the API, and who asks whether the
	// user holds it. Nil: not checked.
	Access *Access
	// Timeout bounds each check (the nodes are read first, with one more
	// Timeout). Zero: DefaultTimeout.
	Timeout time.Duration
}

// Run checks that the cluster is whole: every node Ready and schedulable,
// every etcd member started, voting and healthy under one leader, every API
// server ready, the workload rolled out and no fault journal open; and that
// the user drill runs as holds the rules its drill needs. The checks
// run concurrently, each within in.Timeout; the result lists them in the
// order of the Check* names.
func Run(ctx context.Context, in Input) Result {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The nodes are read once: the etcd and API server checks compare
	// what they find with the control-plane nodes.
	var nodes nodeSnapshot
	if in.Clientset == nil {
		nodes.err = errors.New("no Kubernetes client given")
	} else {
		nctx, cancel := context.WithTimeout(ctx, timeout)
		nodes = readNodes(nctx, in.Clientset)
		cancel()
	}
	checks := []func(ctx context.Context) Check{
		func(context.Context) Check { return checkNodes(nodes, time.Now()) },
		func(ctx context.Context) Check {
			if isNil(in.Etcd) {
				return Check{Name: CheckEtcd, Status: StatusNotChecked, Detail: "no etcd access"}
			}
			return checkEtcd(ctx, in.Etcd, nodes)
		},
		func(ctx context.Context) Check {
			if in.RESTConfig == nil {
				return Check{Name: CheckAPIServers, Status: StatusNotChecked, Detail: "no REST config given"}
			}
			return checkAPIServers(ctx, in.RESTConfig, in.Clientset, nodes)
		},
		func(ctx context.Context) Check { return checkWorkload(ctx, in.Clientset, in.Workload) },
		func(ctx context.Context) Check { return checkJournals(ctx, in.OpenJournals) },
		func(ctx context.Context) Check { return RunAccess(ctx, in.Access) },
	}
	r := Result{Checks: make([]Check, len(checks))}
	var wg sync.WaitGroup
	for i, check := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			r.Checks[i] = check(cctx)
		})
	}
	wg.Wait()
	return r
}

// failed builds a failed check from the problems found and a summary of
// what was seen.
func failed(name string, problems []string, summary string) Check {
	detail := strings.Join(problems, "; ")
	if summary != "" {
		detail += "; " + summary
	}
	return Check{Name: name, Status: StatusFailed, Detail: detail}
}

// verdict is failed when there are problems, otherwise ok with summary.
func verdict(name string, problems []string, summary string) Check {
	if len(problems) > 0 {
		return failed(name, problems, summary)
	}
	return Check{Name: name, Status: StatusOK, Detail: summary}
}

// isNil tells whether v is nil or holds a nil pointer: an engine without
// etcd access passes its nil *clientv3.Client as an Etcd.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// transientBackoff spaces the attempts at a read that failed transiently:
// three attempts within about 0.75 s.
var transientBackoff = wait.Backoff{Duration: 250 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 3}

// retryTransient calls f until it succeeds, fails for good, or
// transientBackoff's attempts are spent, and returns its last answer.
func retryTransient[T any](ctx context.Context, f func(ctx context.Context) (T, error)) (T, error) {
	var v T
	var last error
	err := wait.ExponentialBackoffWithContext(ctx, transientBackoff, func(ctx context.Context) (bool, error) {
		v, last = f(ctx)
		switch {
		case last == nil:
			return true, nil
		case transient(last):
			return false, nil
		default:
			return false, last
		}
	})
	if last != nil {
		return v, last
	}
	return v, err
}

// transient tells whether err may go away if the request is simply sent
// again: a server timeout or overload, an internal error (etcd changing
// leader under the API server), a refused or broken connection.
func transient(err error) bool {
	return apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) ||
		utilnet.IsProbableEOF(err) || utilnet.IsHTTP2ConnectionLost(err)
}

// plural is "1 node", "2 nodes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
