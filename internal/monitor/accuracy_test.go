package monitor

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// The issue asks for outages measured within ±100 ms at the default 100 ms
// interval. By construction each edge is late by 0 to one interval (plus the
// scheduling latency of the sample that sees it), so the measured duration is
// off by less than an interval either way. The test asserts a looser bound,
// so that a loaded CI machine does not make it flake, and logs the error it
// measured: run it with -v -count=N to collect figures.
//
// The edges fall at a random phase of the sampling grid: an outage that lasts
// a whole number of intervals from a whole number of intervals after the
// sampler starts would land both edges on sample starts and make the error
// look better (or worse) than it is.
const (
	accuracyOutage = 1500 * time.Millisecond
	accuracyBound  = 250 * time.Millisecond
)

// phase is a random offset within one default interval.
func phase() time.Duration { return rand.N(DefaultInterval) }

// accuracyBackend is an HTTP endpoint the test takes down and brings back,
// recording when it did: the truth the sampler is compared with.
type accuracyBackend interface {
	url() string
	down(t *testing.T) time.Time
	up(t *testing.T) time.Time
	close()
}

// unavailable503 answers 503 while down.
type unavailable503 struct {
	srv     *http.Server
	ln      net.Listener
	failing atomic.Bool
}

func newUnavailable503(t *testing.T) *unavailable503 {
	b := &unavailable503{}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if b.failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	b.ln = listen(t, "127.0.0.1:0")
	go b.srv.Serve(b.ln)
	return b
}

func (b *unavailable503) url() string { return "http://" + b.ln.Addr().String() + "/" }

func (b *unavailable503) down(*testing.T) time.Time {
	now := time.Now()
	b.failing.Store(true)
	return now
}

func (b *unavailable503) up(*testing.T) time.Time {
	now := time.Now()
	b.failing.Store(false)
	return now
}

func (b *unavailable503) close() { b.srv.Close() }

// refusing closes its listener and every connection while down, so that
// dials are refused, and listens again on the same address to come back.
type refusing struct {
	addr string
	srv  *http.Server
}

func newRefusing(t *testing.T) *refusing {
	b := &refusing{}
	ln := listen(t, "127.0.0.1:0")
	b.addr = ln.Addr().String()
	b.serve(ln)
	return b
}

func (b *refusing) serve(ln net.Listener) {
	b.srv = &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	go b.srv.Serve(ln)
}

func (b *refusing) url() string { return "http://" + b.addr + "/" }

func (b *refusing) down(t *testing.T) time.Time {
	now := time.Now()
	if err := b.srv.Close(); err != nil {
		t.Errorf("close server: %v", err)
	}
	return now
}

func (b *refusing) up(t *testing.T) time.Time {
	ln := listen(t, b.addr)
	now := time.Now() // the kernel accepts from here on
	b.serve(ln)
	return now
}

func (b *refusing) close() { b.srv.Close() }

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	return ln
}

// TestSamplerAccuracy takes a local endpoint down for 1.5 to 1.6 s, answering 503 or
// refusing connections, and compares the outage a default sampler records
// with the server's own record of when it went down and came back.
func TestSamplerAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 2.5 s")
	}
	backends := []struct {
		name string
		new  func(*testing.T) accuracyBackend
	}{
		{"503", func(t *testing.T) accuracyBackend { return newUnavailable503(t) }},
		{"refused", func(t *testing.T) accuracyBackend { return newRefusing(t) }},
	}
	for _, be := range backends {
		for _, conn := range []Connection{NewConnections, ReusedConnections} {
			t.Run(be.name+"/"+string(conn), func(t *testing.T) {
				t.Parallel()
				b := be.new(t)
				defer b.close()
				h, err := NewHTTPCheck(b.url(), conn)
				if err != nil {
					t.Fatal(err)
				}
				defer h.Close()
				rec := NewRecorder()
				s, err := NewSampler(h.Locator(), h.Check, rec) // the defaults: 100 ms, 1 s
				if err != nil {
					t.Fatal(err)
				}

				stop := s.Start(context.Background())
				// The outage is made by the test, on a timer: what is
				// measured is the sampler, against the server's record.
				time.Sleep(500*time.Millisecond + phase())
				wentDown := b.down(t)
				time.Sleep(accuracyOutage + phase())
				cameUp := b.up(t)
				time.Sleep(500 * time.Millisecond)
				st := stop()

				got := rec.Intervals()
				if len(got) != 1 {
					t.Fatalf("recorded %d intervals, want 1: %+v", len(got), got)
				}
				iv := got[0]
				truth := cameUp.Sub(wentDown)
				downErr, upErr := iv.From.Sub(wentDown), iv.To.Sub(cameUp)
				durErr := iv.Duration() - truth
				t.Logf("truth %s, measured %s: error %+.1fms (down edge %+.1fms, up edge %+.1fms); %d samples, %d failed, max gap %s, p50 latency %s; %s",
					ms(truth), ms(iv.Duration()), msf(durErr), msf(downErr), msf(upErr),
					st.Samples, st.Failures, ms(st.MaxGap), st.Latency.P50.Round(time.Microsecond), iv.Message)
				if iv.Open {
					t.Errorf("interval still open: %+v", iv)
				}
				for _, e := range []struct {
					what string
					d    time.Duration
				}{{"duration", durErr}, {"down edge", downErr}, {"up edge", upErr}} {
					if e.d < -accuracyBound || e.d > accuracyBound {
						t.Errorf("%s off by %s, want within ±%s", e.what, e.d, accuracyBound)
					}
				}
			})
		}
	}
}

func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
