package alerts

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var t0 = time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)

const eval = 15 * time.Second

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// samples returns one sample per evaluation from from to to seconds, inclusive.
func samples(from, to float64) []model.SamplePair {
	var out []model.SamplePair
	for s := from; s <= to; s += eval.Seconds() {
		out = append(out, model.SamplePair{Timestamp: model.TimeFromUnixNano(at(s).UnixNano()), Value: 1})
	}
	return out
}

func series(name, state string, vs []model.SamplePair, labels ...string) *model.SampleStream {
	m := model.Metric{"__name__": "ALERTS", "alertname": model.LabelValue(name), "alertstate": model.LabelValue(state)}
	for i := 0; i+1 < len(labels); i += 2 {
		m[model.LabelName(labels[i])] = model.LabelValue(labels[i+1])
	}
	return &model.SampleStream{Metric: m, Values: vs}
}

func TestHistory(t *testing.T) {
	m := model.Matrix{
		// Pending from 30 s, firing from 330 s to 600 s (last sample).
		series("PodCrashLooping", "pending", samples(30, 315), "severity", "warning", "pod", "a"),
		series("PodCrashLooping", "firing", samples(330, 600), "severity", "warning", "pod", "a"),
		// Two pending stretches with a gap of 60 s, never firing.
		series("Flappy", "pending", append(samples(0, 45), samples(105, 120)...)),
		// Still firing at the end of the window.
		series("ClusterDown", "firing", samples(700, 900), "instance", "10.0.0.2:6443"),
	}
	got := History(m, eval, at(905), nil)
	if len(got) != 3 {
		t.Fatalf("got %d alerts, want 3: %+v", len(got), got)
	}
	if got[0].Name != "Flappy" || got[1].Name != "PodCrashLooping" || got[2].Name != "ClusterDown" {
		t.Errorf("order %s, %s, %s: want by first activity", got[0].Name, got[1].Name, got[2].Name)
	}
	flappy := got[0]
	if len(flappy.Pending) != 2 || !flappy.Pending[0].To.Equal(at(60)) || !flappy.Pending[1].From.Equal(at(105)) {
		t.Errorf("Flappy pending %+v: want 0-60 s and 105-135 s", flappy.Pending)
	}
	pcl := got[1]
	if pcl.Labels["pod"] != "a" || pcl.Labels["alertname"] != "" || pcl.Labels["alertstate"] != "" {
		t.Errorf("labels %v: want the alert's own", pcl.Labels)
	}
	if len(pcl.Firing) != 1 || !pcl.Firing[0].From.Equal(at(330)) || !pcl.Firing[0].To.Equal(at(615)) || pcl.Firing[0].Open {
		t.Errorf("firing %+v: want 330 s to 615 s (one evaluation after the last sample), closed", pcl.Firing)
	}
	cd := got[2]
	if !cd.Firing[0].Open || !cd.Firing[0].To.Equal(at(905)) {
		t.Errorf("ClusterDown %+v: want open until the end of the window", cd.Firing)
	}
}

func TestAddNotifications(t *testing.T) {
	seen := []reports.Alert{{Name: "X", Labels: map[string]string{"pod": "a"}}, {Name: "X", Labels: map[string]string{"pod": "b"}}}
	AddNotifications(seen, []Notification{
		{Received: at(10), Status: "resolved", Alerts: []NotifiedAlert{{Status: "resolved", Labels: map[string]string{"alertname": "X", "pod": "a"}}}},
		{Received: at(20), Status: "firing", Alerts: []NotifiedAlert{{Status: "firing", Labels: map[string]string{"alertname": "X", "pod": "a", "cluster": "kind"}}}},
		{Received: at(30), Status: "firing", Alerts: []NotifiedAlert{{Status: "firing", Labels: map[string]string{"alertname": "X", "pod": "a"}}}},
		{Received: at(40), Status: "resolved", Alerts: []NotifiedAlert{{Status: "resolved", Labels: map[string]string{"alertname": "X", "pod": "a"}}}},
	})
	if !seen[0].Notified.Equal(at(20)) || !seen[0].NotifiedResolved.Equal(at(40)) {
		t.Errorf("pod a: notified %v, resolved %v: want the first firing (20 s) and the resolve after it (40 s)", seen[0].Notified, seen[0].NotifiedResolved)
	}
	if !seen[1].Notified.IsZero() {
		t.Errorf("pod b was never notified, got %v", seen[1].Notified)
	}
}

