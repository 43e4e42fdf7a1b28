package probeapp

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// StoreFile is the name of the append-only record file in the data directory.
const StoreFile = "records.jsonl"

// Record is one write of the RPO writer: what POST /records takes.
type Record struct {
	Seq int64 `json:"seq"`
	// TS is when the writer made the record, in RFC 3339 with nanoseconds,
	// kept exactly as sent.
	TS      string `json:"ts"`
	Payload string `json:"payload"`
}

// Checksum is the hex SHA-256 of "seq|ts|payload", as stored beside a record
// and checked again when it is read back.
func Checksum(seq int64, ts, payload string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(seq, 10) + "|" + ts + "|" + payload))
	return hex.EncodeToString(sum[:])
}

// line is a record as stored: one JSON object a line.
type line struct {
	Seq      int64  `json:"seq"`
	TS       string `json:"ts"`
	Payload  string `json:"payload"`
	Checksum string `json:"checksum"`
}

// StoredRecord is one line of the store as GET /records returns it. A line
// that does not decode, or whose checksum does not match, is returned with
// Valid false and the reason in Error; its other fields are what could be
// read.
type StoredRecord struct {
	// Line is the 1-based line number in the store file.
	Line     int    `json:"line"`
	Seq      int64  `json:"seq"`
	TS       string `json:"ts"`
	Payload  string `json:"payload"`
	Checksum string `json:"checksum"`
	Valid    bool   `json:"valid"`
	Error    string `json:"error,omitempty"`
}

// Summary counts what the store holds, as GET /records/summary returns it.
type Summary struct {
	// Pod is the pod whose data directory was read.
	Pod string `json:"pod"`
	// Count is the number of valid records.
	Count int `json:"count"`
	// MaxSeq is the highest seq among valid records; null when there are
	// none.
	MaxSeq *int64 `json:"maxSeq"`
	// Corrupted is the number of lines that are not valid records: torn
	// writes (a crash in the middle of a write that was never acknowledged)
	// and lines whose checksum does not match.
	Corrupted int `json:"corrupted"`
}

// Store is an append-only file of records. Every append is synced to disk
// before it returns, so a record whose append succeeded survives a crash of
// the process. Store is safe for concurrent use: appends are serialized, and
// reads see only whole appends.
type Store struct {
	path string

	mu sync.RWMutex
	f  *os.File
	// broken is set by the first failed write or sync: a write may have
	// left part of a line behind, and after a failed fsync the page cache
	// cannot be trusted, so the store takes no more appends until it is
	// opened again (by a restarted process), which repairs the tail.
	broken error
}

// Repair says what OpenStore found at the end of an existing file.
type Repair struct {
	// TornTail is true if the file did not end with a newline: a write was
	// cut short. A newline was appended, so the torn line stays as one
	// corrupted line and later records start on a line of their own.
	TornTail bool
}

// OpenStore opens, or creates, the store file in dir, and repairs a torn last
// line.
func OpenStore(dir string) (*Store, Repair, error) {
	var rep Repair
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, rep, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, StoreFile)
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, rep, fmt.Errorf("open store: %w", err)
	}
	if created {
		// Make the new file's directory entry durable too.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, rep, err
		}
	}
	torn, err := endsTorn(f)
	if err != nil {
		f.Close()
		return nil, rep, fmt.Errorf("read store %s: %w", path, err)
	}
	if torn {
		rep.TornTail = true
		if _, err := f.Write([]byte{'\n'}); err != nil {
			f.Close()
			return nil, rep, fmt.Errorf("repair torn tail of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, rep, fmt.Errorf("repair torn tail of %s: sync: %w", path, err)
		}
	}
	return &Store{path: path, f: f}, rep, nil
}

