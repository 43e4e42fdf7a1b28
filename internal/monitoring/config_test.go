package monitoring

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/drill-sre/drill/fixtures"
)

const webhook = "http://172.18.0.1:19093/alerts"

// kindTargets are the targets of a kind cluster of 3 control planes and a
// worker.
var kindTargets = Targets{
	APIServers: []Target{{"172.18.0.2:6443", "drill-control-plane"}, {"172.18.0.3:6443", "drill-control-plane2"}, {"172.18.0.4:6443", "drill-control-plane3"}},
	Nodes: []Target{{"172.18.0.2:10250", "drill-control-plane"}, {"172.18.0.3:10250", "drill-control-plane2"},
		{"172.18.0.4:10250", "drill-control-plane3"}, {"172.18.0.5:10250", "drill-worker"}},
}

func defaulted(t *testing.T, o Options) Options {
	t.Helper()
	o, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// parsePromConfig reads a generated prometheus.yml back, refusing fields
// the types do not know.
func parsePromConfig(t *testing.T, raw []byte) promConfig {
	t.Helper()
	var c promConfig
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode the generated configuration: %v\n%s", err, raw)
	}
	return c
}

func TestDefaults(t *testing.T) {
	o := defaulted(t, Options{WebhookURL: webhook})
	if o.ScrapeInterval != 15*time.Second || o.EvaluationInterval != 15*time.Second || o.Timeout != 5*time.Minute {
		t.Errorf("defaults: scrape %s, evaluation %s, timeout %s; want 15s, 15s, 5m", o.ScrapeInterval, o.EvaluationInterval, o.Timeout)
	}
}

func TestPrometheusConfigIntervals(t *testing.T) {
	for _, tc := range []struct {
		scrape, eval                    time.Duration
		wantScrape, wantTimeout, wantEv string
	}{
		{0, 0, "15s", "10s", "15s"},
		{30 * time.Second, time.Minute, "30s", "10s", "1m"},
		{5 * time.Second, 2 * time.Second, "5s", "5s", "2s"},
		{90 * time.Second, 1500 * time.Millisecond, "1m30s", "10s", "1s500ms"},
	} {
		o := defaulted(t, Options{ScrapeInterval: tc.scrape, EvaluationInterval: tc.eval, WebhookURL: webhook})
		raw, err := prometheusConfig(o, kindTargets)
		if err != nil {
			t.Fatal(err)
		}
		g := parsePromConfig(t, raw).Global
		if g.ScrapeInterval != tc.wantScrape || g.ScrapeTimeout != tc.wantTimeout || g.EvaluationInterval != tc.wantEv {
			t.Errorf("scrape %s, evaluation %s: global %+v, want scrape_interval %s, scrape_timeout %s, evaluation_interval %s",
				tc.scrape, tc.eval, g, tc.wantScrape, tc.wantTimeout, tc.wantEv)
		}
		if !strings.Contains(string(raw), "scrape_interval: "+tc.wantScrape+"\n") {
			t.Errorf("the configuration does not say scrape_interval: %s:\n%s", tc.wantScrape, raw)
		}
	}
}