func objective(t *testing.T, r Result, name string) reports.Objective {
	t.Helper()
	for _, o := range r.Objectives {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no objective %s in %+v", name, r.Objectives)
	return reports.Objective{}
}

func TestJudge(t *testing.T) {
	expect := scenarios.ExpectedAlert{Name: "PodCrashLooping", FiringWithin: 7 * time.Minute, ResolvedWithin: 6 * time.Minute}
	fired := reports.Alert{Name: "PodCrashLooping", Labels: map[string]string{"severity": "warning"},
		Pending:  []reports.Span{{From: at(20), To: at(320)}},
		Firing:   []reports.Span{{From: at(320), To: at(700)}},
		Notified: at(330), NotifiedResolved: at(720)}
	base := Input{Injected: at(0), Reverted: at(400), End: at(800), Scrape: eval, Eval: eval, Notifications: true}

	tests := []struct {
		name    string
		in      func(Input) Input
		check   string // objective name
		verdict reports.Verdict
		detail  string
		value   float64
	}{
		{"fires in time", func(in Input) Input { return in }, "alerts.PodCrashLooping.firing", reports.Pass, "pending at +20.0s", 320},
		{"notified in time", func(in Input) Input { return in }, "alerts.PodCrashLooping.notified", reports.Pass, "+330.0s", 330},
		{"resolved in time", func(in Input) Input { return in }, "alerts.PodCrashLooping.resolved", reports.Pass, "300.0s after the revert", 300},
		{"fires too late", func(in Input) Input {
			in.Spec.Expect[0].FiringWithin = 5 * time.Minute
			return in
		}, "alerts.PodCrashLooping.firing", reports.Fail, "firing at +320.0s", 320},
		{"never fires, no data", func(in Input) Input {
			in.Seen = nil
			in.NoData = map[string][]string{"PodCrashLooping": {"kube_pod_container_status_restarts_total"}}
			return in
		}, "alerts.PodCrashLooping.firing", reports.Fail, "no data: its rule reads kube_pod_container_status_restarts_total", 0},
		{"pending but never firing", func(in Input) Input {
			a := fired
			a.Firing = nil
			a.Pending = []reports.Span{{From: at(20), To: at(200)}}
			in.Seen = []reports.Alert{a}
			return in
		}, "alerts.PodCrashLooping.firing", reports.Fail, "pending 1 time(s), first at +20.0s for 180.0s", 0},
		{"no rule", func(in Input) Input {
			in.MissingRules = []string{"PodCrashLooping"}
			return in
		}, "alerts.PodCrashLooping.firing", reports.Error, "no alerting rule named PodCrashLooping", 0},
		{"already firing before the injection", func(in Input) Input {
			a := fired
			a.Firing = []reports.Span{{From: at(-60), To: at(700)}}
			in.Seen = []reports.Alert{a}
			return in
		}, "alerts.PodCrashLooping.firing", reports.Error, "already active before the injection", 0},
		{"labels do not match", func(in Input) Input {
			in.Spec.Expect[0].Labels = map[string]string{"severity": "critical"}
			return in
		}, "alerts.PodCrashLooping.firing", reports.Fail, "did not fire", 0},
		{"never notified", func(in Input) Input {
			a := fired
			a.Notified = time.Time{}
			in.Seen = []reports.Alert{a}
			return in
		}, "alerts.PodCrashLooping.notified", reports.Fail, "delivered no firing notification", 0},
		{"still firing at the end", func(in Input) Input {
			a := fired
			a.Firing = []reports.Span{{From: at(320), To: at(800), Open: true}}
			in.Seen = []reports.Alert{a}
			return in
		}, "alerts.PodCrashLooping.resolved", reports.Fail, "still firing when the drill ended", 0},
		{"resolved too late", func(in Input) Input {
			in.Spec.Expect[0].ResolvedWithin = 4 * time.Minute
			return in
		}, "alerts.PodCrashLooping.resolved", reports.Fail, "300.0s after the revert", 300},
		{"revert failed", func(in Input) Input {
			in.Reverted = time.Time{}
			return in
		}, "alerts.PodCrashLooping.resolved", reports.Error, "the revert did not complete", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			in.Spec = &scenarios.Alerts{Expect: []scenarios.ExpectedAlert{expect}}
			in.Seen = []reports.Alert{fired}
			in = tt.in(in)
			o := objective(t, Judge(in), tt.check)
			if o.Verdict != tt.verdict || !strings.Contains(o.Detail+" "+o.Measured, tt.detail) || o.Value != tt.value {
				t.Errorf("got %s %v (%s; %s), want %s %v with %q", o.Verdict, o.Value, o.Measured, o.Detail, tt.verdict, tt.value, tt.detail)
			}
		})
	}
}

