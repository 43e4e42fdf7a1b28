package alerts

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/drill-sre/drill/reports"
)

// Source is the Prometheus a drill reads alerts from, with the Alertmanager
// it notifies and the webhook receiver that measures the notifications.
type Source struct {
	PrometheusURL   string
	AlertmanagerURL string
	// ScrapeInterval and EvaluationInterval are Prometheus' own; they bound
	// the resolution of every alert time.
	ScrapeInterval     time.Duration
	EvaluationInterval time.Duration
	// Receiver gets Alertmanager's notifications; nil when none is routed
	// to drill, and notification is then not measured.
	Receiver *Receiver

	api promv1.API
}

// NewSource returns a Source reading the Prometheus at promURL.
func NewSource(promURL, amURL string, scrape, eval time.Duration, receiver *Receiver) (*Source, error) {
	if eval <= 0 {
		return nil, fmt.Errorf("alert source %s: the evaluation interval must be positive", promURL)
	}
	c, err := promapi.NewClient(promapi.Config{Address: promURL})
	if err != nil {
		return nil, fmt.Errorf("alert source: Prometheus URL %q: %w", promURL, err)
	}
	return &Source{PrometheusURL: promURL, AlertmanagerURL: amURL, ScrapeInterval: scrape, EvaluationInterval: eval,
		Receiver: receiver, api: promv1.NewAPI(c)}, nil
}

// Record describes the source for a drill's report.
func (s *Source) Record(seen []reports.Alert) *reports.Alerts {
	r := &reports.Alerts{Prometheus: s.PrometheusURL, Alertmanager: s.AlertmanagerURL,
		ScrapeInterval: s.ScrapeInterval, EvaluationInterval: s.EvaluationInterval, Seen: seen}
	if s.Receiver != nil {
		r.Receiver = s.Receiver.URL()
	}
	if r.Seen == nil {
		r.Seen = []reports.Alert{}
	}
	return r
}

// History reads the ALERTS samples between from and to, and what is
// active at to, and returns what every alert did (see History), with the
// receiver's notifications. It can be read as soon as to has passed.
func (s *Source) History(ctx context.Context, from, to time.Time) ([]reports.Alert, error) {
	window := time.Duration(math.Ceil(to.Sub(from).Seconds())) * time.Second
	if window <= 0 {
		return nil, nil
	}
	q := fmt.Sprintf("ALERTS[%ds]", int64(window.Seconds()))
	v, _, err := s.api.Query(ctx, q, to)
	if err != nil {
		return nil, fmt.Errorf("query Prometheus %s for %s: %w", s.PrometheusURL, q, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query Prometheus %s for %s: got a %s, not a range vector", s.PrometheusURL, q, v.Type())
	}
	// What is active at the window's end tells a stretch still open from
	// one that just ended, with no need to wait for later evaluations.
	av, _, err := s.api.Query(ctx, "ALERTS", to)
	if err != nil {
		return nil, fmt.Errorf("query Prometheus %s for ALERTS: %w", s.PrometheusURL, err)
	}
	active, ok := av.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query Prometheus %s for ALERTS: got a %s, not an instant vector", s.PrometheusURL, av.Type())
	}
	if active == nil {
		active = model.Vector{}
	}
	seen := History(m, s.EvaluationInterval, to, active)
	if s.Receiver != nil {
		AddNotifications(seen, s.Receiver.Notifications(from))
	}
	return seen, nil
}

// Rules returns the expression of every alerting rule Prometheus has
// loaded, by alert name (one name may come from several rules).
func (s *Source) Rules(ctx context.Context) (map[string][]string, error) {
	res, err := s.api.Rules(ctx)
	if err != nil {
		return nil, fmt.Errorf("list Prometheus %s's rules: %w", s.PrometheusURL, err)
	}
	out := map[string][]string{}
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			if a, ok := r.(promv1.AlertingRule); ok {
				out[a.Name] = append(out[a.Name], a.Query)
			}
		}
	}
	return out, nil
}

