package monitoring

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/drill-sre/drill/fixtures"
)

// Defaults of Options.
const (
	DefaultScrapeInterval     = 15 * time.Second
	DefaultEvaluationInterval = 15 * time.Second
	DefaultTimeout            = 5 * time.Minute
)

// Names of what Deploy generates, and of the scrape jobs it configures.
const (
	// PrometheusConfigMap holds prometheus.yml; the Deployment mounts it at
	// /etc/prometheus/config.
	PrometheusConfigMap = "prometheus-config"
	// RulesConfigMap holds every rule file, a key each; the Deployment
	// mounts it at RulesDir.
	RulesConfigMap = "prometheus-rules"
	// AlertmanagerConfigSecret, a Secret, holds alertmanager.yml, which
	// carries the webhook's token; the Deployment mounts
	// it at /etc/alertmanager/config.
	AlertmanagerConfigSecret = "alertmanager-config"
	// RulesDir is where Prometheus reads the rule files.
	RulesDir = "/etc/prometheus/rules"
	// ConfigHashAnnotation is the pod template annotation that carries a
	// hash of a pod's generated configuration: a new configuration rolls
	// the pod.
	ConfigHashAnnotation = "drill.sre/config-sha256"

	JobAPIServers       = "kubernetes-apiservers"
	JobKubelet          = "kubelet"
	JobCAdvisor         = "cadvisor"
	JobKubeStateMetrics = "kube-state-metrics"
	JobNodeExporter     = "node-exporter"
)

// Jobs are the scrape jobs of the generated configuration.
var Jobs = []string{JobAPIServers, JobKubelet, JobCAdvisor, JobKubeStateMetrics, JobNodeExporter}

// saDir is where a pod finds its service account's token and the cluster's CA.
const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// withDefaults returns opts with its zero fields defaulted, or an error that
// names every bad field.
func (o Options) withDefaults() (Options, error) {
	if o.ScrapeInterval == 0 {
		o.ScrapeInterval = DefaultScrapeInterval
	}
	if o.EvaluationInterval == 0 {
		o.EvaluationInterval = DefaultEvaluationInterval
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"scrape interval", o.ScrapeInterval}, {"evaluation interval", o.EvaluationInterval}} {
		switch {
		case d.v < time.Second:
			errs = append(errs, fmt.Errorf("%s %s: want at least 1s", d.name, d.v))
		case d.v%time.Millisecond != 0:
			errs = append(errs, fmt.Errorf("%s %s: Prometheus takes whole milliseconds", d.name, d.v))
		}
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", o.Timeout))
	}
	if err := checkWebhookURL(o.WebhookURL); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("monitoring options: %w", err)
	}
	return o, nil
}

// checkWebhookURL checks that Alertmanager's pod can reach u: an http(s) URL
// whose host is not the pod's own loopback.
func checkWebhookURL(u string) error {
	if u == "" {
		return errors.New("webhook URL is required: Alertmanager sends every notification to drill's receiver there")
	}
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("webhook URL %q: %w", u, err)
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("webhook URL %q is not an http(s) URL with a host", u)
	}
	host := p.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		return fmt.Errorf("webhook URL %q: %s is Alertmanager's own pod, not this machine; use an address the pods reach the host on (on kind, the kind network's gateway)", u, host)
	}
	return nil
}

// promDuration writes d as Prometheus does ("15s", "1m30s").
func promDuration(d time.Duration) string { return model.Duration(d).String() }

// Targets are the static targets of Prometheus' configuration, read from
// the cluster when Deploy runs: Debian's Prometheus has no Kubernetes service
// discovery (Debian removed it in 1.5.0, for client-go's dependencies). On
// kind nodes keep their addresses when stopped, killed or restarted: the
// targets hold for the cluster's life, and a lost one shows up == 0 rather
// than vanishing. kube-state-metrics and Alertmanager, which move with their
// pods, are found through DNS instead (their headless Services).
type Targets struct {
	// APIServers are the kube-apiservers, one per mirror pod of
	// kube-system (label component=kube-apiserver): podIP:secure port.
	APIServers []Target
	// Nodes are every node's InternalIP with its kubelet's port, for the
	// kubelet and cAdvisor jobs; node-exporter listens on port 9100 of the
	// same address (host network).
	Nodes []Target
}

// Target is one scrape target: host:port and the node it is on.
type Target struct {
	Address, Node string
}

