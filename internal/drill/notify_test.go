package drill

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/alerts"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// A drill reads its alerts as soon as it ends: an expected alert that
// fired but whose notification is still in Alertmanager's group_wait is
// waited for, and found notified; one that never fired is not waited for.
func TestAwaitNotified(t *testing.T) {
	token, err := alerts.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := alerts.Listen("127.0.0.1:0", token)
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	injected := time.Now().Add(-time.Minute)
	r := &run{
		env: Env{Alerts: &alerts.Source{Receiver: rcv, EvaluationInterval: time.Second}},
		d:   reports.Drill{Started: injected.Add(-time.Minute), Fault: reports.Fault{Injected: injected}},
	}
	spec := &scenarios.Alerts{Expect: []scenarios.ExpectedAlert{{Name: "ClusterDown"}, {Name: "NeverFired"}}}
	seen := []reports.Alert{
		{Name: "ClusterDown", Firing: []reports.Span{{From: injected.Add(10 * time.Second), To: time.Now(), Open: true}}},
		{Name: "NeverFired", Pending: []reports.Span{{From: injected, To: time.Now()}}},
	}
	go func() {
		time.Sleep(2 * time.Second) // group_wait
		body := []byte(`{"status":"firing","alerts":[{"status":"firing","labels":{"alertname":"ClusterDown"}}]}`)
		req, _ := http.NewRequest(http.MethodPost, rcv.URL(), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	start := time.Now()
	r.awaitNotified(context.Background(), seen, spec)
	if seen[0].Notified.IsZero() {
		t.Fatalf("ClusterDown not notified after %s", time.Since(start))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("waited %s: want it to return as the notification came", took)
	}
	// Nothing left to wait for: it returns at once.
	start = time.Now()
	r.awaitNotified(context.Background(), seen, spec)
	if took := time.Since(start); took > time.Second {
		t.Errorf("waited %s with every fired alert notified", took)
	}
}
