package monitoring

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/kube"
)

// deployer is one run of Deploy.
type deployer struct {
	cs      kubernetes.Interface
	dyn     *applier
	logger  log.Logger
	timeout time.Duration
	ns      string
	http    *http.Client
}

// pollInterval is how often the waits look.
const pollInterval = time.Second

// step runs fn between a start and an end line, as kind's steps are logged.
func (d *deployer) step(name string, fn func() error) error {
	start := time.Now()
	d.logger.V(0).Infof(" • %s ...", name)
	err := fn()
	elapsed := time.Since(start).Round(100 * time.Millisecond)
	if err != nil {
		d.logger.V(0).Infof(" ✗ %s (failed after %s)", name, elapsed)
		return err
	}
	d.logger.V(0).Infof(" ✓ %s (%s)", name, elapsed)
	return nil
}

// waitFor polls cond until it is done, logged as a step; each new
// description of the state is logged at V(1). Running out of time is an
// error that carries the last description; an error from cond ends the wait.
func (d *deployer) waitFor(ctx context.Context, what string, cond func(ctx context.Context) (done bool, desc string, err error)) error {
	return d.step(fmt.Sprintf("Waiting ≤ %s for %s", d.timeout, what), func() error {
		return kube.Poll(ctx, pollInterval, d.timeout, what, func(desc string) {
			d.logger.V(1).Infof("   %s: %s", what, desc)
		}, cond)
	})
}

// namespaceUsable is done when the namespace is absent or not being deleted:
// a terminating namespace takes no new objects.
func (d *deployer) namespaceUsable(ctx context.Context) (bool, string, error) {
	ns, err := d.cs.CoreV1().Namespaces().Get(ctx, d.ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return true, "", nil
	case err != nil:
		return false, err.Error(), nil
	}
	return ns.DeletionTimestamp == nil, "terminating", nil
}

// workloadReady tells whether a Deployment's rollout is complete with every
// replica available, or a DaemonSet runs an up-to-date ready pod on every
// node it should, and describes it with its pods' problems.
func (d *deployer) workloadReady(ctx context.Context, kind, name string) (bool, string, error) {
	var (
		ok       bool
		desc     string
		selector *metav1.LabelSelector
	)
	switch kind {
	case "Deployment":
		dep, err := d.cs.AppsV1().Deployments(d.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		ok, desc = kube.DeploymentReady(dep)
		selector = dep.Spec.Selector
	case "DaemonSet":
		ds, err := d.cs.AppsV1().DaemonSets(d.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		ok, desc = kube.DaemonSetReady(ds)
		selector = ds.Spec.Selector
	default:
		return false, "", fmt.Errorf("%s is not a workload kind", kind)
	}
	if !ok {
		if problems := d.podProblems(ctx, selector); len(problems) > 0 {
			desc += "; " + strings.Join(problems, "; ")
		}
	}
	return ok, desc, nil
}

// podProblems describes why the pods a selector matches are not ready:
// unschedulable, a container waiting (an image that is not on the node, a
// crash loop) or restarted, with the end of its log. Best effort: an error
// reading them says nothing.
func (d *deployer) podProblems(ctx context.Context, selector *metav1.LabelSelector) []string {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil
	}
	pods, err := d.cs.CoreV1().Pods(d.ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil
	}
	return kube.PodProblems(pods.Items, "is the image loaded into the nodes? see fixtures.MonitoringImages")
}

// nodeIPOf returns the InternalIP of the node that runs the ready pod of
// Deployment name.
func (d *deployer) nodeIPOf(ctx context.Context, name string) (string, error) {
	dep, err := d.cs.AppsV1().Deployments(d.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get deployment %s/%s: %w", d.ns, name, err)
	}
	pods, err := d.cs.CoreV1().Pods(d.ns).List(ctx, metav1.ListOptions{LabelSelector: labels.Set(dep.Spec.Selector.MatchLabels).String()})
	if err != nil {
		return "", fmt.Errorf("list the pods of %s/%s: %w", d.ns, name, err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Spec.NodeName == "" || !podReady(&p) {
			continue
		}
		node, err := d.cs.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("get node %s of pod %s: %w", p.Spec.NodeName, p.Name, err)
		}
		for _, a := range node.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && a.Address != "" {
				return a.Address, nil
			}
		}
		return "", fmt.Errorf("node %s (of pod %s/%s) has no InternalIP", node.Name, d.ns, p.Name)
	}
	return "", fmt.Errorf("deployment %s/%s has no ready pod", d.ns, name)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// httpReady is done when url answers 200.
func (d *deployer) httpReady(ctx context.Context, url string) (bool, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, "", err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return false, err.Error(), nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body))), nil
	}
	return true, "", nil
}

