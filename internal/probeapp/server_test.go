package probeapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		Addr:            "127.0.0.1:0",
		DataDir:         t.TempDir(),
		ShutdownTimeout: 5 * time.Second,
		Identity:        Identity{Pod: "probe-app-abc", Node: "drill-worker2", Zone: "zone-b"},
	}
}

// newTestServer returns a started server (as Serve would leave it) behind
// httptest, and the log it writes.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s := NewServer(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	s.exit = func(code int) { t.Errorf("exit(%d) called", code) }
	s.started.Store(true)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.closeStore()
	})
	return s, ts, &logs
}

func do(t *testing.T, method, url, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestInfo(t *testing.T) {
	_, ts, _ := newTestServer(t, testConfig(t))
	code, h, body := do(t, "GET", ts.URL+PathInfo, "")
	if code != 200 {
		t.Fatalf("GET / = %d %s", code, body)
	}
	var id Identity
	if err := json.Unmarshal([]byte(body), &id); err != nil {
		t.Fatal(err)
	}
	if id != (Identity{Pod: "probe-app-abc", Node: "drill-worker2", Zone: "zone-b"}) {
		t.Errorf("identity = %+v", id)
	}
	if got := h.Get(HeaderPod); got != "probe-app-abc" {
		t.Errorf("%s = %q", HeaderPod, got)
	}
	if code, _, _ := do(t, "GET", ts.URL+"/nowhere", ""); code != 404 {
		t.Errorf("GET /nowhere = %d, want 404", code)
	}
	if code, _, _ := do(t, "GET", ts.URL+PathAdminCrash, ""); code != 405 {
		t.Errorf("GET %s = %d, want 405", PathAdminCrash, code)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s, ts, _ := newTestServer(t, testConfig(t))
	if code, _, body := do(t, "GET", ts.URL+PathHealth, ""); code != 200 {
		t.Fatalf("GET /health = %d %s", code, body)
	}
	steps := []struct {
		name   string
		act    func()
		status int
		says   string
	}{
		{"started, data dir writable", func() {}, 200, "ready"},
		{"told not ready", func() { mustPost(t, ts.URL+PathAdminReady+"?value=false", 200) }, 503, "told not ready"},
		{"told ready again", func() { mustPost(t, ts.URL+PathAdminReady+"?value=true", 200) }, 200, "ready"},
		{"shutting down", func() { s.stopping.Store(true) }, 503, "shutting down"},
		{"not started", func() { s.stopping.Store(false); s.started.Store(false) }, 503, "starting"},
	}
	for _, step := range steps {
		step.act()
		code, _, body := do(t, "GET", ts.URL+PathReady, "")
		if code != step.status || !strings.Contains(body, step.says) {
			t.Errorf("%s: GET /ready = %d %q, want %d %q", step.name, code, body, step.status, step.says)
		}
		// Liveness does not follow readiness.
		if code, _, _ := do(t, "GET", ts.URL+PathHealth, ""); code != 200 {
			t.Errorf("%s: GET /health = %d, want 200", step.name, code)
		}
	}
	if code, _, _ := do(t, "POST", ts.URL+PathAdminReady+"?value=maybe", ""); code != 400 {
		t.Errorf("POST /admin/ready?value=maybe = %d, want 400", code)
	}
	if code, _, _ := do(t, "POST", ts.URL+PathAdminReady, ""); code != 400 {
		t.Errorf("POST /admin/ready without a value = %d, want 400", code)
	}
}

func mustPost(t *testing.T, url string, want int) {
	t.Helper()
	if code, _, body := do(t, "POST", url, ""); code != want {
		t.Fatalf("POST %s = %d %s, want %d", url, code, body, want)
	}
}

func TestNotReadyWhileDataDirUnusable(t *testing.T) {
	cfg := testConfig(t)
	// A regular file where the data dir should be.
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(cfg.DataDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, ts, logs := newTestServer(t, cfg)
	for range 3 {
		code, _, body := do(t, "GET", ts.URL+PathReady, "")
		if code != 503 || !strings.Contains(body, "data dir "+cfg.DataDir) {
			t.Fatalf("GET /ready = %d %q, want 503 naming the data dir", code, body)
		}
	}
	if n := strings.Count(logs.String(), "record store unavailable"); n != 1 {
		t.Errorf("the open failure was logged %d times, want once:\n%s", n, logs)
	}
	code, _, body := do(t, "POST", ts.URL+PathRecords, `{"seq":1,"ts":"2025-01-02T03:04:05Z","payload":"x"}`)
	if code != 503 {
		t.Errorf("POST /records = %d %s, want 503", code, body)
	}

	// Once the directory can be made, the app becomes ready.
	if err := os.Remove(cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	if code, _, body := do(t, "GET", ts.URL+PathReady, ""); code != 200 {
		t.Fatalf("GET /ready after the data dir was fixed = %d %q", code, body)
	}
}

func TestRecords(t *testing.T) {
	_, ts, _ := newTestServer(t, testConfig(t))
	for seq := 1; seq <= 3; seq++ {
		body := fmt.Sprintf(`{"seq":%d,"ts":"2025-01-02T03:04:05.%09dZ","payload":"p"}`, seq, seq)
		code, _, resp := do(t, "POST", ts.URL+PathRecords, body)
		if code != 201 {
			t.Fatalf("POST /records %s = %d %s", body, code, resp)
		}
		var ack Ack
		if err := json.Unmarshal([]byte(resp), &ack); err != nil {
			t.Fatal(err)
		}
		if ack != (Ack{Seq: int64(seq), Pod: "probe-app-abc"}) {
			t.Errorf("ack = %+v", ack)
		}
	}

	code, h, body := do(t, "GET", ts.URL+PathRecords, "")
	if code != 200 || h.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("GET /records = %d %s %q", code, h.Get("Content-Type"), body)
	}
	var recs []StoredRecord
	dec := json.NewDecoder(strings.NewReader(body))
	for dec.More() {
		var r StoredRecord
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3:\n%s", len(recs), body)
	}
	for i, r := range recs {
		if !r.Valid || r.Seq != int64(i+1) || r.Checksum != Checksum(r.Seq, r.TS, r.Payload) {
			t.Errorf("record %d = %+v", i, r)
		}
	}

	code, _, body = do(t, "GET", ts.URL+PathRecordsSummary, "")
	if code != 200 {
		t.Fatalf("GET /records/summary = %d %s", code, body)
	}
	var sum Summary
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Pod != "probe-app-abc" || sum.Count != 3 || sum.MaxSeq == nil || *sum.MaxSeq != 3 || sum.Corrupted != 0 {
		t.Errorf("summary = %s", body)
	}
}

func TestEmptySummary(t *testing.T) {
	_, ts, _ := newTestServer(t, testConfig(t))
	code, _, body := do(t, "GET", ts.URL+PathRecordsSummary, "")
	if code != 200 || !strings.Contains(body, `"maxSeq":null`) || !strings.Contains(body, `"count":0`) {
		t.Errorf("GET /records/summary of an empty store = %d %s", code, body)
	}
	code, _, body = do(t, "GET", ts.URL+PathRecords, "")
	if code != 200 || body != "" {
		t.Errorf("GET /records of an empty store = %d %q", code, body)
	}
}

func TestPostRecordRejects(t *testing.T) {
	_, ts, _ := newTestServer(t, testConfig(t))
	for _, tc := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"not JSON", `seq=1`, 400, "decode record"},
		{"unknown field", `{"seq":1,"ts":"2025-01-02T03:04:05Z","payload":"x","extra":1}`, 400, `unknown field \"extra\"`},
		{"seq missing", `{"ts":"2025-01-02T03:04:05Z","payload":"x"}`, 400, "seq is required"},
		{"seq negative", `{"seq":-1,"ts":"2025-01-02T03:04:05Z","payload":"x"}`, 400, "negative"},
		{"seq not an integer", `{"seq":1.5,"ts":"2025-01-02T03:04:05Z","payload":"x"}`, 400, "decode record"},
		{"ts missing", `{"seq":1,"payload":"x"}`, 400, "ts is required"},
		{"ts not RFC 3339", `{"seq":1,"ts":"yesterday","payload":"x"}`, 400, "not RFC 3339"},
		{"payload missing", `{"seq":1,"ts":"2025-01-02T03:04:05Z"}`, 400, "payload is required"},
		{"two objects", `{"seq":1,"ts":"2025-01-02T03:04:05Z","payload":"x"}{}`, 400, "data after"},
		{"too large", `{"seq":1,"ts":"2025-01-02T03:04:05Z","payload":"` + strings.Repeat("x", MaxRecordBody) + `"}`, 413, "body over"},
	} {
		code, _, body := do(t, "POST", ts.URL+PathRecords, tc.body)
		if code != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: POST /records = %d %s, want %d with %q", tc.name, code, body, tc.status, tc.says)
		}
	}
	if _, _, body := do(t, "GET", ts.URL+PathRecordsSummary, ""); !strings.Contains(body, `"count":0`) {
		t.Errorf("a rejected record was stored: %s", body)
	}
}

