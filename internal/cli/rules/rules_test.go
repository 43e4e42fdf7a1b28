package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drill-sre/drill/internal/cli/clitest"
)

// run executes `rules <args>` and returns what it printed and its error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return clitest.Run(t, NewCommand, args...)
}

const shipped = "../../../fixtures/monitoring/rules/"

// write writes content to name in dir and returns its path.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTestShipped(t *testing.T) {
	out, err := run(t, "test", shipped+"tests")
	if err != nil {
		t.Fatalf("shipped rule tests: %v\n%s", err, out)
	}
	for _, want := range []string{
		"PASS  " + shipped + "tests/drill_test.yaml  (4 tests, ",
		"PASS  " + shipped + "tests/seed_test.yaml  (4 tests, ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTestFailing(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "crash.rules.yaml", `groups:
  - name: crash
    rules:
      - alert: Crashing
        expr: rate(restarts_total[5m]) > 0
        for: 2m
        labels: {severity: warning}
        annotations: {summary: "{{ $labels.pod }} restarts"}
`)
	good := write(t, dir, "good_test.yaml", `rule_files: [crash.rules.yaml]
tests:
  - input_series: [{series: 'restarts_total{pod="a"}', values: '0+1x10'}]
    alert_rule_test:
      - eval_time: 3m
        alertname: Crashing
        exp_alerts: [{exp_labels: {severity: warning, pod: a}, exp_annotations: {summary: a restarts}}]
`)
	bad := write(t, dir, "bad_test.yaml", `rule_files: [crash.rules.yaml]
tests:
  - name: fires too early
    input_series: [{series: 'restarts_total{pod="a"}', values: '0+1x10'}]
    alert_rule_test:
      - eval_time: 2m
        alertname: Crashing
        exp_alerts: [{exp_labels: {severity: warning, pod: a}, exp_annotations: {summary: a restarts}}]
`)
	broken := write(t, dir, "broken_test.yaml", "rule_files: [nope.rules.yaml]\ntests: [{}]\n")

	out, err := run(t, "test", good)
	if err != nil || out != "PASS  "+good+"  (1 test, 1 assertion)\n" {
		t.Errorf("passing file: output %q, error %v", out, err)
	}

	out, err = run(t, "test", good, bad, broken)
	want := "PASS  " + good + "  (1 test, 1 assertion)\n" +
		"FAIL  " + bad + "  (1 of 1 test failed, 1 failure in 1 assertion)\n" +
		"  " + bad + `: tests[0] "fires too early": eval_time 2m: alertname Crashing: firing alerts differ (-expected +got):` + "\n" +
		`      - labels {alertname="Crashing", pod="a", severity="warning"} annotations {summary="a restarts"}` + "\n" +
		"      + (none)\n" +
		"FAIL  " + broken + "  (did not run)\n" +
		"  " + broken + ": rule_files: " + filepath.Join(dir, "nope.rules.yaml") + ": no such file\n"
	if out != want {
		t.Errorf("got output\n%s\nwant\n%s", out, want)
	}
	if err == nil || err.Error() != "2 of 3 rule test files failed" {
		t.Errorf("got error %v, want 2 of 3 rule test files failed", err)
	}
}

func TestCheck(t *testing.T) {
	out, err := run(t, "check", shipped+"seed.rules.yaml", shipped+"drill.rules.yaml")
	want := "ok  " + shipped + "seed.rules.yaml   3 rules in 1 group\n" +
		"ok  " + shipped + "drill.rules.yaml  2 rules in 1 group\n"
	if err != nil || out != want {
		t.Errorf("got output\n%s\nerror %v\nwant\n%s", out, err, want)
	}

	dir := t.TempDir()
	bad := write(t, dir, "bad.rules.yaml", `groups:
  - name: api
    rules:
      - alert: Fine
        expr: up == 0
      - alert: APIDown
        expr: sum(up{job="kubernetes-apiservers"} == 0
        for: 5m
`)
	out, err = run(t, "check", shipped+"drill.rules.yaml", bad, filepath.Join(dir, "nope.rules.yaml"))
	if want := "ok  " + shipped + "drill.rules.yaml  2 rules in 1 group\n"; out != want {
		t.Errorf("got output %q, want %q", out, want)
	}
	wantErr := "2 of 3 rule files invalid:\n" +
		bad + `:7:15: group "api", rule 2 "APIDown": could not parse expression: 1:41: parse error: unclosed left parenthesis` + "\n" +
		filepath.Join(dir, "nope.rules.yaml") + ": no such file or directory"
	if err == nil || err.Error() != wantErr {
		t.Errorf("got error\n%v\nwant\n%s", err, wantErr)
	}
}

func TestArgs(t *testing.T) {
	for _, args := range [][]string{{"test"}, {"check"}} {
		if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "requires at least 1 arg") {
			t.Errorf("%v: got error %v, want one asking for an argument", args, err)
		}
	}
	if _, err := run(t, "check", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.yaml files") {
		t.Errorf("empty directory: got error %v", err)
	}
}
