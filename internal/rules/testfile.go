package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/drill-sre/drill/internal/textfile"
)

// TestFile is a rule unit-test file in promtool's format (`promtool test
// rules`), the part of it drill runs.
type TestFile struct {
	// Path is the file as given to LoadTestFile.
	Path string `yaml:"-"`
	// RuleFiles are the rule files under test, relative to the test file
	// unless absolute; globs are expanded.
	RuleFiles []string `yaml:"rule_files"`
	// EvaluationInterval is how often the rules are evaluated; 1m when
	// unset.
	EvaluationInterval Duration `yaml:"evaluation_interval,omitempty"`
	// GroupEvalOrder names groups that must be evaluated in that order, before
	// the others; the others follow in file order.
	GroupEvalOrder []string `yaml:"group_eval_order,omitempty"`
	// Tests are independent: each has its own series and rule state.
	Tests []Test `yaml:"tests"`
}

// Test is one test group: input series, and what the rules must produce
// from them.
type Test struct {
	// Name names the test in results; optional.
	Name string `yaml:"name,omitempty"`
	// Interval is the step of the input series' values; the file's
	// evaluation interval when unset.
	Interval       Duration          `yaml:"interval,omitempty"`
	InputSeries    []Series          `yaml:"input_series"`
	AlertRuleTests []AlertTest       `yaml:"alert_rule_test,omitempty"`
	PromQLTests    []PromQLTest      `yaml:"promql_expr_test,omitempty"`
	ExternalLabels map[string]string `yaml:"external_labels,omitempty"`
	ExternalURL    string            `yaml:"external_url,omitempty"`
}

// Series is one input series in promqltest's notation: Series is
// `metric{label="value"}`, Values is a sequence such as `0+1x10 _ stale`.
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest says which alerts of one alerting rule fire at EvalTime.
// Pending alerts are not listed: ask for ALERTS{alertstate="pending"} in a
// PromQLTest.
type AlertTest struct {
	EvalTime  Duration `yaml:"eval_time"`
	Alertname string   `yaml:"alertname"`
	// ExpAlerts are the firing alerts, all of them: none means that no
	// alert of the rule fires.
	ExpAlerts []ExpAlert `yaml:"exp_alerts"`
}

// ExpAlert is one expected firing alert. Its alertname label is implied.
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels,omitempty"`
	ExpAnnotations map[string]string `yaml:"exp_annotations,omitempty"`
}

// PromQLTest says what an expression returns at EvalTime, over the input
// series and what the rules wrote (recording rules, ALERTS).
type PromQLTest struct {
	Expr       string      `yaml:"expr"`
	EvalTime   Duration    `yaml:"eval_time"`
	ExpSamples []ExpSample `yaml:"exp_samples"`
}

// ExpSample is one expected sample: Labels in PromQL notation
// (`up{job="x"}`, or `{}` for none), and its value.
type ExpSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// unknownFieldIn matches the error of strict decoding on an unknown field,
// after its line.
var unknownFieldIn = regexp.MustCompile(`^(\d+: )field (\S+) not found in type \S+$`)

// Duration is a Prometheus duration in YAML ("90s", "5m", "1h30m").
type Duration time.Duration

// UnmarshalYAML decodes a Prometheus duration, with its line in errors.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := model.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d: %q is not a duration: want a number and a unit, such as 30s, 5m or 1h30m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// String formats d as Prometheus does ("5m", "1h30m").
func (d Duration) String() string { return model.Duration(d).String() }

// LoadTestFile reads a rule unit-test file strictly (unknown fields are
// errors) and resolves its rule files against its directory.
func LoadTestFile(path string) (*TestFile, error) {
	data, err := readFile(path, "rule test file")
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, readReason(err))
	}
	if p := textfile.NotText(data); p != nil {
		return nil, fmt.Errorf("%s:%d:%d: %s", path, p.Line, p.Column, p.Reason)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	tf := &TestFile{Path: path}
	if err := dec.Decode(tf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty test file", path)
		}
		if e := tabError(path, data, err); e != nil {
			return nil, e
		}
		return nil, decodeError(path, err)
	}
	if tf.EvaluationInterval == 0 {
		tf.EvaluationInterval = Duration(time.Minute)
	}
	if len(tf.Tests) == 0 {
		return nil, fmt.Errorf("%s: no tests", path)
	}
	if len(tf.RuleFiles) == 0 {
		return nil, fmt.Errorf("%s: no rule_files", path)
	}
	seen := map[string]bool{}
	for _, g := range tf.GroupEvalOrder {
		if seen[g] {
			return nil, fmt.Errorf("%s: group_eval_order: group %q is listed twice", path, g)
		}
		seen[g] = true
	}
	for i, t := range tf.Tests {
		for j, a := range t.AlertRuleTests {
			if a.Alertname == "" {
				return nil, fmt.Errorf("%s: tests[%d].alert_rule_test[%d]: alertname is missing", path, i, j)
			}
		}
		for j, p := range t.PromQLTests {
			if p.Expr == "" {
				return nil, fmt.Errorf("%s: tests[%d].promql_expr_test[%d]: expr is missing", path, i, j)
			}
		}
	}
	files, err := resolveRuleFiles(filepath.Dir(path), tf.RuleFiles)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tf.RuleFiles = files
	return tf, nil
}

// resolveRuleFiles joins relative paths to dir and expands globs; a pattern
// that matches nothing is an error, not a test that checks no rule.
func resolveRuleFiles(dir string, patterns []string) ([]string, error) {
	var files []string
	for _, p := range patterns {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("rule_files: %q: %w", p, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("rule_files: %s: no such file", p)
		}
		files = append(files, m...)
	}
	return files, nil
}

// decodeError formats the errors of decoding the YAML file path as
// "path:line: reason", one a line.
func decodeError(path string, err error) error {
	msgs := []string{err.Error()}
	var terr *yaml.TypeError
	if errors.As(err, &terr) {
		msgs = terr.Errors
	}
	for i, msg := range msgs {
		msg = strings.TrimPrefix(msg, "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			msg = m[1] + ": " + msg[len(m[0]):]
		} else {
			msg = " " + msg
		}
		if m := unknownFieldIn.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("%sunknown field %q", m[1], m[2])
		}
		msgs[i] = path + ":" + msg
	}
	return errors.New(strings.Join(msgs, "\n"))
}