func TestJudgeForbidden(t *testing.T) {
	spec := &scenarios.Alerts{
		Expect: []scenarios.ExpectedAlert{{Name: "ClusterDown", FiringWithin: 7 * time.Minute}},
		Forbid: &scenarios.ForbiddenAlerts{Names: []string{"KubernetesAPIDown"}, Severity: "critical"},
	}
	crit := map[string]string{"severity": "critical"}
	seen := []reports.Alert{
		{Name: "ClusterDown", Labels: crit, Firing: []reports.Span{{From: at(310), To: at(400)}}}, // expected: allowed
		{Name: "Watchdog", Labels: crit, Firing: []reports.Span{{From: at(-600), To: at(900)}}},   // before: not counted
		{Name: "HighMemoryUsage", Labels: map[string]string{"severity": "warning"}, Firing: []reports.Span{{From: at(100), To: at(200)}}},
		{Name: "KubernetesAPIDown", Labels: crit, Pending: []reports.Span{{From: at(100), To: at(200)}}}, // pending only
	}
	in := Input{Spec: spec, Seen: seen, Injected: at(0), Reverted: at(400), End: at(900), Eval: eval}
	o := objective(t, Judge(in), "alerts.forbid")
	if o.Verdict != reports.Pass || !strings.Contains(o.Detail, "already firing before the injection (not counted): Watchdog") {
		t.Errorf("got %s (%s), want pass noting Watchdog", o.Verdict, o.Detail)
	}
	in.Seen = append(in.Seen, reports.Alert{Name: "KubernetesAPIDown", Labels: crit, Firing: []reports.Span{{From: at(300), To: at(400)}}},
		reports.Alert{Name: "EtcdNoLeader", Labels: crit, Firing: []reports.Span{{From: at(50), To: at(60)}}})
	o = objective(t, Judge(in), "alerts.forbid")
	if o.Verdict != reports.Fail || o.Value != 2 || !strings.Contains(o.Detail, "KubernetesAPIDown") || !strings.Contains(o.Detail, "EtcdNoLeader") {
		t.Errorf("got %s %v (%s), want fail with KubernetesAPIDown and EtcdNoLeader", o.Verdict, o.Value, o.Detail)
	}
}

func TestJudgeFinding(t *testing.T) {
	spec := &scenarios.Alerts{Expect: []scenarios.ExpectedAlert{{Name: "ClusterDown", FiringWithin: 7 * time.Minute,
		Finding: "The seed's ClusterDown is per instance."}}}
	seen := []reports.Alert{{Name: "ClusterDown", Labels: map[string]string{"instance": "10.0.0.2:6443"},
		Firing: []reports.Span{{From: at(310), To: at(400)}}}}
	in := Input{Spec: spec, Seen: seen, Injected: at(0), Reverted: at(380), End: at(500), Eval: eval,
		APIUnavailable: func(from, to time.Time) time.Duration { return 2 * time.Second }}
	r := Judge(in)
	if len(r.Findings) != 1 {
		t.Fatalf("findings %v", r.Findings)
	}
	want := `The seed's ClusterDown is per instance. Measured: ClusterDown{instance="10.0.0.2:6443"} fired from +310.0s to +400.0s, while the API through the load balancer was unavailable for 2.0s of those 90.0s.`
	if r.Findings[0] != want {
		t.Errorf("finding\n got %s\nwant %s", r.Findings[0], want)
	}
}

