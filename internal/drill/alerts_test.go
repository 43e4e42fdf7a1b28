package drill

import (
	"testing"
	"time"

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