// The headless Services Prometheus resolves (DNS service discovery, A
// records: the ready pods' IPs) for kube-state-metrics and Alertmanager. Not
// their ClusterIPs: on a cluster whose CNI accepts pod traffic before
// kube-proxy's rules (kube-router), a connection to a ClusterIP made while
// the Service has no ready endpoint leaves the cluster un-translated, and a
// keep-alive connection to whatever answers there outlives the endpoint's
// return.
const (
	KubeStateMetricsService = "kube-state-metrics"
	AlertmanagerService     = "alertmanager-headless"
	kubeStateMetricsPort    = 8080
	alertmanagerPort        = 9093
	dnsRefreshInterval      = 10 * time.Second
)

// NodeExporterPort is node-exporter's port on every node (host network).
const NodeExporterPort = 9100

// The subset of Prometheus' configuration file that Deploy writes, in
// Prometheus' field order.
type (
	promConfig struct {
		Global        promGlobal     `yaml:"global"`
		Alerting      promAlerting   `yaml:"alerting"`
		RuleFiles     []string       `yaml:"rule_files"`
		ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
	}
	promGlobal struct {
		ScrapeInterval     string `yaml:"scrape_interval"`
		ScrapeTimeout      string `yaml:"scrape_timeout"`
		EvaluationInterval string `yaml:"evaluation_interval"`
	}
	promAlerting struct {
		Alertmanagers []alertmanagerConfig `yaml:"alertmanagers"`
	}
	alertmanagerConfig struct {
		APIVersion   string  `yaml:"api_version"`
		DNSSDConfigs []dnsSD `yaml:"dns_sd_configs"`
	}
	scrapeConfig struct {
		JobName       string         `yaml:"job_name"`
		HonorLabels   bool           `yaml:"honor_labels,omitempty"`
		Scheme        string         `yaml:"scheme,omitempty"`
		MetricsPath   string         `yaml:"metrics_path,omitempty"`
		Authorization *authorization `yaml:"authorization,omitempty"`
		TLSConfig     *tlsConfig     `yaml:"tls_config,omitempty"`
		StaticConfigs []staticConfig `yaml:"static_configs,omitempty"`
		DNSSDConfigs  []dnsSD        `yaml:"dns_sd_configs,omitempty"`
	}
	authorization struct {
		CredentialsFile string `yaml:"credentials_file"`
	}
	tlsConfig struct {
		CAFile             string `yaml:"ca_file,omitempty"`
		InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
	}
	staticConfig struct {
		Targets []string          `yaml:"targets,flow"`
		Labels  map[string]string `yaml:"labels,omitempty"`
	}
	dnsSD struct {
		Names           []string `yaml:"names,flow"`
		Type            string   `yaml:"type"`
		Port            int      `yaml:"port"`
		RefreshInterval string   `yaml:"refresh_interval"`
	}
)

// serviceDNS discovers the ready pods of a headless Service of namespace,
// through the pods' DNS search path.
func serviceDNS(service, namespace string, port int) []dnsSD {
	return []dnsSD{{Names: []string{service + "." + namespace + ".svc"}, Type: "A", Port: port, RefreshInterval: promDuration(dnsRefreshInterval)}}
}

// perNode is one target group per target, each labelled with its node.
// instance stays host:port.
func perNode(targets []Target, port int) []staticConfig {
	out := make([]staticConfig, 0, len(targets))
	for _, t := range targets {
		addr := t.Address
		if port != 0 {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			addr = net.JoinHostPort(host, strconv.Itoa(port))
		}
		out = append(out, staticConfig{Targets: []string{addr}, Labels: map[string]string{"node": t.Node}})
	}
	return out
}