func TestSelectors(t *testing.T) {
	got, err := Selectors(`sum(up{job="kubernetes-apiservers"}) == 0 or absent(up{job="kubernetes-apiservers"}) or rate(kube_pod_container_status_restarts_total[5m]) > 0`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`up{job="kubernetes-apiservers"}`, `kube_pod_container_status_restarts_total`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q (selectors under absent() left out)", got, want)
	}
	if _, err := Selectors("up{"); err == nil {
		t.Error("a bad expression parsed")
	}
}

func TestParseIntervals(t *testing.T) {
	s, e, err := ParseIntervals("global:\n  scrape_interval: 30s\n  evaluation_interval: 1m30s\n")
	if err != nil || s != 30*time.Second || e != 90*time.Second {
		t.Errorf("got %v %v %v", s, e, err)
	}
	s, e, err = ParseIntervals("scrape_configs: []\n")
	if err != nil || s != time.Minute || e != time.Minute {
		t.Errorf("defaults: got %v %v %v, want Prometheus' 1m", s, e, err)
	}
	if _, _, err := ParseIntervals("global:\n  scrape_interval: fast\n"); err == nil || !strings.Contains(err.Error(), "global.scrape_interval") {
		t.Errorf("bad interval: %v", err)
	}
}

// post sends body to the Receiver with the given Authorization header
// ("" for none) and returns the status.
func post(t *testing.T, r *Receiver, auth string, body io.Reader) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.URL(), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

const firingBody = `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"X","pod":"a"},"startsAt":"2026-11-27T22:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]}`

func TestReceiver(t *testing.T) {
	r, err := Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Token()) != 64 {
		t.Fatalf("token %d characters, want 64 hex", len(r.Token()))
	}
	if strings.Contains(r.URL(), r.Token()) {
		t.Errorf("the token is in the URL %s", r.URL())
	}
	before := time.Now()
	if got := post(t, r, "Bearer "+r.Token(), strings.NewReader(firingBody)); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	if got := post(t, r, "Bearer "+r.Token(), strings.NewReader(`{"not":"a payload"}`)); got != http.StatusBadRequest {
		t.Errorf("a bad payload got %d, want 400", got)
	}
	got := r.Notifications(before)
	if len(got) != 1 || got[0].Status != "firing" || got[0].Alerts[0].Labels["pod"] != "a" || got[0].Received.Before(before) {
		t.Errorf("got %+v", got)
	}
	if len(r.Notifications(time.Now().Add(time.Second))) != 0 {
		t.Error("notifications before since were returned")
	}
}

// A notification without the Receiver's token, or with another, is refused
// and not kept; so is one larger than MaxBody.
func TestReceiverRefusesForgedNotifications(t *testing.T) {
	r, err := Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	other, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if other == r.Token() {
		t.Fatal("two random tokens are the same")
	}
	before := time.Now()
	huge := `{"status":"firing","alerts":[],"pad":"` + strings.Repeat("x", MaxBody) + `"}`
	for _, tc := range []struct {
		name, auth, body string
		want             int
	}{
		{"no token", "", firingBody, http.StatusUnauthorized},
		{"another token", "Bearer " + other, firingBody, http.StatusForbidden},
		{"the token as basic auth", "Basic " + r.Token(), firingBody, http.StatusForbidden},
		{"a prefix of the token", "Bearer " + r.Token()[:10], firingBody, http.StatusForbidden},
		{"the token without a scheme", r.Token(), firingBody, http.StatusForbidden},
		{"oversize body, right token", "Bearer " + r.Token(), huge, http.StatusRequestEntityTooLarge},
		{"oversize body, no token", "", huge, http.StatusUnauthorized},
	} {
		if got := post(t, r, tc.auth, strings.NewReader(tc.body)); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := r.Notifications(before); len(got) != 0 {
		t.Errorf("kept %d refused notifications: %+v", len(got), got)
	}
	if refused, _ := r.Refused(); refused != 6 {
		t.Errorf("refused %d, want 6", refused)
	}
	// The right token, in any case of the scheme, is taken.
	if got := post(t, r, "bearer "+r.Token(), strings.NewReader(firingBody)); got != http.StatusOK {
		t.Errorf("the right token: status %d", got)
	}
	if got := r.Notifications(before); len(got) != 1 {
		t.Errorf("kept %d, want the one with the token", len(got))
	}
}

// A Receiver given a token takes that one; the server has timeouts.
func TestReceiverTokenAndTimeouts(t *testing.T) {
	r, err := Listen("127.0.0.1:0", "set-by-the-user")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Token() != "set-by-the-user" {
		t.Errorf("token %q", r.Token())
	}
	if post(t, r, "Bearer set-by-the-user", strings.NewReader(firingBody)) != http.StatusOK {
		t.Error("the given token was refused")
	}
	s := r.srv
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Errorf("server without a timeout: %+v", s)
	}
}

