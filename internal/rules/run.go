package rules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

// Result is what running one test file found.
type Result struct {
	// File is the test file.
	File string
	// Tests has one entry per test of the file, in order.
	Tests []TestResult
}

// Failed reports whether any assertion of the file failed.
func (r *Result) Failed() bool {
	for _, t := range r.Tests {
		if len(t.Failures) > 0 {
			return true
		}
	}
	return false
}

// Failures returns every failure of the file, test by test.
func (r *Result) Failures() []*Failure {
	var all []*Failure
	for _, t := range r.Tests {
		all = append(all, t.Failures...)
	}
	return all
}

// TestResult is what running one test of a file found.
type TestResult struct {
	// Index is the test's 0-based index in the file's tests.
	Index int
	// Name is the test's name, if it has one.
	Name string
	// Assertions is how many alert and PromQL assertions the test has.
	Assertions int
	// Failures are the failed assertions; a rule that fails to evaluate
	// ends its test with one failure.
	Failures []*Failure
}

// Failure is one failed assertion of a test.
type Failure struct {
	// File is the test file, Test the test's index in it and TestName its
	// name.
	File     string
	Test     int
	TestName string
	// EvalTime is the assertion's eval_time, from the start of the series.
	EvalTime time.Duration
	// Subject is what was checked: `alertname PodCrashLooping`,
	// `expr "up == 0"`, or the rule that failed to evaluate.
	Subject string
	// Message says what differs, as a diff: lines starting with "-" were
	// expected and not found, "+" found and not expected, " " both.
	Message string
}

// Error formats f as
//
//	FILE: tests[I] "NAME": eval_time T: SUBJECT: MESSAGE
func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: tests[%d]", f.File, f.Test)
	if f.TestName != "" {
		fmt.Fprintf(&b, " %q", f.TestName)
	}
	fmt.Fprintf(&b, ": eval_time %s: %s: %s", model.Duration(f.EvalTime), f.Subject, f.Message)
	return b.String()
}

// RunFile loads the test file at path and runs its tests. The error is for
// a file that cannot run (unreadable, malformed, a rule file that does not
// load); failed assertions are in the Result.
func RunFile(ctx context.Context, path string) (*Result, error) {
	tf, err := LoadTestFile(path)
	if err != nil {
		return nil, err
	}
	return Run(ctx, tf)
}

// Run runs the tests of tf, each on its own series and rule state, as
// Prometheus would evaluate the rules: every evaluation_interval from the
// start of the series up to the test's last eval_time, the groups one after
// the other.
func Run(ctx context.Context, tf *TestFile) (*Result, error) {
	order, err := groupOrder(tf)
	if err != nil {
		return nil, err
	}
	res := &Result{File: tf.Path}
	for i := range tf.Tests {
		tr, err := runTest(ctx, tf, i, order)
		if err != nil {
			return nil, err
		}
		res.Tests = append(res.Tests, *tr)
	}
	return res, nil
}