// check tells what is missing from t.
func (t Targets) check() error {
	var errs []error
	if len(t.APIServers) == 0 {
		errs = append(errs, errors.New("no kube-apiserver"))
	}
	if len(t.Nodes) == 0 {
		errs = append(errs, errors.New("no node"))
	}
	for _, tg := range slices.Concat(t.APIServers, t.Nodes) {
		if tg.Address == "" || tg.Node == "" {
			errs = append(errs, fmt.Errorf("target %+v lacks its address or its node", tg))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("scrape targets: %w", err)
	}
	return nil
}

// prometheusConfig generates prometheus.yml for opts (defaulted) and the
// cluster's targets.
func prometheusConfig(opts Options, targets Targets) ([]byte, error) {
	if err := targets.check(); err != nil {
		return nil, err
	}
	token := &authorization{CredentialsFile: saDir + "/token"}
	ca := saDir + "/ca.crt"
	ns := fixtures.MonitoringNamespace
	cfg := promConfig{
		Global: promGlobal{
			ScrapeInterval: promDuration(opts.ScrapeInterval),
			// Prometheus refuses a timeout longer than the interval.
			ScrapeTimeout:      promDuration(min(10*time.Second, opts.ScrapeInterval)),
			EvaluationInterval: promDuration(opts.EvaluationInterval),
		},
		Alerting: promAlerting{Alertmanagers: []alertmanagerConfig{{
			APIVersion: "v2", DNSSDConfigs: serviceDNS(AlertmanagerService, ns, alertmanagerPort),
		}}},
		RuleFiles: []string{RulesDir + "/*.yaml"},
		ScrapeConfigs: []scrapeConfig{
			// Every kube-apiserver by its static pod, not by the endpoints
			// of default/kubernetes: the API servers' lease reconciler
			// drops a dead server from those within ~25s, so a lost
			// instance would vanish from up instead of showing 0.
			{
				JobName: JobAPIServers, Scheme: "https", Authorization: token, TLSConfig: &tlsConfig{CAFile: ca},
				StaticConfigs: perNode(targets.APIServers, 0),
			},
			// Kubelets' serving certificates are self-signed.
			{
				JobName: JobKubelet, Scheme: "https", Authorization: token, TLSConfig: &tlsConfig{InsecureSkipVerify: true},
				StaticConfigs: perNode(targets.Nodes, 0),
			},
			{
				JobName: JobCAdvisor, Scheme: "https", MetricsPath: "/metrics/cadvisor", Authorization: token,
				TLSConfig: &tlsConfig{InsecureSkipVerify: true}, StaticConfigs: perNode(targets.Nodes, 0),
			},
			// Its metrics' namespace and pod labels are those of the
			// objects it describes.
			{
				JobName: JobKubeStateMetrics, HonorLabels: true,
				DNSSDConfigs: serviceDNS(KubeStateMetricsService, ns, kubeStateMetricsPort),
			},
			{JobName: JobNodeExporter, StaticConfigs: perNode(targets.Nodes, NodeExporterPort)},
		},
	}
	out, err := marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("prometheus configuration: %w", err)
	}
	return out, nil
}

// The subset of Alertmanager's configuration file that Deploy writes.
type (
	amConfig struct {
		Route     amRoute      `yaml:"route"`
		Receivers []amReceiver `yaml:"receivers"`
	}
	amRoute struct {
		Receiver       string   `yaml:"receiver"`
		GroupBy        []string `yaml:"group_by,flow"`
		GroupWait      string   `yaml:"group_wait"`
		GroupInterval  string   `yaml:"group_interval"`
		RepeatInterval string   `yaml:"repeat_interval"`
	}
	amReceiver struct {
		Name           string      `yaml:"name"`
		WebhookConfigs []amWebhook `yaml:"webhook_configs"`
	}
	amWebhook struct {
		URL          string        `yaml:"url"`
		SendResolved bool          `yaml:"send_resolved"`
		HTTPConfig   *amHTTPConfig `yaml:"http_config,omitempty"`
	}
	// amHTTPConfig is prometheus/common's HTTPClientConfig, which
	// Alertmanager v0.25.0 reads for a webhook: its authorization sends
	// "Authorization: Bearer <credentials>" (type Bearer by default).
	amHTTPConfig struct {
		Authorization amAuthorization `yaml:"authorization"`
	}
	amAuthorization struct {
		Credentials string `yaml:"credentials"`
	}
)

// ReceiverName is the one receiver of the generated Alertmanager
// configuration: drill's webhook.
const ReceiverName = "drill"

// alertmanagerConfigFile generates alertmanager.yml for opts (defaulted): every
// alert goes to the webhook, in a group of its own (group_by '...'), so that
// each is notified group_wait after it fires, and again when it resolves.
func alertmanagerConfigFile(opts Options) ([]byte, error) {
	cfg := amConfig{
		Route: amRoute{
			Receiver: ReceiverName, GroupBy: []string{"..."},
			GroupWait: "5s", GroupInterval: "30s", RepeatInterval: "4h",
		},
		Receivers: []amReceiver{{Name: ReceiverName, WebhookConfigs: []amWebhook{{URL: opts.WebhookURL, SendResolved: true}}}},
	}
	if opts.WebhookToken != "" {
		cfg.Receivers[0].WebhookConfigs[0].HTTPConfig = &amHTTPConfig{Authorization: amAuthorization{Credentials: opts.WebhookToken}}
	}
	out, err := marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("alertmanager configuration: %w", err)
	}
	return out, nil
}

