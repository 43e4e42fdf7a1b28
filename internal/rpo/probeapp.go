package rpo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/drill-sre/drill/internal/probeapp"
)

// ProbeAppStore writes each record to the probe app (POST /records), which
// appends it with its checksum to a file on the app's volume and syncs the
// file before it answers 201: acknowledged means on the volume.
type ProbeAppStore struct {
	// URL is the app's base URL ("http://172.18.0.3:31234").
	URL    string
	Client *http.Client
}

func (s ProbeAppStore) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return http.DefaultClient
}

// Write implements Store.
func (s ProbeAppStore) Write(ctx context.Context, seq int64, at time.Time) error {
	body, err := json.Marshal(probeapp.Record{Seq: seq, TS: at.UTC().Format(time.RFC3339Nano), Payload: "drill rpo record " + strconv.FormatInt(seq, 10)})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.URL, "/")+probeapp.PathRecords, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client().Do(req)
	if err != nil {
		return fmt.Errorf("write record %d: %w", seq, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("write record %d: %s: %s", seq, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Integrity is what a read-back of the probe app's records found.
type Integrity struct {
	// Valid counts the records whose checksum matched.
	Valid int `json:"valid"`
	// Corrupted describes every line that is not a valid record (a torn
	// write, a checksum that does not match).
	Corrupted []string `json:"corrupted,omitempty"`
}

// ReadBack implements Store: the valid records' sequence numbers. Use
// ReadBackChecked for the corrupted ones too.
func (s ProbeAppStore) ReadBack(ctx context.Context) ([]int64, error) {
	seqs, _, err := s.ReadBackChecked(ctx)
	return seqs, err
}

// ReadBackChecked reads every record back (GET /records) and checks each
// one's checksum again here, not trusting the app's verdict.
func (s ProbeAppStore) ReadBackChecked(ctx context.Context) ([]int64, Integrity, error) {
	var in Integrity
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.URL, "/")+probeapp.PathRecords, nil)
	if err != nil {
		return nil, in, err
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return nil, in, fmt.Errorf("read back the records from %s: %w", s.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, in, fmt.Errorf("read back the records from %s: %s: %s", s.URL, resp.Status, strings.TrimSpace(string(msg)))
	}
	var seqs []int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var r probeapp.StoredRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, in, fmt.Errorf("read back the records from %s: %w", s.URL, err)
		}
		if !r.Valid || probeapp.Checksum(r.Seq, r.TS, r.Payload) != r.Checksum {
			in.Corrupted = append(in.Corrupted, fmt.Sprintf("line %d (seq %d): %s", r.Line, r.Seq, orDefault(r.Error, "checksum does not match")))
			continue
		}
		in.Valid++
		seqs = append(seqs, r.Seq)
	}
	if err := sc.Err(); err != nil {
		return nil, in, fmt.Errorf("read back the records from %s: %w", s.URL, err)
	}
	return seqs, in, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
