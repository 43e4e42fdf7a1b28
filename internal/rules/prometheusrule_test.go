package rules

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"
)

const (
	ruleDir         = "../../fixtures/monitoring/rules/"
	prometheusRule  = ruleDir + "prometheusrule.yaml"
	seedRules       = ruleDir + "seed.rules.yaml"
	drillRules      = ruleDir + "drill.rules.yaml"
	prometheusRuleV = "monitoring.coreos.com/v1"
)

// loadPrometheusRule reads a PrometheusRule manifest strictly and checks its
// groups as a rule file.
func loadPrometheusRule(t *testing.T, path string) []rulefmt.RuleGroup {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pr struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name      string            `yaml:"name"`
			Namespace string            `yaml:"namespace"`
			Labels    map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			Groups yaml.Node `yaml:"groups"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&pr); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if pr.APIVersion != prometheusRuleV || pr.Kind != "PrometheusRule" || pr.Metadata.Name == "" {
		t.Fatalf("%s: %s %s %q, want a named %s PrometheusRule", path, pr.APIVersion, pr.Kind, pr.Metadata.Name, prometheusRuleV)
	}
	// The spec's groups are a rule file's groups: check them as one.
	spec, err := yaml.Marshal(map[string]*yaml.Node{"groups": &pr.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	rgs, err := Parse(path+" spec", spec)
	if err != nil {
		t.Fatal(err)
	}
	return rgs.Groups
}

func TestPrometheusRuleMatchesRuleFiles(t *testing.T) {
	got := loadPrometheusRule(t, prometheusRule)
	var want []rulefmt.RuleGroup
	for _, f := range []string{seedRules, drillRules} {
		rgs, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rgs.Groups...)
	}
	name := func(g rulefmt.RuleGroup) string { return g.Name }
	if g, w := names(got, name), names(want, name); !slices.Equal(g, w) {
		t.Fatalf("%s has groups %v, want those of the rule files, in order: %v", prometheusRule, g, w)
	}
	for i := range want {
		g, w := got[i], want[i]
		if reflect.DeepEqual(g, w) {
			continue
		}
		if len(g.Rules) != len(w.Rules) {
			t.Errorf("%s: group %q has %d rules, the rule files %d", prometheusRule, w.Name, len(g.Rules), len(w.Rules))
			continue
		}
		for j := range w.Rules {
			if !reflect.DeepEqual(g.Rules[j], w.Rules[j]) {
				t.Errorf("%s: group %q, rule %d differs from the rule files:\ngot  %+v\nwant %+v", prometheusRule, w.Name, j+1, g.Rules[j], w.Rules[j])
			}
		}
		g.Rules, w.Rules = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: group %q differs from the rule files:\ngot  %+v\nwant %+v", prometheusRule, w.Name, g, w)
		}
	}
}

func names[T any](s []T, name func(T) string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = name(v)
	}
	return out
}