func TestPrometheusConfigJobs(t *testing.T) {
	raw, err := prometheusConfig(defaulted(t, Options{WebhookURL: webhook}), kindTargets)
	if err != nil {
		t.Fatal(err)
	}
	c := parsePromConfig(t, raw)
	jobs := map[string]scrapeConfig{}
	var names []string
	for _, s := range c.ScrapeConfigs {
		jobs[s.JobName] = s
		names = append(names, s.JobName)
	}
	if !reflect.DeepEqual(names, Jobs) {
		t.Fatalf("jobs %v, want %v", names, Jobs)
	}
	// targets lists a job's targets as "address@node".
	targets := func(job string) []string {
		var out []string
		for _, sc := range jobs[job].StaticConfigs {
			for _, tg := range sc.Targets {
				out = append(out, tg+"@"+sc.Labels["node"])
			}
		}
		return out
	}
	for job, want := range map[string][]string{
		JobAPIServers: {"172.18.0.2:6443@drill-control-plane", "172.18.0.3:6443@drill-control-plane2", "172.18.0.4:6443@drill-control-plane3"},
		JobKubelet: {"172.18.0.2:10250@drill-control-plane", "172.18.0.3:10250@drill-control-plane2", "172.18.0.4:10250@drill-control-plane3",
			"172.18.0.5:10250@drill-worker"},
		JobNodeExporter: {"172.18.0.2:9100@drill-control-plane", "172.18.0.3:9100@drill-control-plane2", "172.18.0.4:9100@drill-control-plane3",
			"172.18.0.5:9100@drill-worker"},
	} {
		if got := targets(job); !reflect.DeepEqual(got, want) {
			t.Errorf("job %s: targets %v, want %v", job, got, want)
		}
	}
	if !reflect.DeepEqual(targets(JobCAdvisor), targets(JobKubelet)) {
		t.Errorf("cadvisor targets %v, want the kubelets'", targets(JobCAdvisor))
	}

	api := jobs[JobAPIServers]
	if api.Scheme != "https" || api.TLSConfig == nil || api.TLSConfig.InsecureSkipVerify || !strings.HasSuffix(api.TLSConfig.CAFile, "/ca.crt") ||
		api.Authorization == nil || !strings.HasSuffix(api.Authorization.CredentialsFile, "/token") {
		t.Errorf("apiservers: scheme %s, TLS %+v, authorization %+v: want https verified with the cluster's CA and the token", api.Scheme, api.TLSConfig, api.Authorization)
	}
	for _, name := range []string{JobKubelet, JobCAdvisor} {
		j := jobs[name]
		if j.Scheme != "https" || j.TLSConfig == nil || !j.TLSConfig.InsecureSkipVerify || j.Authorization == nil {
			t.Errorf("job %s: %+v, want https with the token, the kubelets' certificates not verified", name, j)
		}
	}
	if p := jobs[JobCAdvisor].MetricsPath; p != "/metrics/cadvisor" {
		t.Errorf("cadvisor metrics path %q", p)
	}
	if p := jobs[JobKubelet].MetricsPath; p != "" && p != "/metrics" {
		t.Errorf("kubelet metrics path %q", p)
	}
	// kube-state-metrics and Alertmanager: their headless Services'
	// pods, through DNS.
	ksm := jobs[JobKubeStateMetrics]
	wantKSM := []dnsSD{{Names: []string{"kube-state-metrics.drill-monitoring.svc"}, Type: "A", Port: 8080, RefreshInterval: "10s"}}
	if !ksm.HonorLabels || len(ksm.StaticConfigs) != 0 || !reflect.DeepEqual(ksm.DNSSDConfigs, wantKSM) {
		t.Errorf("kube-state-metrics job %+v, want DNS discovery %+v, honoring its labels", ksm, wantKSM)
	}
	if !reflect.DeepEqual(c.RuleFiles, []string{RulesDir + "/*.yaml"}) {
		t.Errorf("rule_files %v", c.RuleFiles)
	}
	wantAM := []dnsSD{{Names: []string{"alertmanager-headless.drill-monitoring.svc"}, Type: "A", Port: 9093, RefreshInterval: "10s"}}
	if am := c.Alerting.Alertmanagers; len(am) != 1 || am[0].APIVersion != "v2" || !reflect.DeepEqual(am[0].DNSSDConfigs, wantAM) {
		t.Errorf("alerting %+v, want Alertmanager through DNS: %+v", c.Alerting, wantAM)
	}
}

func TestPrometheusConfigNeedsTargets(t *testing.T) {
	o := defaulted(t, Options{WebhookURL: webhook})
	for _, tc := range []struct {
		name   string
		change func(*Targets)
		want   string
	}{
		{"no apiserver", func(t *Targets) { t.APIServers = nil }, "no kube-apiserver"},
		{"no node", func(t *Targets) { t.Nodes = nil }, "no node"},
		{"no node name", func(t *Targets) { t.Nodes = []Target{{Address: "172.18.0.2:10250"}} }, "lacks its address or its node"},
	} {
		tg := kindTargets
		tc.change(&tg)
		if _, err := prometheusConfig(o, tg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one that says %q", tc.name, err, tc.want)
		}
	}
}