// groupOrder loads the rule files once, so that a broken one is reported
// once and by Load, and returns the evaluation rank of each group by its
// rules.GroupKey: group_eval_order first, then file order.
func groupOrder(tf *TestFile) (map[string]int, error) {
	type group struct{ key, name string }
	var all []group
	names := map[string]bool{}
	var errs []error
	for _, f := range tf.RuleFiles {
		rgs, err := Load(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, g := range rgs.Groups {
			all = append(all, group{rules.GroupKey(f, g.Name), g.Name})
			names[g.Name] = true
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: rule_files do not load:\n%w", tf.Path, errors.Join(errs...))
	}
	for _, n := range tf.GroupEvalOrder {
		if !names[n] {
			return nil, fmt.Errorf("%s: group_eval_order: no group %q in the rule files", tf.Path, n)
		}
	}
	order := map[string]int{}
	for i, g := range all {
		rank := len(tf.GroupEvalOrder) + i
		if j := slices.Index(tf.GroupEvalOrder, g.name); j >= 0 {
			rank = j
		}
		order[g.key] = rank
	}
	return order, nil
}

// fileLoader loads rule files for the rule manager with Load.
type fileLoader struct{}

func (fileLoader) Load(file string, _ bool, _ model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	rgs, err := Load(file)
	if err != nil {
		return nil, []error{err}
	}
	return rgs, nil
}

func (fileLoader) Parse(query string) (parser.Expr, error) { return parser.ParseExpr(query) }

var _ rules.GroupLoader = fileLoader{}

// start is the time of the first sample of every test, as in promtool.
var start = time.Unix(0, 0).UTC()

// runTest runs tests[i] of tf.
func runTest(ctx context.Context, tf *TestFile, i int, order map[string]int) (*TestResult, error) {
	t := tf.Tests[i]
	tr := &TestResult{Index: i, Name: t.Name, Assertions: len(t.AlertRuleTests) + len(t.PromQLTests)}
	where := fmt.Sprintf("%s: tests[%d]", tf.Path, i)
	fail := func(at time.Duration, subject, msg string) {
		tr.Failures = append(tr.Failures, &Failure{File: tf.Path, Test: i, TestName: t.Name,
			EvalTime: at, Subject: subject, Message: msg})
	}

	interval := cmp.Or(time.Duration(t.Interval), time.Duration(tf.EvaluationInterval))
	evalInterval := time.Duration(tf.EvaluationInterval)
	load, err := loadCommand(interval, t.InputSeries)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	ll, err := promqltest.NewLazyLoader(load, promqltest.LazyLoaderOpts{
		EnableAtModifier: true, EnableNegativeOffset: true,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: input_series: %w", where, err)
	}
	defer ll.Close()
	ll.SubqueryInterval = evalInterval

	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:            rules.EngineQueryFunc(ll.QueryEngine(), ll.Storage()),
		Appendable:           ll.Storage(),
		Queryable:            ll.Storage(),
		Context:              ctx,
		NotifyFunc:           func(context.Context, string, ...*rules.Alert) {},
		Logger:               promslog.NewNopLogger(),
		NameValidationScheme: nameValidation,
		GroupLoader:          fileLoader{},
	})
	loaded, errs := m.LoadGroups(evalInterval, labels.FromMap(t.ExternalLabels), t.ExternalURL, nil, false, tf.RuleFiles...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: load rules: %w", where, errors.Join(errs...))
	}
	groups := slices.SortedFunc(maps.Values(loaded), func(a, b *rules.Group) int {
		return cmp.Compare(order[rules.GroupKey(a.File(), a.Name())], order[rules.GroupKey(b.File(), b.Name())])
	})
	alerting := map[string][]*rules.AlertingRule{}
	for _, g := range groups {
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				// A new rule manager would restore the alerts' state from
				// ALERTS_FOR_STATE first, and write no ALERTS series until
				// then: there is nothing to restore.
				ar.SetRestored(true)
				alerting[ar.Name()] = append(alerting[ar.Name()], ar)
			}
		}
	}

	// The alert assertions, by eval_time.
	alertTests := slices.Clone(t.AlertRuleTests)
	slices.SortStableFunc(alertTests, func(a, b AlertTest) int { return cmp.Compare(a.EvalTime, b.EvalTime) })
	var last time.Duration
	for _, a := range alertTests {
		last = max(last, time.Duration(a.EvalTime))
	}
	for _, p := range t.PromQLTests {
		last = max(last, time.Duration(p.EvalTime))
	}

	// Evaluate every group at every step up to the last eval_time; check an
	// alert assertion at the step at or just before its eval_time.
	next := 0
	for at := time.Duration(0); at <= last; at += evalInterval {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ts := start.Add(at)
		var loadErr error
		evalFailed := false
		ll.WithSamplesTill(ts, func(err error) {
			if err != nil {
				loadErr = err
				return
			}
			for _, g := range groups {
				g.Eval(ctx, ts)
				for _, r := range g.Rules() {
					if err := r.LastError(); err != nil {
						fail(at, fmt.Sprintf("rule %q (group %q)", r.Name(), g.Name()), "evaluation failed: "+err.Error())
						evalFailed = true
					}
				}
			}
		})
		if loadErr != nil {
			return nil, fmt.Errorf("%s: load input_series at %s: %w", where, model.Duration(at), loadErr)
		}
		if evalFailed {
			return tr, nil // later steps would only repeat it
		}
		for ; next < len(alertTests) && time.Duration(alertTests[next].EvalTime) < at+evalInterval; next++ {
			a := alertTests[next]
			subject := "alertname " + a.Alertname
			rs, ok := alerting[a.Alertname]
			if !ok {
				fail(time.Duration(a.EvalTime), subject, "no alerting rule of that name in the rule files")
				continue
			}
			if diff, ok := diffAlerts(a, rs); !ok {
				fail(time.Duration(a.EvalTime), subject, "firing alerts differ (-expected +got):\n"+diff)
			}
		}
	}

	for _, p := range t.PromQLTests {
		subject := "expr " + strconv.Quote(p.Expr)
		got, err := query(ctx, ll, p.Expr, start.Add(time.Duration(p.EvalTime)))
		if err != nil {
			fail(time.Duration(p.EvalTime), subject, err.Error())
			continue
		}
		exp := make([]line, 0, len(p.ExpSamples))
		for j, s := range p.ExpSamples {
			lset, err := parser.ParseMetric(s.Labels)
			if err != nil {
				return nil, fmt.Errorf("%s: promql_expr_test: exp_samples[%d].labels %q: %w", where, j, s.Labels, err)
			}
			exp = append(exp, sampleLine(lset, s.Value))
		}
		if diff, ok := diffLines(exp, got); !ok {
			fail(time.Duration(p.EvalTime), subject, "samples differ (-expected +got):\n"+diff)
		}
	}
	return tr, nil
}

