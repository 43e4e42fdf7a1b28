package probeapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The paths the app serves.
const (
	// PathInfo (GET) returns the Identity of the pod that answered.
	PathInfo = "/"
	// PathHealth (GET) is the liveness probe: 200 while the process serves.
	PathHealth = "/health"
	// PathReady (GET) is the readiness probe: 200 once the app has started
	// and its data directory is writable, unless it was told otherwise.
	PathReady = "/ready"
	// PathRecords takes a Record (POST, 201 with an Ack once it is on disk)
	// and returns every stored line as StoredRecord JSON lines (GET).
	PathRecords = "/records"
	// PathRecordsSummary (GET) returns a Summary.
	PathRecordsSummary = "/records/summary"
	// PathAdminReady (POST, ?value=true|false) forces readiness off, or
	// lets it follow the app's state again.
	PathAdminReady = "/admin/ready"
	// PathAdminCrash (POST) makes the process exit 1 at once.
	PathAdminCrash = "/admin/crash"
)

// HeaderPod names, in every response, the pod that answered.
const HeaderPod = "X-Probe-App-Pod"

// MaxRecordBody bounds the body of POST /records, in bytes.
const MaxRecordBody = 1 << 20

// Ack is the answer to a stored record.
type Ack struct {
	Seq int64  `json:"seq"`
	Pod string `json:"pod"`
}

// Server is the app's HTTP side and its record store.
type Server struct {
	cfg Config
	log *slog.Logger
	// exit ends the process; tests replace it.
	exit func(code int)
	// connState, when set, sees the HTTP server's connection states; tests
	// use it to know a request is in flight.
	connState func(net.Conn, http.ConnState)

	started  atomic.Bool // Serve is accepting connections
	stopping atomic.Bool // shutting down
	forced   atomic.Bool // told not ready by POST /admin/ready

	mu       sync.Mutex
	store    *Store
	storeErr string // the last open failure, to log each new one once
}

// NewServer returns a server for cfg that logs to log. The store is opened
// when Serve starts or, if that fails, again whenever it is needed.
func NewServer(cfg Config, log *slog.Logger) *Server {
	return &Server{cfg: cfg, log: log, exit: os.Exit}
}

// openStore returns the store, opening it if it is not open yet.
func (s *Server) openStore() (*Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		return s.store, nil
	}
	st, rep, err := OpenStore(s.cfg.DataDir)
	if err != nil {
		err = fmt.Errorf("data dir %s: %w", s.cfg.DataDir, err)
		if msg := err.Error(); msg != s.storeErr {
			s.storeErr = msg
			s.log.Error("record store unavailable; not ready until it opens", "err", err)
		}
		return nil, err
	}
	s.store, s.storeErr = st, ""
	if rep.TornTail {
		s.log.Warn("the store's last line was torn by a crash during a write: kept as a corrupted line", "file", st.Path())
	}
	sum, err := st.Summary()
	if err != nil {
		s.log.Warn("record store opened, but reading it back failed", "file", st.Path(), "err", err)
	} else {
		s.log.Info("record store opened", "file", st.Path(), "records", sum.Count,
			"maxSeq", maxSeqText(sum.MaxSeq), "corrupted", sum.Corrupted)
	}
	return st, nil
}

func maxSeqText(p *int64) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatInt(*p, 10)
}

// closeStore syncs and closes the store, if it is open.
func (s *Server) closeStore() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return nil
	}
	return s.store.Close()
}

// notReady returns why the app is not ready, or "" when it is.
func (s *Server) notReady() string {
	switch {
	case !s.started.Load():
		return "starting"
	case s.stopping.Load():
		return "shutting down"
	case s.forced.Load():
		return "told not ready by POST " + PathAdminReady + "?value=false"
	}
	st, err := s.openStore()
	if err != nil {
		return err.Error()
	}
	if err := st.Writable(); err != nil {
		return err.Error()
	}
	return ""
}

