package alerts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// WebhookPath is where the Receiver takes Alertmanager's notifications.
const WebhookPath = "/alerts"

// What the Receiver accepts and keeps.
const (
	// MaxBody is the largest notification body read; a larger one is
	// refused (413). Alertmanager's payload for one group of alerts is a
	// few KiB.
	MaxBody = 1 << 20
	// MaxNotifications is how many notifications are kept: past it, the
	// oldest is dropped for each new one (Dropped counts them).
	MaxNotifications = 10000
)

// The Receiver's server timeouts: a client that sends its request slowly,
// or never reads the answer, holds a connection no longer than these.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
)

// Notification is one webhook call from Alertmanager, as the Receiver got
// it. Its fields are those of Alertmanager's webhook payload (version 4)
// that drill reads.
type Notification struct {
	// Received is when the Receiver read the call: notification delivery
	// is measured to this instant.
	Received time.Time `json:"received"`
	// Status is "firing" while any alert of the group fires, else "resolved".
	Status string          `json:"status"`
	Alerts []NotifiedAlert `json:"alerts"`
}

// NotifiedAlert is one alert of a Notification.
type NotifiedAlert struct {
	// Status is "firing" or "resolved".
	Status   string            `json:"status"`
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	EndsAt   time.Time         `json:"endsAt"`
}

// Receiver is an Alertmanager webhook receiver: it records every
// notification it gets, stamped with the time it got it, so that a drill
// measures when an alert reached its receiver, not only when Prometheus
// fired it. It takes only requests that carry its token
// ("Authorization: Bearer TOKEN", which Alertmanager sends with
// http_config.authorization.credentials): anything on the network could
// otherwise forge a notification and pass an alert objective. It is safe
// for concurrent use.
type Receiver struct {
	srv   *http.Server
	ln    net.Listener
	token string

	mu      sync.Mutex
	got     []Notification
	errors  int
	refused int
	dropped int
}

// Listen starts a Receiver on addr ("172.18.0.1:19093"; port 0 picks one)
// that accepts requests carrying token; an empty token is a random one
// (NewToken), which Token returns for Alertmanager's configuration.
func Listen(addr, token string) (*Receiver, error) {
	if token == "" {
		t, err := NewToken()
		if err != nil {
			return nil, fmt.Errorf("alert receiver: %w", err)
		}
		token = t
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("alert receiver: listen on %s: %w", addr, err)
	}
	r := &Receiver{ln: ln, token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+WebhookPath, r.handle)
	r.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// NewToken returns a random token for a Receiver: 32 bytes from
// crypto/rand, hex-encoded.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return fmt.Sprintf("%x", b), nil
}

// Token is the bearer token the Receiver wants. It is a secret: it goes
// into Alertmanager's configuration, never into a log or a report.
func (r *Receiver) Token() string { return r.token }

// Refused is how many requests the Receiver refused for a missing or
// wrong token; Dropped how many notifications it let go past
// MaxNotifications.
func (r *Receiver) Refused() (refused, dropped int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused, r.dropped
}

// Addr is the address the Receiver listens on.
func (r *Receiver) Addr() string { return r.ln.Addr().String() }

// URL is the webhook URL for Alertmanager, on the Receiver's address.
func (r *Receiver) URL() string { return "http://" + r.Addr() + WebhookPath }

// Close stops the Receiver.
func (r *Receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.srv.Shutdown(ctx)
}

// authorized says whether req carries the Receiver's token, compared in
// constant time.
func (r *Receiver) authorized(req *http.Request) (given, ok bool) {
	h := req.Header.Get("Authorization")
	scheme, cred, found := strings.Cut(h, " ")
	if h == "" || !found || !strings.EqualFold(scheme, "Bearer") {
		return h != "", false
	}
	return true, subtle.ConstantTimeCompare([]byte(strings.TrimSpace(cred)), []byte(r.token)) == 1
}

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	if given, ok := r.authorized(req); !ok {
		r.mu.Lock()
		r.refused++
		r.mu.Unlock()
		if !given {
			w.Header().Set("WWW-Authenticate", `Bearer realm="drill"`)
			http.Error(w, "no bearer token", http.StatusUnauthorized)
			return
		}
		http.Error(w, "wrong bearer token", http.StatusForbidden)
		return
	}
	var n Notification
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxBody))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		r.mu.Lock()
		r.errors++
		r.mu.Unlock()
		http.Error(w, fmt.Sprintf("notification larger than %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
		return
	}
	if err == nil {
		err = json.Unmarshal(body, &n)
	}
	if err == nil && n.Status == "" {
		err = errors.New("no status")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors++
		http.Error(w, "not an Alertmanager webhook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	n.Received = now
	if len(r.got) >= MaxNotifications {
		r.got = slices.Delete(r.got, 0, 1)
		r.dropped++
	}
	r.got = append(r.got, n)
}

// Notifications returns the notifications received at or after since, in
// the order they came.
func (r *Receiver) Notifications(since time.Time) []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Notification
	for _, n := range r.got {
		if !n.Received.Before(since) {
			out = append(out, n)
		}
	}
	return out
}
