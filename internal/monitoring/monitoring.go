// Package monitoring deploys drill's monitoring stack into a cluster:
// Prometheus, Alertmanager, kube-state-metrics and node-exporter in namespace
// fixtures.MonitoringNamespace, from the manifests of fixtures/monitoring and
// configurations generated here (the intervals and the webhook receiver are
// parameters), so that drills can measure which alerts fire, when, and when
// they reach their receiver.
//
// Deploy is idempotent: it applies everything with server-side apply, and a
// configuration that changed rolls the pods that read it. It returns only
// once the stack works end to end: every scrape job has its targets up, the
// rules are loaded and Prometheus knows its Alertmanager.
package monitoring

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/fixtures"
)

// Options are what Deploy deploys.
type Options struct {
	// ScrapeInterval and EvaluationInterval are Prometheus' global
	// intervals; 0 is DefaultScrapeInterval and DefaultEvaluationInterval
	// (15s each).
	ScrapeInterval, EvaluationInterval time.Duration
	// WebhookURL is Alertmanager's one receiver, as the pods reach it:
	// drill's receiver on the host, e.g. http://172.18.0.1:19093/alerts on
	// kind (the kind network's gateway). Required.
	WebhookURL string
	// WebhookToken is the bearer token Alertmanager sends the webhook
	// (the receiver's, alerts.Receiver.Token); "" sends none. It is kept
	// in the Secret AlertmanagerConfigSecret, with the rest of
	// alertmanager.yml, and logged nowhere.
	WebhookToken string
	// Rules maps rule file names (ending in .yaml) to their content. nil
	// loads every fixtures/monitoring/rules/*.rules.yaml.
	Rules map[string][]byte
	// Timeout bounds each of Deploy's waits; 0 is DefaultTimeout (5m).
	Timeout time.Duration
}

// Stack is a deployed monitoring stack, as the host reaches it.
type Stack struct {
	// PrometheusURL and AlertmanagerURL are http://<node InternalIP>:<node
	// port>, on the node that runs each (where the NodePort is answered
	// without another node's help).
	PrometheusURL, AlertmanagerURL string
	// ScrapeInterval and EvaluationInterval are Prometheus' global
	// intervals.
	ScrapeInterval, EvaluationInterval time.Duration
}

// FieldManager is the server-side apply field manager of what Deploy
// applies.
const FieldManager = "drill"

// Deploy applies the stack (idempotent, server-side apply; a changed
// configuration rolls the pods that read it) and waits, each wait bounded by
// opts.Timeout, until:
//   - Prometheus, Alertmanager and kube-state-metrics are available and
//     node-exporter is ready on every node;
//   - Prometheus and Alertmanager answer the host on their node ports;
//   - every scrape job has a target up: kubernetes-apiservers one per
//     kube-apiserver pod, node-exporter one per node (the targets are read
//     from the cluster, see DiscoverTargets);
//   - Prometheus lists every rule group of opts.Rules, and has discovered
//     Alertmanager.
//
// A wait that runs out names what is missing: the pods' problems (an image
// not on the node, a crash with the end of its log), the jobs without
// targets up and Prometheus' last scrape error for each.
func Deploy(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, opts Options, logger log.Logger) (*Stack, error) {
	if logger == nil {
		logger = log.NoopLogger{}
	}
	if cs == nil || cfg == nil {
		return nil, errors.New("deploy monitoring: a Kubernetes client and its configuration are required")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Rules == nil {
		if opts.Rules, err = defaultRules(); err != nil {
			return nil, fmt.Errorf("deploy monitoring: read the default rules: %w", err)
		}
	}
	groups, err := checkRules(opts.Rules)
	if err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	d := &deployer{cs: cs, logger: logger, timeout: opts.Timeout, ns: fixtures.MonitoringNamespace,
		http: &http.Client{Timeout: 10 * time.Second}}
	if d.dyn, err = newApplier(cfg, logger); err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	start := time.Now()
	logger.V(0).Infof("Deploying drill's monitoring into %s: Prometheus (scrape %s, evaluation %s, %d rule groups), Alertmanager to %s",
		d.ns, opts.ScrapeInterval, opts.EvaluationInterval, len(groups), opts.WebhookURL)

	if err := d.waitFor(ctx, "namespace "+d.ns+" not terminating", d.namespaceUsable); err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	targets, err := DiscoverTargets(ctx, cs)
	if err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	objs, err := resources(opts, targets)
	if err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	logger.V(1).Infof("   targets: %d API servers, %d nodes", len(targets.APIServers), len(targets.Nodes))
	if err := d.step(fmt.Sprintf("Applying %d objects", len(objs)), func() error { return d.apply(ctx, objs) }); err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	for _, w := range []struct{ kind, name string }{
		{"Deployment", "prometheus"}, {"Deployment", "alertmanager"}, {"Deployment", "kube-state-metrics"}, {"DaemonSet", "node-exporter"},
	} {
		what := fmt.Sprintf("%s %s/%s ready", w.kind, d.ns, w.name)
		if err := d.waitFor(ctx, what, func(ctx context.Context) (bool, string, error) { return d.workloadReady(ctx, w.kind, w.name) }); err != nil {
			return nil, fmt.Errorf("deploy monitoring: %w", err)
		}
	}

	stack := &Stack{ScrapeInterval: opts.ScrapeInterval, EvaluationInterval: opts.EvaluationInterval}
	for _, s := range []struct {
		name string
		port int
		url  *string
	}{{"prometheus", fixtures.PrometheusNodePort, &stack.PrometheusURL}, {"alertmanager", fixtures.AlertmanagerNodePort, &stack.AlertmanagerURL}} {
		ip, err := d.nodeIPOf(ctx, s.name)
		if err != nil {
			return nil, fmt.Errorf("deploy monitoring: %w", err)
		}
		*s.url = "http://" + net.JoinHostPort(ip, strconv.Itoa(s.port))
		if err := d.waitFor(ctx, s.name+" ready at "+*s.url, func(ctx context.Context) (bool, string, error) {
			return d.httpReady(ctx, *s.url+"/-/ready")
		}); err != nil {
			return nil, fmt.Errorf("deploy monitoring: %w", err)
		}
	}

	prom, err := newPromAPI(stack.PrometheusURL)
	if err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	want := wantTargets(targets)
	if err := d.waitFor(ctx, "every scrape job's targets up", func(ctx context.Context) (bool, string, error) {
		return targetsUp(ctx, prom, want)
	}); err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	if err := d.waitFor(ctx, fmt.Sprintf("Prometheus' %d rule groups loaded", len(groups)), func(ctx context.Context) (bool, string, error) {
		return rulesLoaded(ctx, prom, groups)
	}); err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	if err := d.waitFor(ctx, "Alertmanager discovered by Prometheus", func(ctx context.Context) (bool, string, error) {
		return alertmanagerDiscovered(ctx, prom, fixtures.MonitoringNamespace)
	}); err != nil {
		return nil, fmt.Errorf("deploy monitoring: %w", err)
	}
	logger.V(0).Infof("drill's monitoring is up (%s): Prometheus %s, Alertmanager %s",
		time.Since(start).Round(100*time.Millisecond), stack.PrometheusURL, stack.AlertmanagerURL)
	return stack, nil
}
