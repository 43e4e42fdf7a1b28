package rules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shippedTests are drill's rule unit-test files.
const shippedTests = ruleDir + "tests/*_test.yaml"

// TestShippedRuleTests runs every rule unit-test file drill ships: the seed's
// rules and drill's, as promtool would.
func TestShippedRuleTests(t *testing.T) {
	files, err := filepath.Glob(shippedTests)
	if err != nil || len(files) < 2 {
		t.Fatalf("rule test files matching %s: %v (%v), want seed_test.yaml and drill_test.yaml", shippedTests, files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res, err := RunFile(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range res.Tests {
				if tr.Assertions == 0 {
					t.Errorf("%s: tests[%d] %q asserts nothing", f, tr.Index, tr.Name)
				}
			}
			for _, fl := range res.Failures() {
				t.Error(fl)
			}
		})
	}
}

// TestFailingTestFile checks that the runner can fail: every wrong
// expectation of testdata/failing_test.yaml is reported, as a diff.
func TestFailingTestFile(t *testing.T) {
	const file = "testdata/failing_test.yaml"
	res, err := RunFile(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || len(res.Tests) != 2 || len(res.Tests[0].Failures) != 0 {
		t.Fatalf("result %+v: want tests[0] to pass and tests[1] to fail", res)
	}
	var got []string
	for _, f := range res.Failures() {
		got = append(got, f.Error())
	}
	want := []string{
		file + `: tests[1] "wrong on purpose": eval_time 2m: alertname Crashing: firing alerts differ (-expected +got):
    - labels {alertname="Crashing", pod="a", severity="warning"} annotations {summary="a restarts"}
    + (none)`,
		file + `: tests[1] "wrong on purpose": eval_time 5m: alertname Crashing: firing alerts differ (-expected +got):
      labels {alertname="Crashing", pod="a", severity="warning"} annotations {summary="a restarts"}
    - labels {alertname="Crashing", pod="b", severity="warning"} annotations {summary="b is crashing"}`,
		file + `: tests[1] "wrong on purpose": eval_time 5m: alertname Crashin: no alerting rule of that name in the rule files`,
		file + `: tests[1] "wrong on purpose": eval_time 4m: expr "restarts_total": samples differ (-expected +got):
    - restarts_total{pod="a"} 5
    + restarts_total{pod="a"} 4
      restarts_total{pod="b"} 0`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestGroupEvalOrder checks that groups run in group_eval_order, then in
// file order, at every evaluation.
func TestGroupEvalOrder(t *testing.T) {
	for _, f := range []string{"testdata/order_test.yaml", "testdata/file_order_test.yaml"} {
		res, err := RunFile(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, fl := range res.Failures() {
			t.Error(fl)
		}
	}
}

func TestTestFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("ok.rules.yaml", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n")
	write("broken.rules.yaml", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up ==\n")
	const series = "    input_series: [{series: 'up', values: '1x5'}]\n"
	const assert = "    alert_rule_test: [{eval_time: 1m, alertname: A, exp_alerts: []}]\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown field", "rule_files: [ok.rules.yaml]\ntests:\n  - intervall: 1m\n",
			`3: unknown field "intervall"`},
		{"no rule file", "rule_files: [nope.rules.yaml]\ntests:\n  - interval: 1m\n" + series + assert,
			"rule_files: " + filepath.Join(dir, "nope.rules.yaml") + ": no such file"},
		{"broken rule file", "rule_files: [broken.rules.yaml]\ntests:\n  - interval: 1m\n" + series + assert,
			"rule_files do not load:\n" + filepath.Join(dir, "broken.rules.yaml") + `:5:11: group "g", rule 1 "A": could not parse expression: 1:6: parse error: unexpected end of input`},
		{"bad duration", "rule_files: [ok.rules.yaml]\nevaluation_interval: soon\ntests:\n  - interval: 1m\n" + series + assert,
			`2: "soon" is not a duration: want a number and a unit, such as 30s, 5m or 1h30m`},
		{"unknown group", "rule_files: [ok.rules.yaml]\ngroup_eval_order: [h]\ntests:\n  - interval: 1m\n" + series + assert,
			`group_eval_order: no group "h" in the rule files`},
		{"no alertname", "rule_files: [ok.rules.yaml]\ntests:\n  - interval: 1m\n" + series + "    alert_rule_test: [{eval_time: 1m}]\n",
			"tests[0].alert_rule_test[0]: alertname is missing"},
		{"bad series", "rule_files: [ok.rules.yaml]\ntests:\n  - interval: 1m\n    input_series: [{series: 'up{', values: '1x5'}]\n" + assert,
			"tests[0]: input_series[0] up{: 1:5: parse error: unexpected character inside braces: '1'"},
		{"no tests", "rule_files: [ok.rules.yaml]\n", "no tests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(strings.ReplaceAll(tc.name, " ", "_")+"_test.yaml", tc.yaml)
			_, err := RunFile(context.Background(), path)
			want := path + ": " + tc.want
			if tc.want[0] >= '0' && tc.want[0] <= '9' {
				want = path + ":" + tc.want
			}
			if err == nil || err.Error() != want {
				t.Errorf("got error\n%v\nwant\n%s", err, want)
			}
		})
	}
}
