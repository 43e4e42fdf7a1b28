package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/monitor"
)

// run executes `probe <args>` and returns its output and error.
func run(t *testing.T, logger log.Logger, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	c := NewCommand(logger, cmd.IOStreams{Out: &out, ErrOut: &out})
	c.SetArgs(args)
	c.SilenceErrors, c.SilenceUsage = true, true
	err := c.ExecuteContext(context.Background())
	return out.String(), err
}

func TestFlagValidation(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "requires at least 1 arg"},
		{[]string{"http://x/", "--interval", "0s"}, "--interval must be positive"},
		{[]string{"http://x/", "--timeout", "-1s"}, "--timeout must be positive"},
		{[]string{"http://x/", "--for", "-1s"}, "--for must not be negative"},
		{[]string{"http://x/", "--mode", "pooled"}, `--mode "pooled": want "new", "reused" or "both"`},
		{[]string{"http://x/", "--output", "yaml"}, `--output "yaml": want "table" or "json"`},
		{[]string{"localhost:8080"}, "scheme must be http or https"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := run(t, log.NoopLogger{}, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// jsonOutput is the part of the JSON output the tests read.
type jsonOutput struct {
	Interval float64 `json:"intervalSeconds"`
	Probes   []struct {
		URL         string  `json:"url"`
		Mode        string  `json:"mode"`
		Samples     int     `json:"samples"`
		Failures    int     `json:"failures"`
		Unavailable float64 `json:"unavailableSeconds"`
		Longest     float64 `json:"longestOutageSeconds"`
		Available   float64 `json:"availability"`
		Intervals   []struct {
			From time.Time `json:"from"`
			To   time.Time `json:"to"`
			Open bool      `json:"open"`
		} `json:"intervals"`
	} `json:"probes"`
}

// TestProbeJSON probes a server that is down for its first 200 ms, over both
// connection modes, and reads the JSON report.
func TestProbeJSON(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	time.AfterFunc(200*time.Millisecond, func() { up.Store(true) })

	var logs bytes.Buffer
	out, err := run(t, cluster.NewWriterLogger(&logs, 0), srv.URL, "--for", "600ms", "--interval", "20ms", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got jsonOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Interval != 0.02 || len(got.Probes) != 2 {
		t.Fatalf("want 2 probes at 0.02s:\n%s", out)
	}
	for i, mode := range []string{"new", "reused"} {
		p := got.Probes[i]
		if p.URL != srv.URL || p.Mode != mode {
			t.Errorf("probe %d is %s %s, want %s %s", i, p.URL, p.Mode, srv.URL, mode)
		}
		if p.Samples < 10 || p.Failures < 3 || p.Failures >= p.Samples {
			t.Errorf("%s: %d samples, %d failures: want some of each", mode, p.Samples, p.Failures)
		}
		if len(p.Intervals) != 1 || p.Intervals[0].Open {
			t.Fatalf("%s: intervals %+v, want one closed", mode, p.Intervals)
		}
		d := p.Intervals[0].To.Sub(p.Intervals[0].From).Seconds()
		near := func(a, b float64) bool { return a-b < 1e-3 && b-a < 1e-3 }
		if d < 0.1 || d > 0.4 || !near(p.Unavailable, d) || !near(p.Longest, d) {
			t.Errorf("%s: outage %.3fs, unavailable %.3fs, longest %.3fs: want the same, about 0.2s", mode, d, p.Unavailable, p.Longest)
		}
		if p.Available <= 0.3 || p.Available >= 0.9 {
			t.Errorf("%s: availability %.3f, want about 2/3", mode, p.Available)
		}
	}
	for _, want := range []string{"Probing 1 URL(s) every 20ms", "unavailable since", "available again at"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestProbeTable probes a server that never answers 2xx: the outage is still
// open when --for runs out.
func TestProbeTable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()

	out, err := run(t, log.NoopLogger{}, srv.URL+"/readyz", "--for", "200ms", "--interval", "20ms", "--mode", "new")
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"URL MODE FROM TO DURATION MESSAGE", "(still down)", "status 500 Internal Server Error, want 2xx",
		"SAMPLES FAILURES UNAVAILABLE LONGEST AVAILABILITY", " 0.000% -/-",
	} {
		if !strings.Contains(words, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "reused") {
		t.Errorf("--mode new probed reused connections too:\n%s", out)
	}
}

// TestProbeStopsOnCancel checks that an interrupt (the context Main cancels
// on Ctrl-C) ends probing and prints the report, without an error.
func TestProbeStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()

	var out bytes.Buffer
	c := NewCommand(log.NoopLogger{}, cmd.IOStreams{Out: &out, ErrOut: &out})
	c.SetArgs([]string{srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("probe returned %s after it was started, want soon after the 150ms cancel", took)
	}
	if !strings.Contains(out.String(), "No outages.") || !strings.Contains(out.String(), "100.000%") {
		t.Errorf("unexpected report:\n%s", out.String())
	}
}

// A probed URL's user and password are printed redacted, in the table and
// in JSON.
func TestPrintRedactsURLCredentials(t *testing.T) {
	results := []result{{URL: "https://user:pass@example.invalid/ready", Mode: "new",
		Intervals: []monitor.Interval{{Locator: "url/https://user:pass@example.invalid/ready", Message: "Get \"https://user:pass@example.invalid/ready\": EOF"}}}}
	var table, js bytes.Buffer
	if err := printTable(&table, results); err != nil {
		t.Fatal(err)
	}
	if err := printJSON(&js, &flags{}, results); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"table": table.String(), "json": js.String()} {
		if strings.Contains(out, "user:pass") || !strings.Contains(out, "https://REDACTED@example.invalid/ready") {
			t.Errorf("%s:\n%s", name, out)
		}
	}
	if results[0].URL != "https://user:pass@example.invalid/ready" {
		t.Error("the results were changed")
	}
}
