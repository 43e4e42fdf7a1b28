package monitor

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Connection says how an HTTPCheck connects to its endpoint. The two see
// different outages: a new connection per request sees every refused dial and
// TLS handshake (what a fresh client sees), a reused connection sees what a
// long-lived client such as a controller sees, which may ride out a listener
// going away or suffer from a connection pinned to a dead backend.
type Connection string

// Connections an HTTPCheck can use.
const (
	// NewConnections dials a new connection (and TLS handshake) for every
	// request: keep-alives are disabled.
	NewConnections Connection = "new"
	// ReusedConnections keeps connections alive across requests and dials
	// again only when the one it has breaks.
	ReusedConnections Connection = "reused"
)

// maxBody is how much of a response body an HTTPCheck reads to quote it in
// an error; the rest, up to maxDrain, is drained so the connection can be
// reused.
const (
	maxBody  = 512
	maxDrain = 1 << 20
)

// HTTPCheck checks that a GET of a URL answers with an expected status. Its
// Check method is a Check. It holds one client, so the connections it keeps
// alive (ReusedConnections) are its own. Redirects are not followed: a 3xx
// is judged like any other status.
type HTTPCheck struct {
	url         string
	conn        Connection
	tlsConfig   *tls.Config
	bearerToken string
	expect      []int // empty: any 2xx

	transport *http.Transport
	client    *http.Client
}

// HTTPOption configures an HTTPCheck.
type HTTPOption interface {
	apply(*HTTPCheck)
}

type httpOptionFunc func(*HTTPCheck)

func (f httpOptionFunc) apply(h *HTTPCheck) { f(h) }

// HTTPWithTLSConfig sets the TLS configuration for https URLs: the CA to
// trust, client certificates, InsecureSkipVerify, ServerName (default: the
// system's roots, no client certificate). The config is cloned.
func HTTPWithTLSConfig(c *tls.Config) HTTPOption {
	return httpOptionFunc(func(h *HTTPCheck) { h.tlsConfig = c.Clone() })
}

// HTTPWithBearerToken sends token in an Authorization: Bearer header.
func HTTPWithBearerToken(token string) HTTPOption {
	return httpOptionFunc(func(h *HTTPCheck) { h.bearerToken = token })
}

// HTTPWithExpectedStatus sets the status codes that mean available (default:
// any 2xx).
func HTTPWithExpectedStatus(codes ...int) HTTPOption {
	return httpOptionFunc(func(h *HTTPCheck) { h.expect = slices.Clone(codes) })
}

// NewHTTPCheck returns a check of rawURL (http or https) over conn.
func NewHTTPCheck(rawURL string, conn Connection, opts ...HTTPOption) (*HTTPCheck, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("http check: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("http check %s: scheme must be http or https", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("http check %s: no host", rawURL)
	}
	if conn != NewConnections && conn != ReusedConnections {
		return nil, fmt.Errorf("http check %s: connection %q: want %q or %q", rawURL, conn, NewConnections, ReusedConnections)
	}
	h := &HTTPCheck{url: rawURL, conn: conn}
	for _, o := range opts {
		o.apply(h)
	}
	for _, code := range h.expect {
		if code < 100 || code > 599 {
			return nil, fmt.Errorf("http check %s: expected status %d is not an HTTP status", rawURL, code)
		}
	}
	// No timeouts here: each check's context carries the sampler's timeout,
	// which covers dial, TLS handshake, headers and body.
	h.transport = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     h.tlsConfig,
		ForceAttemptHTTP2:   true,
		DisableKeepAlives:   conn == NewConnections,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
	}
	h.client = &http.Client{
		Transport: h.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return h, nil
}

// Locator names the check in intervals: "url/<url> connection/<new|reused>".
func (h *HTTPCheck) Locator() string {
	return fmt.Sprintf("url/%s connection/%s", h.url, h.conn)
}

// URL is the URL checked.
func (h *HTTPCheck) URL() string { return h.url }

// Connection is how the check connects.
func (h *HTTPCheck) Connection() Connection { return h.conn }

// Check GETs the URL once. It fails on any transport error, on a body that
// cannot be read, and on an unexpected status, quoting the body's start.
func (h *HTTPCheck) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return err
	}
	if h.bearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+h.bearerToken)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	}
	if err != nil {
		return fmt.Errorf("read response body (status %s): %w", resp.Status, err)
	}
	if !h.expected(resp.StatusCode) {
		return fmt.Errorf("status %s, want %s%s", resp.Status, h.want(), quote(body))
	}
	return nil
}

// Close closes the connections the check keeps alive.
func (h *HTTPCheck) Close() { h.transport.CloseIdleConnections() }

func (h *HTTPCheck) expected(code int) bool {
	if len(h.expect) == 0 {
		return code >= 200 && code <= 299
	}
	return slices.Contains(h.expect, code)
}

func (h *HTTPCheck) want() string {
	if len(h.expect) == 0 {
		return "2xx"
	}
	s := make([]string, len(h.expect))
	for i, c := range h.expect {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, " or ")
}

// quote renders the start of a body on one line for an error message.
func quote(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if s == "" {
		return ""
	}
	if len(body) == maxBody {
		s += " ..."
	}
	return ": " + s
}
