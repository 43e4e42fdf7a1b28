//go:build monitoring_integration

// The monitoring stack on a real kind cluster: the images loaded, Deploy with
// the webhook pointing at a receiver this test runs on the host (at the kind
// network's gateway), then every job's targets, a few queries, a test alert
// through Alertmanager to the webhook, and the stack's memory, timed. It
// needs a kind cluster with the images built (images/build.sh monitoring):
//
//	MONITORING_KUBECONFIG=$PWD/_output/kubeconfig MONITORING_KIND_CLUSTER=drill \
//	  go test -tags monitoring_integration -run TestIntegration -v -timeout 30m ./internal/monitoring/
//
// MONITORING_FRESH=1 deletes the namespace first, to time a deploy from
// nothing; MONITORING_COLD=1 also removes the images from the nodes, to time
// it with their loading.
package monitoring

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	docker "github.com/docker/docker/client"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/cluster"
)

// stepLogger passes messages on and keeps when each ✓ line was logged, so
// that the test can tell when Deploy's steps ended.
type stepLogger struct {
	log.Logger
	mu   sync.Mutex
	done map[string]time.Time
}

type stepInfo struct {
	log.InfoLogger
	l *stepLogger
}

func (s *stepLogger) V(level log.Level) log.InfoLogger {
	return stepInfo{InfoLogger: s.Logger.V(level), l: s}
}

func (i stepInfo) Infof(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if name, ok := strings.CutPrefix(msg, " ✓ "); ok {
		name = name[:strings.LastIndex(name, " (")]
		i.l.mu.Lock()
		if _, seen := i.l.done[name]; !seen {
			i.l.done[name] = time.Now() // the first deploy's
		}
		i.l.mu.Unlock()
	}
	i.InfoLogger.Info(msg)
}

func (s *stepLogger) ended(prefix string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, t := range s.done {
		if strings.HasPrefix(name, prefix) {
			return t
		}
	}
	return time.Time{}
}

// hookReceiver is the test's Alertmanager receiver.
type hookReceiver struct {
	mu   sync.Mutex
	got  []webhookCall
	srv  *http.Server
	addr string
}

type webhookCall struct {
	at      time.Time
	Status  string `json:"status"`
	Version string `json:"version"`
	Alerts  []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func listenWebhook(t *testing.T, host string) *hookReceiver {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen on the kind network's gateway %s: %v", host, err)
	}
	w := &hookReceiver{addr: ln.Addr().String()}
	w.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var c webhookCall
		err := json.NewDecoder(r.Body).Decode(&c)
		c.at = time.Now()
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.got = append(w.got, c)
		w.mu.Unlock()
	})}
	go func() { _ = w.srv.Serve(ln) }()
	t.Cleanup(func() { _ = w.srv.Close() })
	return w
}

// received returns when the alert named name was first notified with status.
func (w *hookReceiver) received(name, status string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.got {
		for _, a := range c.Alerts {
			if a.Labels["alertname"] == name && a.Status == status {
				return c.at, true
			}
		}
	}
	return time.Time{}, false
}