// endsTorn reports whether a non-empty file does not end with a newline.
func endsTorn(f *os.File) (bool, error) {
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	if info.Size() == 0 {
		return false, nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, info.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync data dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync data dir: %w", err)
	}
	return nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Append writes a record as one line and syncs the file. When it returns nil,
// the record is on disk.
func (s *Store) Append(r Record) error {
	b, err := json.Marshal(line{Seq: r.Seq, TS: r.TS, Payload: r.Payload, Checksum: Checksum(r.Seq, r.TS, r.Payload)})
	if err != nil {
		return fmt.Errorf("encode record %d: %w", r.Seq, err)
	}
	b = append(b, '\n')

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return s.broken
	}
	// One write: with O_APPEND the line lands whole at the end, unless the
	// write fails part way.
	if _, err := s.f.Write(b); err != nil {
		s.broken = fmt.Errorf("store %s is broken: write: %w", s.path, err)
		return s.broken
	}
	if err := s.f.Sync(); err != nil {
		s.broken = fmt.Errorf("store %s is broken: sync: %w", s.path, err)
		return s.broken
	}
	return nil
}

// Records reads every line back, checking each record's checksum.
func (s *Store) Records() ([]StoredRecord, error) {
	var out []StoredRecord
	err := s.scan(func(r StoredRecord) { out = append(out, r) })
	return out, err
}

// Summary counts the valid and corrupted lines. Pod is left empty.
func (s *Store) Summary() (Summary, error) {
	var sum Summary
	err := s.scan(func(r StoredRecord) {
		if !r.Valid {
			sum.Corrupted++
			return
		}
		sum.Count++
		if sum.MaxSeq == nil || r.Seq > *sum.MaxSeq {
			seq := r.Seq
			sum.MaxSeq = &seq
		}
	})
	return sum, err
}

// scan reads the file from disk (through the page cache) and calls fn for
// each line. It holds the read lock, so it never sees half an append.
func (s *Store) scan(fn func(StoredRecord)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("read store: %w", err)
	}
	defer f.Close()
	rd := bufio.NewReader(f)
	for n := 1; ; n++ {
		b, err := rd.ReadBytes('\n')
		if len(b) > 0 {
			fn(parseLine(n, b))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read store %s line %d: %w", s.path, n, err)
		}
	}
}

// parseLine decodes and checks one stored line (with or without its newline).
func parseLine(n int, b []byte) StoredRecord {
	r := StoredRecord{Line: n}
	complete := bytes.HasSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\n'})
	var l line
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		r.Error = fmt.Sprintf("undecodable line (%d bytes): %v", len(b), err)
		return r
	}
	if dec.More() {
		r.Error = fmt.Sprintf("undecodable line (%d bytes): data after the record", len(b))
		return r
	}
	r.Seq, r.TS, r.Payload, r.Checksum = l.Seq, l.TS, l.Payload, l.Checksum
	switch {
	case !complete:
		// Cannot happen once OpenStore repaired the tail; kept for a file
		// changed behind the store's back.
		r.Error = "line has no newline: torn write"
	case l.Checksum != Checksum(l.Seq, l.TS, l.Payload):
		r.Error = "checksum mismatch"
	default:
		r.Valid = true
	}
	return r
}

// Writable checks that the store takes appends: it is not broken and a file
// can be created in its directory.
func (s *Store) Writable() error {
	s.mu.RLock()
	broken := s.broken
	s.mu.RUnlock()
	if broken != nil {
		return broken
	}
	f, err := os.CreateTemp(filepath.Dir(s.path), ".writable-*")
	if err != nil {
		return fmt.Errorf("data dir not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("data dir not writable: %w", err)
	}
	return nil
}

// Close syncs and closes the file. Later appends fail.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	syncErr := s.f.Sync()
	closeErr := s.f.Close()
	s.f = nil
	if s.broken == nil {
		s.broken = fmt.Errorf("store %s is closed", s.path)
	}
	if syncErr != nil {
		return fmt.Errorf("close store %s: sync: %w", s.path, syncErr)
	}
	if closeErr != nil {
		return fmt.Errorf("close store %s: %w", s.path, closeErr)
	}
	return nil
}