func TestAlertmanagerConfig(t *testing.T) {
	url := "http://10.89.0.1:4242/alerts"
	raw, err := alertmanagerConfigFile(defaulted(t, Options{WebhookURL: url, WebhookToken: "tok3n"}))
	if err != nil {
		t.Fatal(err)
	}
	var c amConfig
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	want := amConfig{
		Route: amRoute{Receiver: ReceiverName, GroupBy: []string{"..."}, GroupWait: "5s", GroupInterval: "30s", RepeatInterval: "4h"},
		Receivers: []amReceiver{{Name: ReceiverName, WebhookConfigs: []amWebhook{{URL: url, SendResolved: true,
			HTTPConfig: &amHTTPConfig{Authorization: amAuthorization{Credentials: "tok3n"}}}}}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("alertmanager configuration %+v, want %+v", c, want)
	}
	if !strings.Contains(string(raw), "url: "+url) || !strings.Contains(string(raw), "send_resolved: true") {
		t.Errorf("the configuration lacks the webhook:\n%s", raw)
	}
	// Alertmanager's http_config, as prometheus/common reads it.
	if !strings.Contains(string(raw), "http_config:\n          authorization:\n            credentials: tok3n\n") {
		t.Errorf("the configuration lacks the webhook's token:\n%s", raw)
	}
	// Without a token, no http_config.
	raw, err = alertmanagerConfigFile(defaulted(t, Options{WebhookURL: url}))
	if err != nil || strings.Contains(string(raw), "http_config") {
		t.Errorf("without a token: %v\n%s", err, raw)
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"no webhook", Options{}, []string{"webhook URL is required"}},
		{"loopback", Options{WebhookURL: "http://127.0.0.1:19093/alerts"}, []string{"127.0.0.1 is Alertmanager's own pod", "gateway"}},
		{"localhost", Options{WebhookURL: "http://localhost:19093/alerts"}, []string{"localhost is Alertmanager's own pod"}},
		{"not http", Options{WebhookURL: "ftp://172.18.0.1/alerts"}, []string{"not an http(s) URL"}},
		{"no scheme", Options{WebhookURL: "172.18.0.1:19093"}, []string{"172.18.0.1:19093"}},
		{"short interval", Options{WebhookURL: webhook, ScrapeInterval: 500 * time.Millisecond}, []string{"scrape interval 500ms: want at least 1s"}},
		{"negative interval", Options{WebhookURL: webhook, EvaluationInterval: -time.Second}, []string{"evaluation interval -1s"}},
		{"sub-millisecond", Options{WebhookURL: webhook, ScrapeInterval: time.Second + time.Microsecond}, []string{"whole milliseconds"}},
		{"negative timeout", Options{WebhookURL: webhook, Timeout: -time.Second}, []string{"timeout -1s is negative"}},
		{"several", Options{ScrapeInterval: -time.Second}, []string{"scrape interval", "webhook URL is required"}},
	} {
		_, err := tc.opts.withDefaults()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

func TestDefaultRules(t *testing.T) {
	rules, err := defaultRules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatal("no default rules")
	}
	for name := range rules {
		if !strings.HasSuffix(name, ".rules.yaml") || strings.Contains(name, "/") {
			t.Errorf("rule file key %q, want a base name ending in .rules.yaml", name)
		}
	}
	groups, err := checkRules(rules)
	if err != nil {
		t.Fatalf("the shipped rules: %v", err)
	}
	if len(groups) < len(rules) {
		t.Errorf("groups %v from %d files", groups, len(rules))
	}
}

func TestCheckRules(t *testing.T) {
	good := "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 5m\n    labels: {severity: critical}\n  - record: job:up:sum\n    expr: sum by (job) (up)\n"
	groups, err := checkRules(map[string][]byte{"good.rules.yaml": []byte(good), "other.yaml": []byte("groups:\n- name: b\n  rules: []\n")})
	if err != nil || !reflect.DeepEqual(groups, []string{"a", "b"}) {
		t.Fatalf("good rules: groups %v, %v", groups, err)
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"unknown field", map[string][]byte{"x.yaml": []byte("groups:\n- name: a\n  rules:\n  - alert: A\n    exprs: up\n")}, `unknown field "exprs"`},
		{"alert and record", map[string][]byte{"x.yaml": []byte("groups:\n- name: a\n  rules:\n  - alert: A\n    record: r\n    expr: up\n")}, "exactly one of alert and record"},
		{"no expr", map[string][]byte{"x.yaml": []byte("groups:\n- name: a\n  rules:\n  - alert: A\n")}, "no expr"},
		{"bad for", map[string][]byte{"x.yaml": []byte("groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    for: 5 minutes\n")}, `rule file x.yaml: group "a" rule 0 (A): for`},
		{"record with for", map[string][]byte{"x.yaml": []byte("groups:\n- name: a\n  rules:\n  - record: r\n    expr: up\n    for: 1m\n")}, "a recording rule has no for"},
		{"no groups", map[string][]byte{"x.yaml": []byte("{}\n")}, "rule file x.yaml: no groups"},
		{"unnamed group", map[string][]byte{"x.yaml": []byte("groups:\n- rules: []\n")}, "group 0 has no name"},
		{"group twice in a file", map[string][]byte{"x.yaml": []byte("groups:\n- name: a\n  rules: []\n- name: a\n  rules: []\n")}, `group "a" appears twice`},
		{"group in two files", map[string][]byte{"x.yaml": []byte("groups:\n- name: a\n  rules: []\n"), "y.yaml": []byte("groups:\n- name: a\n  rules: []\n")}, `rule group "a" is in two files`},
		{"file name", map[string][]byte{"x.yml": []byte(good)}, `rule file name "x.yml"`},
		{"file path", map[string][]byte{"rules/x.yaml": []byte(good)}, `rule file name "rules/x.yaml"`},
		{"not YAML", map[string][]byte{"x.yaml": []byte("groups: [")}, "rule file x.yaml"},
	} {
		_, err := checkRules(tc.files)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one that says %q", tc.name, err, tc.want)
		}
	}
}