// kindGateway is the gateway of the docker network kind's nodes are on: the
// host's address as the pods reach it.
func kindGateway(ctx context.Context, t *testing.T) string {
	dc, err := docker.NewClientWithOpts(docker.FromEnv, docker.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	name := os.Getenv("KIND_EXPERIMENTAL_DOCKER_NETWORK")
	if name == "" {
		name = "kind"
	}
	n, err := dc.NetworkInspect(ctx, name, network.InspectOptions{})
	if err != nil {
		t.Fatalf("inspect docker network %s: %v", name, err)
	}
	for _, c := range n.IPAM.Config {
		if ip := net.ParseIP(c.Gateway); ip != nil && ip.To4() != nil {
			return c.Gateway
		}
	}
	t.Fatalf("docker network %s has no IPv4 gateway: %+v", name, n.IPAM.Config)
	return ""
}

func secs(d time.Duration) float64 { return d.Round(100 * time.Millisecond).Seconds() }

func TestIntegration(t *testing.T) {
	kubeconfig := os.Getenv("MONITORING_KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("MONITORING_KUBECONFIG is not set")
	}
	kindName := os.Getenv("MONITORING_KIND_CLUSTER")
	ctx := t.Context()
	logger := &stepLogger{Logger: cluster.NewWriterLogger(&cluster.StampWriter{Start: time.Now(), W: os.Stderr}, 1), done: map[string]time.Time{}}
	tm := map[string]any{}
	defer func() {
		out, _ := json.MarshalIndent(tm, "", "  ")
		_ = os.WriteFile("/tmp/monitoring-integration.json", out, 0o644)
		t.Logf("measured:\n%s", out)
	}()

	cfg, err := cluster.RESTConfig(cluster.Kubeconfig{Path: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)

	var k *cluster.Kind
	if kindName != "" {
		if k, err = cluster.NewKind(kindName, cluster.KindWithKubeconfig(kubeconfig), cluster.KindWithLogger(logger)); err != nil {
			t.Fatal(err)
		}
	}
	if os.Getenv("MONITORING_FRESH") != "" || os.Getenv("MONITORING_COLD") != "" {
		start := time.Now()
		deleteNamespace(ctx, t, cs, fixtures.MonitoringNamespace)
		tm["namespace_delete_s"] = secs(time.Since(start))
	}
	if os.Getenv("MONITORING_COLD") != "" && k != nil {
		nodes, err := k.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			for _, img := range fixtures.MonitoringImages {
				if out, err := k.ExecOnNode(ctx, n.Name, "crictl", "rmi", img); err != nil && !strings.Contains(err.Error()+out, "no such image") {
					t.Fatalf("remove %s from %s: %v: %s", img, n.Name, err, out)
				}
			}
		}
	}

	// Cold when the nodes lack the images: loading them is part of the
	// deploy.
	start := time.Now()
	if k != nil {
		res, err := k.LoadImages(ctx, fixtures.MonitoringImages...)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Missing) > 0 {
			t.Fatalf("images missing from the local docker: %v (run images/build.sh monitoring)", res.Missing)
		}
		tm["images_loaded"] = len(res.Loaded)
		tm["load_images_s"] = secs(time.Since(start))
	}

	gw := kindGateway(ctx, t)
	hook := listenWebhook(t, gw)
	url := "http://" + hook.addr + "/alerts"
	logger.V(0).Infof("webhook receiver at %s", url)

	deployStart := time.Now()
	stack, err := Deploy(ctx, cs, cfg, Options{WebhookURL: url}, logger)
	if err != nil {
		t.Fatal(err)
	}
	tm["deploy_s"] = secs(time.Since(deployStart))
	tm["deploy_with_load_s"] = secs(time.Since(start))
	if end := logger.ended("Waiting ≤ 5m0s for every scrape job's targets up"); !end.IsZero() {
		tm["deploy_to_all_targets_up_s"] = secs(end.Sub(deployStart))
	}
	tm["prometheus_url"], tm["alertmanager_url"] = stack.PrometheusURL, stack.AlertmanagerURL

	// Again, nothing changed: a no-op that only checks.
	again := time.Now()
	if _, err := Deploy(ctx, cs, cfg, Options{WebhookURL: url}, logger); err != nil {
		t.Fatalf("deploy again: %v", err)
	}
	tm["deploy_again_s"] = secs(time.Since(again))

	pc, err := promapi.NewClient(promapi.Config{Address: stack.PrometheusURL})
	if err != nil {
		t.Fatal(err)
	}
	prom := promv1.NewAPI(pc)

	// Every target of every job up.
	targets, err := prom.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string][2]int{}
	for _, tg := range targets.Active {
		c := jobs[tg.ScrapePool]
		c[1]++
		if tg.Health == promv1.HealthGood {
			c[0]++
		} else {
			t.Errorf("target %s of job %s is %s: %s", tg.ScrapeURL, tg.ScrapePool, tg.Health, tg.LastError)
		}
		jobs[tg.ScrapePool] = c
	}
	upByJob := map[string]string{}
	for _, j := range Jobs {
		upByJob[j] = fmt.Sprintf("%d/%d", jobs[j][0], jobs[j][1])
		if jobs[j][0] == 0 {
			t.Errorf("job %s: no target up", j)
		}
	}
	tm["targets_up"] = upByJob

	query := func(q string) model.Vector {
		t.Helper()
		v, warnings, err := prom.Query(ctx, q, time.Now())
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		if len(warnings) > 0 {
			t.Logf("query %s: warnings %v", q, warnings)
		}
		vec, ok := v.(model.Vector)
		if !ok {
			t.Fatalf("query %s: %s, want a vector", q, v.Type())
		}
		return vec
	}
	api := query(`up{job="kubernetes-apiservers"}`)
	var apiNodes []string
	for _, s := range api {
		apiNodes = append(apiNodes, fmt.Sprintf("%s=%s@%s", s.Metric["instance"], s.Value, s.Metric["node"]))
		if s.Metric["node"] == "" {
			t.Errorf("%s has no node label", s.Metric)
		}
	}
	sort.Strings(apiNodes)
	tm["up_apiservers"] = apiNodes
	if len(api) != 3 {
		t.Errorf(`up{job="kubernetes-apiservers"}: %d series, want 3: %v`, len(api), api)
	}
	if n := len(query(`node_memory_MemAvailable_bytes`)); n != 6 {
		t.Errorf("node_memory_MemAvailable_bytes: %d series, want 6", n)
	}
	if v := query(`node_memory_MemAvailable_bytes`); len(v) > 0 {
		var vals []string
		for _, s := range v {
			vals = append(vals, fmt.Sprintf("%s=%.0fMiB", s.Metric["node"], float64(s.Value)/(1<<20)))
		}
		sort.Strings(vals)
		tm["node_memory_available"] = vals
	}
	if n := len(query(`kube_pod_container_status_restarts_total`)); n == 0 {
		t.Errorf("kube_pod_container_status_restarts_total has no data")
	} else {
		tm["kube_pod_container_status_restarts_total_series"] = n
	}

	// A test alert, posted to Alertmanager, reaches the webhook; and its
	// resolution too.
	name := fmt.Sprintf("DrillMonitoringTest%d", time.Now().Unix())
	posted := time.Now()
	postAlert(ctx, t, stack.AlertmanagerURL, name, time.Time{})
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		_, ok := hook.received(name, "firing")
		return ok, nil
	}); err != nil {
		t.Fatalf("the test alert %s did not reach the webhook at %s: %v", name, url, err)
	}
	at, _ := hook.received(name, "firing")
	tm["test_alert_to_webhook_s"] = secs(at.Sub(posted))
	resolved := time.Now()
	postAlert(ctx, t, stack.AlertmanagerURL, name, time.Now())
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		_, ok := hook.received(name, "resolved")
		return ok, nil
	}); err != nil {
		t.Errorf("the test alert's resolution did not reach the webhook: %v", err)
	} else {
		at, _ := hook.received(name, "resolved")
		tm["test_alert_resolved_to_webhook_s"] = secs(at.Sub(resolved))
	}

	// The web UIs Debian's packages serve: Prometheus' classic UI (under
	// /classic; /graph redirects there), no React UI (/targets), and
	// Alertmanager's page that says it has no UI.
	for _, u := range []string{stack.PrometheusURL + "/graph", stack.PrometheusURL + "/classic/targets", stack.PrometheusURL + "/targets", stack.AlertmanagerURL + "/"} {
		resp, err := http.Get(u)
		if err != nil {
			tm["ui "+u] = err.Error()
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tm["ui "+u] = fmt.Sprintf("%s, %d bytes", resp.Status, len(body))
	}

	// What the stack costs: working set by pod (cAdvisor), series in the
	// head, samples per scrape by job.
	var mem []string
	var total float64
	for _, s := range query(fmt.Sprintf(`sum by (pod) (container_memory_working_set_bytes{namespace=%q, container!="", container!="POD"})`, fixtures.MonitoringNamespace)) {
		mem = append(mem, fmt.Sprintf("%s=%.0fMiB", s.Metric["pod"], float64(s.Value)/(1<<20)))
		total += float64(s.Value)
	}
	sort.Strings(mem)
	tm["memory_working_set"] = mem
	tm["memory_working_set_total_mib"] = int(total / (1 << 20))
	// Prometheus does not scrape itself: read its own metrics.
	if resp, err := http.Get(stack.PrometheusURL + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			for _, m := range []string{"prometheus_tsdb_head_series ", "process_resident_memory_bytes "} {
				if v, ok := strings.CutPrefix(line, m); ok {
					tm[strings.TrimSpace(m)] = v
				}
			}
		}
	}
	samples := map[string]string{}
	for _, s := range query(`sum by (job) (scrape_samples_scraped)`) {
		samples[string(s.Metric["job"])] = s.Value.String()
	}
	for _, s := range query(`max by (job) (scrape_duration_seconds)`) {
		samples[string(s.Metric["job"])] += fmt.Sprintf(" samples, max scrape %.2fs", float64(s.Value))
	}
	tm["scrape"] = samples

	// A new scrape interval rolls Prometheus, and only Prometheus; then
	// back to the default.
	podsOf := func(name string) string {
		pods, err := cs.CoreV1().Pods(fixtures.MonitoringNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + name})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range pods.Items {
			names = append(names, p.Name)
		}
		return strings.Join(names, ",")
	}
	promPod, amPod := podsOf("prometheus"), podsOf("alertmanager")
	change := time.Now()
	if _, err := Deploy(ctx, cs, cfg, Options{WebhookURL: url, ScrapeInterval: 30 * time.Second}, logger); err != nil {
		t.Fatalf("deploy with a 30s scrape interval: %v", err)
	}
	tm["deploy_new_scrape_interval_s"] = secs(time.Since(change))
	if c, err := prom.Config(ctx); err != nil || !strings.Contains(c.YAML, "scrape_interval: 30s") {
		t.Errorf("Prometheus' configuration after the change (%v):\n%s", err, c.YAML)
	}
	if p := podsOf("prometheus"); p == promPod {
		t.Errorf("prometheus pod %s was not replaced", p)
	}
	if a := podsOf("alertmanager"); a != amPod {
		t.Errorf("alertmanager pod %s replaced by %s: its configuration did not change", amPod, a)
	}
	back := time.Now()
	if _, err := Deploy(ctx, cs, cfg, Options{WebhookURL: url}, logger); err != nil {
		t.Fatalf("deploy with the default interval again: %v", err)
	}
	tm["deploy_default_again_s"] = secs(time.Since(back))
}

// postAlert posts one alert to Alertmanager's API, ended at endsAt if not
// zero.
func postAlert(ctx context.Context, t *testing.T, amURL, name string, endsAt time.Time) {
	t.Helper()
	a := map[string]any{"labels": map[string]string{"alertname": name, "severity": "none", "instance": "integration-test"}}
	if !endsAt.IsZero() {
		a["endsAt"] = endsAt.UTC().Format(time.RFC3339Nano)
	}
	body, _ := json.Marshal([]any{a})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, amURL+"/api/v2/alerts", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post an alert to %s: %v", amURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("post an alert to %s: %s: %s", amURL, resp.Status, b)
	}
}

func deleteNamespace(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("namespace %s not deleted: %v", ns, err)
	}
}