// marshal writes a generated configuration file, indented as Prometheus'
// own examples.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Generated by drill (internal/monitoring); changes are overwritten.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// A rule file, as Prometheus reads it: decoded strictly, so that a typo is
// an error here rather than a Prometheus that does not start.
type (
	ruleFile struct {
		Groups []ruleGroup `json:"groups"`
	}
	ruleGroup struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Limit    int    `json:"limit,omitempty"`
		Rules    []rule `json:"rules"`
	}
	rule struct {
		Record        string            `json:"record,omitempty"`
		Alert         string            `json:"alert,omitempty"`
		Expr          string            `json:"expr"`
		For           string            `json:"for,omitempty"`
		KeepFiringFor string            `json:"keep_firing_for,omitempty"`
		Labels        map[string]string `json:"labels,omitempty"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}
)

// configMapKey is what a ConfigMap key may be.
var configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// defaultRules reads every rule file of the fixtures.
func defaultRules() (map[string][]byte, error) {
	names, err := fs.Glob(fixtures.Monitoring, fixtures.MonitoringRulesGlob)
	if err != nil {
		return nil, err
	}
	rules := map[string][]byte{}
	for _, n := range names {
		raw, err := fs.ReadFile(fixtures.Monitoring, n)
		if err != nil {
			return nil, err
		}
		rules[path.Base(n)] = raw
	}
	return rules, nil
}

// checkRules checks every rule file and returns the names of their groups,
// sorted.
func checkRules(rules map[string][]byte) ([]string, error) {
	var groups, files []string
	var errs []error
	for name := range rules {
		files = append(files, name)
	}
	slices.Sort(files)
	for _, name := range files {
		if !configMapKey.MatchString(name) || !strings.HasSuffix(name, ".yaml") {
			errs = append(errs, fmt.Errorf("rule file name %q: want letters, digits, '-', '_' and '.', ending in .yaml (Prometheus loads %s/*.yaml)", name, RulesDir))
			continue
		}
		g, err := checkRuleFile(rules[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("rule file %s: %w", name, err))
		}
		groups = append(groups, g...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.Sort(groups)
	for i := 1; i < len(groups); i++ {
		if groups[i] == groups[i-1] {
			return nil, fmt.Errorf("rule group %q is in two files: drill checks that Prometheus loaded each group by its name", groups[i])
		}
	}
	return groups, nil
}

// checkRuleFile decodes one rule file strictly and checks what Prometheus
// would refuse, short of parsing the expressions.
func checkRuleFile(raw []byte) ([]string, error) {
	var f ruleFile
	if err := sigsyaml.UnmarshalStrict(raw, &f); err != nil {
		return nil, err
	}
	if len(f.Groups) == 0 {
		return nil, errors.New("no groups")
	}
	var names []string
	var errs []error
	for i, g := range f.Groups {
		if g.Name == "" {
			errs = append(errs, fmt.Errorf("group %d has no name", i))
			continue
		}
		if slices.Contains(names, g.Name) {
			errs = append(errs, fmt.Errorf("group %q appears twice", g.Name))
		}
		names = append(names, g.Name)
		if g.Interval != "" {
			if _, err := model.ParseDuration(g.Interval); err != nil {
				errs = append(errs, fmt.Errorf("group %q: interval: %w", g.Name, err))
			}
		}
		for j, r := range g.Rules {
			what := fmt.Sprintf("group %q rule %d (%s%s)", g.Name, j, r.Alert, r.Record)
			switch {
			case (r.Alert == "") == (r.Record == ""):
				errs = append(errs, fmt.Errorf("%s: want exactly one of alert and record", what))
			case strings.TrimSpace(r.Expr) == "":
				errs = append(errs, fmt.Errorf("%s: no expr", what))
			case r.Record != "" && (r.For != "" || r.KeepFiringFor != "" || len(r.Annotations) > 0):
				errs = append(errs, fmt.Errorf("%s: a recording rule has no for, keep_firing_for or annotations", what))
			}
			for _, d := range []struct{ name, v string }{{"for", r.For}, {"keep_firing_for", r.KeepFiringFor}} {
				if d.v == "" {
					continue
				}
				if _, err := model.ParseDuration(d.v); err != nil {
					errs = append(errs, fmt.Errorf("%s: %s: %w", what, d.name, err))
				}
			}
		}
	}
	return names, errors.Join(errs...)
}

// configHash is a short hash of a pod's generated configuration, for
// ConfigHashAnnotation.
func configHash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d\n", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
