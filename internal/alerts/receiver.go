package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// WebhookPath is where the Receiver takes Alertmanager's notifications.
const WebhookPath = "/alerts"

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
// fired it. It is safe for concurrent use.
type Receiver struct {
	srv *http.Server
	ln  net.Listener

	mu     sync.Mutex
	got    []Notification
	errors int
}

// Listen starts a Receiver on addr ("172.18.0.1:19093"; port 0 picks one).
func Listen(addr string) (*Receiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("alert receiver: listen on %s: %w", addr, err)
	}
	r := &Receiver{ln: ln}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+WebhookPath, r.handle)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
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

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	var n Notification
	body, err := io.ReadAll(io.LimitReader(req.Body, 4<<20))
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