func TestResources(t *testing.T) {
	rules := map[string][]byte{"b.rules.yaml": []byte("groups: []\n"), "a.rules.yaml": []byte("groups: []\n")}
	objs, err := resources(defaulted(t, Options{WebhookURL: webhook, Rules: rules}), kindTargets)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, u := range objs {
		order = append(order, u.GetKind()+"/"+u.GetName())
		if u.GetKind() != "Namespace" && !slices.Contains([]string{"ClusterRole", "ClusterRoleBinding"}, u.GetKind()) && u.GetNamespace() != fixtures.MonitoringNamespace {
			t.Errorf("%s/%s in namespace %q", u.GetKind(), u.GetName(), u.GetNamespace())
		}
	}
	wantStart := []string{"Namespace/" + fixtures.MonitoringNamespace, "ConfigMap/" + PrometheusConfigMap, "ConfigMap/" + RulesConfigMap, "Secret/" + AlertmanagerConfigSecret}
	if len(order) < len(wantStart) || !reflect.DeepEqual(order[:len(wantStart)], wantStart) {
		t.Fatalf("order %v, want it to start with %v", order, wantStart)
	}
	for _, want := range []string{"Deployment/prometheus", "Deployment/alertmanager", "Deployment/kube-state-metrics", "DaemonSet/node-exporter", "Service/prometheus"} {
		if !slices.Contains(order, want) {
			t.Errorf("no %s in %v", want, order)
		}
	}
	data, _ := objs[2].Object["data"].(map[string]any)
	if len(data) != 2 || data["a.rules.yaml"] != "groups: []\n" {
		t.Errorf("rules ConfigMap data %v, want a key per rule file", data)
	}

	// The Deployments mount the ConfigMaps Deploy generates, under these
	// names, and carry the hash of what they read.
	deployments := map[string]*appsv1.Deployment{}
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			d := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d); err != nil {
				t.Fatal(err)
			}
			deployments[d.Name] = d
		}
	}
	for name, cms := range map[string][]string{"prometheus": {PrometheusConfigMap, RulesConfigMap}, "alertmanager": {"secret/" + AlertmanagerConfigSecret}} {
		d := deployments[name]
		var mounted []string
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.ConfigMap != nil {
				mounted = append(mounted, v.ConfigMap.Name)
			}
			if v.Secret != nil {
				mounted = append(mounted, "secret/"+v.Secret.SecretName)
			}
		}
		if !reflect.DeepEqual(mounted, cms) {
			t.Errorf("deployment %s mounts ConfigMaps %v, want %v", name, mounted, cms)
		}
		if h := d.Spec.Template.Annotations[ConfigHashAnnotation]; len(h) != 16 {
			t.Errorf("deployment %s: annotation %s = %q", name, ConfigHashAnnotation, h)
		}
	}
	var rulesMount string
	for _, m := range deployments["prometheus"].Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.Name == "rules" {
			rulesMount = m.MountPath
		}
	}
	if rulesMount != RulesDir {
		t.Errorf("the rules are mounted at %q, want %s", rulesMount, RulesDir)
	}
}

