package drill

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/alerts"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

func TestAlertsSpecExpandsTheNamespace(t *testing.T) {
	sc := &scenarios.Scenario{Objectives: scenarios.Objectives{Alerts: &scenarios.Alerts{Expect: []scenarios.ExpectedAlert{
		{Name: "PodCrashLooping", Labels: map[string]string{"namespace": NamespaceVar, "severity": "warning"}, FiringWithin: time.Minute},
		{Name: "HighMemoryUsage", FiringWithin: time.Minute},
	}}}}
	r := &run{sc: sc, env: Env{RecordsNamespace: "drill-x", App: &App{Namespace: "drill-app"}}}
	got := r.alertsSpec()
	if ns := got.Expect[0].Labels["namespace"]; ns != "drill-app" {
		t.Errorf("namespace label %q, want the workload's namespace drill-app", ns)
	}
	if got.Expect[0].Labels["severity"] != "warning" || got.Expect[1].Labels != nil {
		t.Errorf("other labels changed: %+v", got.Expect)
	}
	if sc.Objectives.Alerts.Expect[0].Labels["namespace"] != NamespaceVar {
		t.Error("the scenario itself was changed")
	}
	r.env.App = nil
	if ns := r.alertsSpec().Expect[0].Labels["namespace"]; ns != "drill-x" {
		t.Errorf("without a workload: %q, want the drill's namespace drill-x", ns)
	}
}

// A Prometheus that cannot answer errs a drill that declares alerts, and
// only goes to the log of one that does not: there, alerts are a record.
func TestUnreadableAlertsErrOnlyADrillThatDeclaresThem(t *testing.T) {
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "tsdb not ready", http.StatusServiceUnavailable)
	}))
	defer prom.Close()
	src, err := alerts.NewSource(prom.URL, "", time.Millisecond, time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	declared := &scenarios.Alerts{Expect: []scenarios.ExpectedAlert{{Name: "PodCrashLooping", FiringWithin: time.Minute}}}
	for _, tc := range []struct {
		name   string
		alerts *scenarios.Alerts
		want   reports.Verdict
	}{
		{"no alerts declared", nil, reports.Pass},
		{"alerts declared", declared, reports.Error},
	} {
		var logged bytes.Buffer
		sc := &scenarios.Scenario{Name: "x", Objectives: scenarios.Objectives{Alerts: tc.alerts}}
		r := &run{env: Env{Alerts: src, Logger: cluster.NewWriterLogger(&logged, 0)}, sc: sc,
			d: reports.Drill{Verdict: reports.Pass, Started: time.Now().Add(-time.Minute), Finished: time.Now().Add(-time.Second)}}
		r.judgeAlerts(t.Context(), true)
		if r.d.Verdict != tc.want || r.d.Alerts != nil {
			t.Errorf("%s: verdict %s, alerts %v, failures %q; want %s and no alerts recorded", tc.name, r.d.Verdict, r.d.Alerts, r.d.Failures, tc.want)
		}
		if !strings.Contains(logged.String(), "503") && !strings.Contains(logged.String(), "tsdb not ready") {
			t.Errorf("%s: logged %q, want Prometheus' answer", tc.name, logged.String())
		}
	}
}