// promAPI is what Deploy asks Prometheus.
type promAPI interface {
	Targets(ctx context.Context) (promv1.TargetsResult, error)
	Rules(ctx context.Context) (promv1.RulesResult, error)
	AlertManagers(ctx context.Context) (promv1.AlertManagersResult, error)
}

func newPromAPI(url string) (promv1.API, error) {
	c, err := promapi.NewClient(promapi.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", url, err)
	}
	return promv1.NewAPI(c), nil
}

// callTimeout bounds each request to Prometheus.
const callTimeout = 10 * time.Second

// wantTargets is how many targets up each job needs: every kube-apiserver,
// node-exporter on every node, and one of every other job.
func wantTargets(t Targets) map[string]int {
	want := map[string]int{}
	for _, j := range Jobs {
		want[j] = 1
	}
	want[JobAPIServers] = len(t.APIServers)
	want[JobNodeExporter] = len(t.Nodes)
	return want
}

// targetsUp asks Prometheus for its targets and checks them against want.
func targetsUp(ctx context.Context, api promAPI, want map[string]int) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := api.Targets(ctx)
	if err != nil {
		return false, "ask Prometheus for its targets: " + err.Error(), nil
	}
	ok, desc := checkTargets(res.Active, want)
	return ok, desc, nil
}

// checkTargets tells whether every job of want has at least as many targets
// up as it wants, and describes each job that has not, with the scrape
// errors of its targets that are down.
func checkTargets(active []promv1.ActiveTarget, want map[string]int) (bool, string) {
	type job struct {
		up, all int
		errs    []string
	}
	jobs := map[string]*job{}
	for name := range want {
		jobs[name] = &job{}
	}
	for _, t := range active {
		j := jobs[t.ScrapePool]
		if j == nil {
			continue // a job Deploy does not check
		}
		j.all++
		switch t.Health {
		case promv1.HealthGood:
			j.up++
		case promv1.HealthBad:
			j.errs = append(j.errs, fmt.Sprintf("%s: %s", t.ScrapeURL, t.LastError))
		default:
			j.errs = append(j.errs, fmt.Sprintf("%s: not scraped yet", t.ScrapeURL))
		}
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	var missing []string
	for _, name := range names {
		j := jobs[name]
		if j.up >= want[name] {
			continue
		}
		desc := fmt.Sprintf("job %s: %d of %d targets up, want %d", name, j.up, j.all, want[name])
		if j.all == 0 {
			desc = fmt.Sprintf("job %s: no targets discovered, want %d up", name, want[name])
		}
		slices.Sort(j.errs)
		if len(j.errs) > 0 {
			desc += " (" + strings.Join(j.errs, "; ") + ")"
		}
		missing = append(missing, desc)
	}
	if len(missing) > 0 {
		return false, strings.Join(missing, "; ")
	}
	return true, fmt.Sprintf("%d jobs up", len(names))
}

// rulesLoaded is done when Prometheus lists every rule group.
func rulesLoaded(ctx context.Context, api promAPI, groups []string) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := api.Rules(ctx)
	if err != nil {
		return false, "ask Prometheus for its rules: " + err.Error(), nil
	}
	loaded := map[string]bool{}
	for _, g := range res.Groups {
		loaded[g.Name] = true
	}
	var missing []string
	for _, g := range groups {
		if !loaded[g] {
			missing = append(missing, g)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("rule groups not loaded: %s (Prometheus has %d groups; see its log for rule file errors)", strings.Join(missing, ", "), len(res.Groups)), nil
	}
	return true, "", nil
}

// alertmanagerDiscovered is done when Prometheus sends alerts to an
// Alertmanager of the namespace.
func alertmanagerDiscovered(ctx context.Context, api promAPI, namespace string) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := api.AlertManagers(ctx)
	if err != nil {
		return false, "ask Prometheus for its Alertmanagers: " + err.Error(), nil
	}
	if len(res.Active) == 0 {
		return false, fmt.Sprintf("no active Alertmanager (%d dropped): does %s.%s.svc resolve to the Alertmanager pod?", len(res.Dropped), AlertmanagerService, namespace), nil
	}
	return true, "", nil
}