// A new configuration rolls the pods that read it, and only those.
func TestConfigHashes(t *testing.T) {
	hashes := func(o Options, tg Targets) (prom, am string) {
		t.Helper()
		objs, err := resources(defaulted(t, o), tg)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range objs {
			if u.GetKind() != "Deployment" {
				continue
			}
			h := u.Object["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"]
			switch u.GetName() {
			case "prometheus":
				prom = h.(map[string]any)[ConfigHashAnnotation].(string)
			case "alertmanager":
				am = h.(map[string]any)[ConfigHashAnnotation].(string)
			}
		}
		return prom, am
	}
	rules := map[string][]byte{"a.yaml": []byte("groups: []\n")}
	base := Options{WebhookURL: webhook, Rules: rules}
	p0, a0 := hashes(base, kindTargets)
	if p1, a1 := hashes(base, kindTargets); p1 != p0 || a1 != a0 {
		t.Errorf("the same options give other hashes: %s %s, then %s %s", p0, a0, p1, a1)
	}
	o := base
	o.ScrapeInterval = 30 * time.Second
	if p, a := hashes(o, kindTargets); p == p0 || a != a0 {
		t.Errorf("a new scrape interval: prometheus %s→%s, alertmanager %s→%s; want only prometheus' to change", p0, p, a0, a)
	}
	o = base
	o.Rules = map[string][]byte{"a.yaml": []byte("groups: []\n"), "b.yaml": []byte("groups: []\n")}
	if p, a := hashes(o, kindTargets); p == p0 || a != a0 {
		t.Errorf("new rules: prometheus %s→%s, alertmanager %s→%s; want only prometheus' to change", p0, p, a0, a)
	}
	moved := kindTargets
	moved.APIServers = moved.APIServers[:2]
	if p, a := hashes(base, moved); p == p0 || a != a0 {
		t.Errorf("a new target: prometheus %s→%s, alertmanager %s→%s; want only prometheus' to change", p0, p, a0, a)
	}
	o = base
	o.WebhookURL = "http://172.18.0.1:1/alerts"
	if p, a := hashes(o, kindTargets); p != p0 || a == a0 {
		t.Errorf("a new webhook: prometheus %s→%s, alertmanager %s→%s; want only alertmanager's to change", p0, p, a0, a)
	}
}

func TestCheckTargets(t *testing.T) {
	target := func(job, url string, health promv1.HealthStatus, lastErr string) promv1.ActiveTarget {
		return promv1.ActiveTarget{ScrapePool: job, ScrapeURL: url, Health: health, LastError: lastErr}
	}
	want := map[string]int{JobAPIServers: 3, JobKubelet: 1}
	all := []promv1.ActiveTarget{
		target(JobAPIServers, "https://10.0.0.2:6443/metrics", promv1.HealthGood, ""),
		target(JobAPIServers, "https://10.0.0.3:6443/metrics", promv1.HealthGood, ""),
		target(JobAPIServers, "https://10.0.0.4:6443/metrics", promv1.HealthGood, ""),
		target(JobKubelet, "https://10.0.0.2:10250/metrics", promv1.HealthGood, ""),
		target("other", "http://x/metrics", promv1.HealthBad, "refused"),
	}
	if ok, desc := checkTargets(all, want); !ok {
		t.Errorf("all up: %s", desc)
	}
	down := slices.Clone(all)
	down[1] = target(JobAPIServers, "https://10.0.0.3:6443/metrics", promv1.HealthBad, "connection refused")
	down[2] = target(JobAPIServers, "https://10.0.0.4:6443/metrics", promv1.HealthUnknown, "")
	ok, desc := checkTargets(down, want)
	if ok {
		t.Fatal("two apiservers not up: ok")
	}
	for _, w := range []string{"job kubernetes-apiservers: 1 of 3 targets up, want 3", "https://10.0.0.3:6443/metrics: connection refused", "https://10.0.0.4:6443/metrics: not scraped yet"} {
		if !strings.Contains(desc, w) {
			t.Errorf("description %q lacks %q", desc, w)
		}
	}
	if strings.Contains(desc, "kubelet") {
		t.Errorf("description %q names the kubelet job, which is up", desc)
	}
	ok, desc = checkTargets(all[:3], want)
	if ok || desc != "job kubelet: no targets discovered, want 1 up" {
		t.Errorf("no kubelet targets: %v %q", ok, desc)
	}
}