// Past MaxNotifications, the oldest notifications are dropped.
func TestReceiverCapsWhatItKeeps(t *testing.T) {
	r := &Receiver{token: "t"}
	for range MaxNotifications + 5 {
		req := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(firingBody))
		req.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		r.handle(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	if got := len(r.Notifications(time.Time{})); got != MaxNotifications {
		t.Errorf("kept %d, want %d", got, MaxNotifications)
	}
	if _, dropped := r.Refused(); dropped != 5 {
		t.Errorf("dropped %d, want 5", dropped)
	}
}

func TestHistoryReadQuietAfterTheEnd(t *testing.T) {
	m := model.Matrix{series("PodCrashLooping", "firing", samples(330, 600))}
	// Read right after the last sample, a stretch that just ended looks open;
	// read Quiet later, it is closed one evaluation after its last sample.
	if got := History(m, eval, at(610), nil); !got[0].Firing[0].Open {
		t.Errorf("read 10 s after the last sample: %+v, want open (cannot tell yet)", got[0].Firing)
	}
	got := History(m, eval, at(600).Add(Quiet(eval)), nil)
	if s := got[0].Firing[0]; s.Open || !s.To.Equal(at(615)) {
		t.Errorf("read Quiet after: %+v, want closed at 615 s", s)
	}
}

// What was active at the end (the instant query ALERTS) decides whether a
// last stretch is open, so the history can be read right after the window:
// no wait, whatever the last sample's age within the gap.
func TestHistoryReadWithWhatIsActive(t *testing.T) {
	m := model.Matrix{
		series("PodCrashLooping", "firing", samples(330, 600), "pod", "a"),
		series("PodCrashLooping", "firing", samples(330, 600), "pod", "b"),
		// Active at the end, but last sampled long before it: never
		// marked stale (Prometheus was stopped), not open.
		series("ClusterDown", "firing", samples(100, 300)),
		// Pending until its last sample at 590; firing since, in the
		// instant query only (it began between the two reads).
		series("Flappy", "pending", samples(500, 590)),
	}
	active := model.Vector{
		{Metric: series("PodCrashLooping", "firing", nil, "pod", "b").Metric},
		{Metric: series("ClusterDown", "firing", nil).Metric},
		{Metric: series("Flappy", "firing", nil).Metric},
	}
	got := History(m, eval, at(605), active)
	spans := map[string]reports.Span{}
	for _, a := range got {
		for _, s := range a.Pending {
			spans[a.Name+a.Labels["pod"]+" pending"] = s
		}
		for _, s := range a.Firing {
			spans[a.Name+a.Labels["pod"]+" firing"] = s
		}
	}
	for key, want := range map[string]reports.Span{
		// Closed: no later than the end, though the next evaluation
		// (615 s) comes after it.
		"PodCrashLoopinga firing": {From: at(330), To: at(605)},
		"PodCrashLoopingb firing": {From: at(330), To: at(605), Open: true},
		"ClusterDown firing":      {From: at(100), To: at(310)}, // last sample at 295
		"Flappy pending":          {From: at(500), To: at(605)},
		"Flappy firing":           {From: at(590), To: at(605), Open: true},
	} {
		if g := spans[key]; !g.From.Equal(want.From) || !g.To.Equal(want.To) || g.Open != want.Open {
			t.Errorf("%s: %+v, want %+v", key, g, want)
		}
	}
	if len(spans) != 5 {
		t.Errorf("%d spans, want 5: %+v", len(spans), spans)
	}
	// An empty vector (nothing active) closes every stretch.
	for _, a := range History(m, eval, at(605), model.Vector{}) {
		for _, s := range append(a.Pending, a.Firing...) {
			if s.Open {
				t.Errorf("%s %+v: open with nothing active", a.Name, s)
			}
		}
	}
}