// MissingRules returns the names no loaded alerting rule defines.
func (s *Source) MissingRules(ctx context.Context, names []string) ([]string, error) {
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range names {
		if len(rules[n]) == 0 && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// NoData returns the series selectors that the rules of alert name read
// and of which Prometheus had no sample between from and to. Selectors
// under absent() are left out: their absence is what such a rule asks.
func (s *Source) NoData(ctx context.Context, name string, from, to time.Time) ([]string, error) {
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, err
	}
	window := max(int64(math.Ceil(to.Sub(from).Seconds())), 1)
	var out []string
	for _, expr := range rules[name] {
		sels, err := Selectors(expr)
		if err != nil {
			return nil, fmt.Errorf("alert %s: %w", name, err)
		}
		for _, sel := range sels {
			q := fmt.Sprintf("count(count_over_time(%s[%ds]))", sel, window)
			v, _, err := s.api.Query(ctx, q, to)
			if err != nil {
				return nil, fmt.Errorf("query Prometheus %s for %s: %w", s.PrometheusURL, q, err)
			}
			if vec, ok := v.(model.Vector); !ok || len(vec) == 0 {
				if !slices.Contains(out, sel) {
					out = append(out, sel)
				}
			}
		}
	}
	return out, nil
}

// Selectors returns the series selectors a PromQL expression reads,
// without those under absent() or absent_over_time().
func Selectors(expr string) ([]string, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", expr, err)
	}
	var out []string
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		for _, p := range path {
			if c, ok := p.(*parser.Call); ok && strings.HasPrefix(c.Func.Name, "absent") {
				return nil
			}
		}
		if s := vs.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
		return nil
	})
	return out, nil
}

// Active describes the alert name with at least labels as Prometheus has it
// now: whether any such alert fires, and what it saw ("pending since ...").
func (s *Source) Active(ctx context.Context, name string, labels map[string]string) (firing bool, desc string, err error) {
	res, err := s.api.Alerts(ctx)
	if err != nil {
		return false, "", fmt.Errorf("list Prometheus %s's alerts: %w", s.PrometheusURL, err)
	}
	var states []string
	for _, a := range res.Alerts {
		ls := map[string]string{}
		for k, v := range a.Labels {
			ls[string(k)] = string(v)
		}
		if ls[labelName] != name || !Matches(reports.Alert{Name: name, Labels: ls}, name, labels) {
			continue
		}
		if a.State == promv1.AlertStateFiring {
			firing = true
		}
		states = append(states, fmt.Sprintf("%s since %s", a.State, a.ActiveAt.Local().Format("15:04:05")))
	}
	if len(states) == 0 {
		return false, name + " inactive", nil
	}
	return firing, name + " " + strings.Join(states, ", "), nil
}

// Intervals reads Prometheus' global scrape and evaluation intervals from
// its configuration.
func (s *Source) Intervals(ctx context.Context) (scrape, eval time.Duration, err error) {
	cfg, err := s.api.Config(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read Prometheus %s's configuration: %w", s.PrometheusURL, err)
	}
	return ParseIntervals(cfg.YAML)
}

// ParseIntervals reads the global scrape_interval and evaluation_interval
// of a Prometheus configuration, with Prometheus' defaults (1m each) for
// those it does not set.
func ParseIntervals(config string) (scrape, eval time.Duration, err error) {
	var c struct {
		Global struct {
			Scrape string `json:"scrape_interval"`
			Eval   string `json:"evaluation_interval"`
		} `json:"global"`
	}
	if err := yaml.Unmarshal([]byte(config), &c); err != nil {
		return 0, 0, fmt.Errorf("Prometheus configuration: %w", err)
	}
	parse := func(s string) (time.Duration, error) {
		if s == "" {
			return time.Minute, nil
		}
		d, err := model.ParseDuration(s)
		return time.Duration(d), err
	}
	if scrape, err = parse(c.Global.Scrape); err != nil {
		return 0, 0, fmt.Errorf("Prometheus configuration: global.scrape_interval: %w", err)
	}
	if eval, err = parse(c.Global.Eval); err != nil {
		return 0, 0, fmt.Errorf("Prometheus configuration: global.evaluation_interval: %w", err)
	}
	return scrape, eval, nil
}