func TestAdminCrash(t *testing.T) {
	s, ts, logs := newTestServer(t, testConfig(t))
	exited := make(chan int, 1)
	s.exit = func(code int) { exited <- code }
	code, _, body := do(t, "POST", ts.URL+PathAdminCrash, "")
	if code != 202 {
		t.Fatalf("POST /admin/crash = %d %s", code, body)
	}
	select {
	case c := <-exited:
		if c != 1 {
			t.Errorf("exit(%d), want exit(1)", c)
		}
	case <-time.After(5 * time.Second):
		// The answer is flushed before exit is called: wait for it.
		t.Fatal("POST /admin/crash did not exit within 5s")
	}
	if !strings.Contains(logs.String(), "crashing, as told by POST /admin/crash") {
		t.Errorf("no crash line in the log:\n%s", logs)
	}
}

// SIGTERM (a cancelled context) lets a request in flight finish and be
// acknowledged, refuses new connections, and closes the store.
func TestServeDrainsOnShutdown(t *testing.T) {
	cfg := testConfig(t)
	var logs bytes.Buffer
	s := NewServer(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	active := make(chan struct{}, 1)
	s.connState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive {
			select {
			case active <- struct{}{}:
			default:
			}
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	// A request whose body is still coming when the shutdown starts.
	pr, pw := io.Pipe()
	type result struct {
		code int
		body string
		err  error
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := http.Post(url+PathRecords, "application/json", pr)
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- result{code: resp.StatusCode, body: string(b)}
	}()
	if _, err := io.WriteString(pw, `{"seq":42,"ts":"2025-01-02T03:04:05Z",`); err != nil {
		t.Fatal(err)
	}
	<-active
	cancel()
	// Shutdown closes the listener first: wait until new connections fail.
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		select {
		case err := <-served:
			t.Fatalf("Serve returned %v before the request in flight finished", err)
		default:
		}
	}
	if _, err := io.WriteString(pw, `"payload":"in flight"}`); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-answered
	if r.err != nil || r.code != 201 {
		t.Fatalf("request in flight during shutdown: %d %q %v, want 201", r.code, r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "shut down cleanly") {
		t.Errorf("no clean shutdown in the log:\n%s", logs.String())
	}

	// The acknowledged record is on disk, and the store is closed.
	st, _ := mustOpen(t, cfg.DataDir)
	sum, err := st.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count != 1 || *sum.MaxSeq != 42 {
		t.Errorf("summary after shutdown = %+v", sum)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.Append(Record{Seq: 43, TS: "2025-01-02T03:04:05Z", Payload: "late"}); err == nil {
		t.Error("the store still takes appends after shutdown")
	}
}

func TestMainExitStatus(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		says string
	}{
		{"told to crash", nil, map[string]string{EnvCrash: "exit", EnvPodName: "p"}, 1, "crashing at start, as told by PROBE_APP_CRASH=exit"},
		{"unknown crash mode", nil, map[string]string{EnvCrash: "segfault"}, 2, `PROBE_APP_CRASH="segfault"`},
		{"bad port env", nil, map[string]string{EnvPort: "http"}, 2, `PROBE_APP_LISTEN_PORT="http"`},
		{"bad flag", []string{"--port", "0"}, nil, 2, "port 0"},
		{"stray argument", []string{"serve"}, nil, 2, "unexpected arguments"},
		{"help", []string{"--help"}, nil, 0, "-data-dir"},
	} {
		var out bytes.Buffer
		code := Main(tc.args, env(tc.env), &out)
		if code != tc.code || !strings.Contains(out.String(), tc.says) {
			t.Errorf("%s: Main = %d, output:\n%s\nwant %d and %q", tc.name, code, out.String(), tc.code, tc.says)
		}
	}
}

// A Service named probe-app puts Docker-style links into its pods'
// environment (PROBE_APP_PORT=tcp://10.96.0.10:80, ...), when service links
// are on. They must not be read as the app's own settings.
func TestParseConfigIgnoresServiceLinks(t *testing.T) {
	links := map[string]string{
		"PROBE_APP_PORT":                  "tcp://10.96.114.212:80",
		"PROBE_APP_SERVICE_HOST":          "10.96.114.212",
		"PROBE_APP_SERVICE_PORT":          "80",
		"PROBE_APP_PORT_80_TCP_PORT":      "80",
		"PROBE_APP_NODEPORT_PORT":         "tcp://10.96.7.7:80",
		"PROBE_APP_NODEPORT_SERVICE_HOST": "10.96.7.7",
	}
	cfg, err := ParseConfig(nil, func(k string) string { return links[k] }, io.Discard)
	if err != nil {
		t.Fatalf("service links broke the config: %v", err)
	}
	if cfg.Addr != fmt.Sprintf(":%d", DefaultPort) {
		t.Errorf("Addr = %q, want the default port", cfg.Addr)
	}
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{
		EnvPort: "9090", EnvDataDir: "/env-data", EnvShutdownTimeout: "3s",
		EnvPodName: "probe-app-1", EnvNodeName: "drill-worker", EnvZone: "zone-a",
	}
	getenv := func(k string) string { return env[k] }

	cfg, err := ParseConfig(nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: ":9090", DataDir: "/env-data", ShutdownTimeout: 3 * time.Second,
		Identity: Identity{Pod: "probe-app-1", Node: "drill-worker", Zone: "zone-a"}}
	if cfg != want {
		t.Errorf("from the environment: %+v, want %+v", cfg, want)
	}

	cfg, err = ParseConfig([]string{"--port=8081", "--data-dir=/flag-data", "--shutdown-timeout=1s"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8081" || cfg.DataDir != "/flag-data" || cfg.ShutdownTimeout != time.Second {
		t.Errorf("flags do not win over the environment: %+v", cfg)
	}

	cfg, err = ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if cfg.Addr != ":8080" || cfg.DataDir != DefaultDataDir || cfg.ShutdownTimeout != DefaultShutdownTimeout || cfg.Identity.Pod != host {
		t.Errorf("defaults: %+v (hostname %q)", cfg, host)
	}
}