// Handler routes the app's paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.info)
	mux.HandleFunc("GET "+PathHealth, s.health)
	mux.HandleFunc("GET "+PathReady, s.ready)
	mux.HandleFunc("POST "+PathRecords, s.postRecord)
	mux.HandleFunc("GET "+PathRecords, s.getRecords)
	mux.HandleFunc("GET "+PathRecordsSummary, s.summary)
	mux.HandleFunc("POST "+PathAdminReady, s.adminReady)
	mux.HandleFunc("POST "+PathAdminCrash, s.adminCrash)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(HeaderPod, s.cfg.Identity.Pod)
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Identity)
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if why := s.notReady(); why != "" {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+why)
		return
	}
	writeText(w, http.StatusOK, "ready")
}

// recordRequest is a POST /records body; every field is required.
type recordRequest struct {
	Seq     *int64  `json:"seq"`
	TS      *string `json:"ts"`
	Payload *string `json:"payload"`
}

func (s *Server) postRecord(w http.ResponseWriter, r *http.Request) {
	rec, status, err := decodeRecord(w, r)
	if err != nil {
		writeError(w, status, err)
		return
	}
	st, err := s.openStore()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	if err := st.Append(rec); err != nil {
		s.log.Error("record not stored", "seq", rec.Seq, "err", err)
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	writeJSON(w, http.StatusCreated, Ack{Seq: rec.Seq, Pod: s.cfg.Identity.Pod})
}

// decodeRecord reads a POST /records body strictly: one JSON object, with
// seq, ts and payload and nothing else.
func decodeRecord(w http.ResponseWriter, r *http.Request) (Record, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRecordBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Record{}, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", MaxRecordBody)
		}
		return Record{}, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	var req recordRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Record{}, http.StatusBadRequest, fmt.Errorf("decode record: %w", err)
	}
	if dec.More() {
		return Record{}, http.StatusBadRequest, errors.New("decode record: data after the JSON object")
	}
	switch {
	case req.Seq == nil:
		return Record{}, http.StatusBadRequest, errors.New("record: seq is required")
	case *req.Seq < 0:
		return Record{}, http.StatusBadRequest, fmt.Errorf("record: seq %d is negative", *req.Seq)
	case req.TS == nil:
		return Record{}, http.StatusBadRequest, errors.New("record: ts is required")
	case req.Payload == nil:
		return Record{}, http.StatusBadRequest, errors.New("record: payload is required")
	}
	if _, err := time.Parse(time.RFC3339Nano, *req.TS); err != nil {
		return Record{}, http.StatusBadRequest, fmt.Errorf("record: ts %q is not RFC 3339", *req.TS)
	}
	return Record{Seq: *req.Seq, TS: *req.TS, Payload: *req.Payload}, 0, nil
}

func (s *Server) getRecords(w http.ResponseWriter, _ *http.Request) {
	st, err := s.openStore()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	recs, err := st.Records()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, rec := range recs {
		if err := enc.Encode(rec); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

func (s *Server) summary(w http.ResponseWriter, _ *http.Request) {
	st, err := s.openStore()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	sum, err := st.Summary()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	sum.Pod = s.cfg.Identity.Pod
	writeJSON(w, http.StatusOK, sum)
}

func (s *Server) adminReady(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("value")
	ready, err := strconv.ParseBool(v)
	if err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("value=%q: want true or false", v))
		return
	}
	s.forced.Store(!ready)
	s.log.Info("readiness set by POST "+PathAdminReady, "value", ready)
	if ready {
		writeText(w, http.StatusOK, "readiness follows the app's state again")
		return
	}
	writeText(w, http.StatusOK, "not ready until POST "+PathAdminReady+"?value=true")
}

func (s *Server) adminCrash(w http.ResponseWriter, _ *http.Request) {
	s.log.Error("crashing, as told by POST " + PathAdminCrash + ": exit status 1")
	// A complete answer (a length, not chunks) before the process is gone.
	const msg = "crashing\n"
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	w.Header().Set("Connection", "close")
	writeText(w, http.StatusAccepted, "crashing")
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	s.exit(1)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "encode answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}
