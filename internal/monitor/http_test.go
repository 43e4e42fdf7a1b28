package monitor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("ok"))
		case "/readyz":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n"))
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/token":
			if r.Header.Get("Authorization") != "Bearer s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
			}
		case "/big":
			w.Write([]byte(strings.Repeat("x", 3<<20))) // more than is drained
		}
	}))
	defer srv.Close()

	tests := []struct {
		name string
		path string
		opts []HTTPOption
		want string // "" for success, else a substring of the error
	}{
		{"2xx", "/ok", nil, ""},
		{"5xx quotes the body on one line", "/readyz", nil,
			"status 500 Internal Server Error, want 2xx: [+]ping ok [-]etcd failed: reason withheld readyz check failed"},
		{"unexpected status", "/teapot", nil, "status 418 I'm a teapot, want 2xx"},
		{"expected status", "/teapot", []HTTPOption{HTTPWithExpectedStatus(418)}, ""},
		{"expected status excludes 2xx", "/ok", []HTTPOption{HTTPWithExpectedStatus(418, 204)}, "want 418 or 204"},
		{"redirects are not followed", "/redirect", nil, "status 302 Found"},
		{"no token", "/token", nil, "status 401"},
		{"bearer token", "/token", []HTTPOption{HTTPWithBearerToken("s3cret")}, ""},
		{"big body", "/big", nil, ""},
	}
	for _, conn := range []Connection{NewConnections, ReusedConnections} {
		for _, tt := range tests {
			t.Run(string(conn)+"/"+tt.name, func(t *testing.T) {
				h, err := NewHTTPCheck(srv.URL+tt.path, conn, tt.opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer h.Close()
				err = h.Check(context.Background())
				switch {
				case tt.want == "" && err != nil:
					t.Errorf("got %v, want success", err)
				case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
					t.Errorf("got %v, want an error containing %q", err, tt.want)
				}
			})
		}
	}
}

func TestNewHTTPCheckValidates(t *testing.T) {
	tests := []struct {
		url  string
		conn Connection
		opts []HTTPOption
		want string
	}{
		{"ftp://x/", NewConnections, nil, "scheme must be http or https"},
		{"localhost:8080", NewConnections, nil, "scheme must be http or https"},
		{"http:///path", NewConnections, nil, "no host"},
		{"http://x/", "pooled", nil, `connection "pooled": want "new" or "reused"`},
		{"http://x/", NewConnections, []HTTPOption{HTTPWithExpectedStatus(2000)}, "not an HTTP status"},
		{"http://x/%zz", NewConnections, nil, "invalid URL escape"},
	}
	for _, tt := range tests {
		_, err := NewHTTPCheck(tt.url, tt.conn, tt.opts...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewHTTPCheck(%q, %q): got %v, want an error containing %q", tt.url, tt.conn, err, tt.want)
		}
	}
	h, err := NewHTTPCheck("https://127.0.0.1:6443/readyz", ReusedConnections)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Locator(), "url/https://127.0.0.1:6443/readyz connection/reused"; got != want {
		t.Errorf("locator %q, want %q", got, want)
	}
}

// TestHTTPCheckConnections counts the connections the server accepts: one
// per check with NewConnections, one in all with ReusedConnections, over
// HTTP/1.1 and over TLS with HTTP/2.
func TestHTTPCheckConnections(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		for _, conn := range []Connection{NewConnections, ReusedConnections} {
			name := string(conn) + "/http"
			if tlsOn {
				name = string(conn) + "/https"
			}
			t.Run(name, func(t *testing.T) {
				var accepted atomic.Int32
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
					if s == http.StateNew {
						accepted.Add(1)
					}
				}
				var opts []HTTPOption
				if tlsOn {
					srv.EnableHTTP2 = true
					srv.StartTLS()
					pool := x509.NewCertPool()
					pool.AddCert(srv.Certificate())
					opts = append(opts, HTTPWithTLSConfig(&tls.Config{RootCAs: pool}))
				} else {
					srv.Start()
				}
				defer srv.Close()

				h, err := NewHTTPCheck(srv.URL, conn, opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer h.Close()
				const checks = 5
				for range checks {
					if err := h.Check(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				want := int32(checks)
				if conn == ReusedConnections {
					want = 1
				}
				if got := accepted.Load(); got != want {
					t.Errorf("server accepted %d connections for %d checks, want %d", got, checks, want)
				}
			})
		}
	}
}

func TestHTTPCheckTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()

	h, err := NewHTTPCheck(srv.URL, NewConnections)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: got %v, want a certificate error", err)
	}
	h, err = NewHTTPCheck(srv.URL, NewConnections, HTTPWithTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Check(context.Background()); err != nil {
		t.Errorf("insecure: got %v, want success", err)
	}
}

func TestHTTPCheckHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)

	h, err := NewHTTPCheck(srv.URL, ReusedConnections)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = h.Check(ctx)
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("got %v after %s, want a deadline error after 50ms", err, time.Since(start))
	}
}