// loadCommand writes the input series as a promqltest load command, after
// checking each one so that an error names it.
func loadCommand(interval time.Duration, series []Series) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "load %s\n", model.Duration(interval))
	for j, s := range series {
		desc := s.Series + " " + s.Values
		if strings.ContainsAny(desc, "\n") {
			return "", fmt.Errorf("input_series[%d]: series and values must be on one line each", j)
		}
		if _, _, err := parser.ParseSeriesDesc(desc); err != nil {
			return "", fmt.Errorf("input_series[%d] %s: %w", j, s.Series, err)
		}
		fmt.Fprintf(&b, "  %s\n", desc)
	}
	return b.String(), nil
}

// query evaluates expr at ts over the test's storage, as sample lines.
func query(ctx context.Context, ll *promqltest.LazyLoader, expr string, ts time.Time) ([]line, error) {
	q, err := ll.QueryEngine().NewInstantQuery(ctx, ll.Queryable(), nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	var got []line
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			if s.H != nil {
				return nil, errors.New("native histograms are not supported")
			}
			got = append(got, sampleLine(s.Metric, s.F))
		}
	case promql.Scalar:
		got = append(got, sampleLine(labels.EmptyLabels(), v.V))
	default:
		return nil, fmt.Errorf("result is a %s: want an instant vector or a scalar", v.Type())
	}
	return got, nil
}

// line is one alert or sample as a diff shows it: lines with equal text are
// equal alerts or samples; key orders them.
type line struct{ key, text string }

func sampleLine(lset labels.Labels, v float64) line {
	key := metricString(lset)
	return line{key, key + " " + strconv.FormatFloat(v, 'g', -1, 64)}
}

func alertLine(lset, annotations labels.Labels) line {
	key := lset.String()
	return line{key, "labels " + key + " annotations " + annotations.String()}
}

// metricString formats lset as PromQL writes a series: name{labels}.
func metricString(lset labels.Labels) string {
	name := lset.Get(labels.MetricName)
	if name == "" {
		return lset.String()
	}
	rest := labels.NewBuilder(lset).Del(labels.MetricName).Labels()
	if rest.IsEmpty() {
		return name
	}
	return name + rest.String()
}

// diffAlerts compares the firing alerts of the rules named a.Alertname with
// the alerts a expects.
func diffAlerts(a AlertTest, rs []*rules.AlertingRule) (string, bool) {
	exp := make([]line, 0, len(a.ExpAlerts))
	for _, e := range a.ExpAlerts {
		lbls := maps.Clone(e.ExpLabels)
		if lbls == nil {
			lbls = map[string]string{}
		}
		lbls[labels.AlertName] = a.Alertname
		exp = append(exp, alertLine(labels.FromMap(lbls), labels.FromMap(e.ExpAnnotations)))
	}
	var got []line
	for _, r := range rs {
		for _, al := range r.ActiveAlerts() {
			if al.State == rules.StateFiring {
				got = append(got, alertLine(al.Labels, al.Annotations))
			}
		}
	}
	return diffLines(exp, got)
}

// signRank puts what both sides have first, then what was expected, then
// what was got.
func signRank(sign byte) int { return strings.IndexByte(" -+", sign) }

// diffLines compares two multisets of lines. It reports whether they are
// equal and, sorted, every line prefixed with "-" (expected only), "+" (got
// only) or " " (both); "(none)" stands for an empty side.
func diffLines(exp, got []line) (string, bool) {
	type entry struct {
		l    line
		sign byte
	}
	var entries []entry
	left := slices.Clone(got)
	for _, e := range exp {
		if j := slices.Index(left, e); j >= 0 {
			left = slices.Delete(left, j, j+1)
			entries = append(entries, entry{e, ' '})
		} else {
			entries = append(entries, entry{e, '-'})
		}
	}
	for _, g := range left {
		entries = append(entries, entry{g, '+'})
	}
	equal := !slices.ContainsFunc(entries, func(e entry) bool { return e.sign != ' ' })
	slices.SortStableFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.l.key, b.l.key), cmp.Compare(signRank(a.sign), signRank(b.sign)))
	})
	var b strings.Builder
	if len(exp) == 0 {
		b.WriteString("    - (none)\n")
	}
	for _, e := range entries {
		fmt.Fprintf(&b, "    %c %s\n", e.sign, e.l.text)
	}
	if len(got) == 0 {
		b.WriteString("    + (none)\n")
	}
	return strings.TrimSuffix(b.String(), "\n"), equal
}
