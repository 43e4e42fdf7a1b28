package probeapp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func mustOpen(t *testing.T, dir string) (*Store, Repair) {
	t.Helper()
	st, rep, err := OpenStore(dir)
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, rep
}

func TestChecksum(t *testing.T) {
	// printf '%s' '7|2025-01-02T03:04:05.123456789Z|hello' | sha256sum
	const want = "f5b35432dee581f88f78595272b81ca91c30c4faf12408038a8028c48c552b9f"
	if got := Checksum(7, "2025-01-02T03:04:05.123456789Z", "hello"); got != want {
		t.Fatalf("Checksum = %s, want %s", got, want)
	}
	// The separator keeps fields from running into each other.
	if Checksum(1, "2", "3") == Checksum(12, "", "3") {
		t.Fatal("fields are not separated")
	}
}

func TestStoreAppendReadBack(t *testing.T) {
	dir := t.TempDir()
	st, rep := mustOpen(t, dir)
	if rep.TornTail {
		t.Fatal("a new store reported a torn tail")
	}
	sum, err := st.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count != 0 || sum.MaxSeq != nil || sum.Corrupted != 0 {
		t.Fatalf("empty store summary = %+v", sum)
	}
	for _, r := range []Record{
		{Seq: 1, TS: "2025-01-02T03:04:05.1Z", Payload: "a"},
		{Seq: 3, TS: "2025-01-02T03:04:05.3Z", Payload: "line\nbreak and \"quotes\""},
		{Seq: 2, TS: "2025-01-02T03:04:05.2Z", Payload: ""},
	} {
		if err := st.Append(r); err != nil {
			t.Fatalf("Append(%d): %v", r.Seq, err)
		}
	}
	recs, err := st.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3: %+v", len(recs), recs)
	}
	for i, r := range recs {
		if !r.Valid || r.Error != "" || r.Line != i+1 {
			t.Errorf("record %d = %+v, want valid on line %d", i, r, i+1)
		}
	}
	if recs[1].Payload != "line\nbreak and \"quotes\"" {
		t.Errorf("payload read back as %q", recs[1].Payload)
	}
	sum, err = st.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count != 3 || sum.MaxSeq == nil || *sum.MaxSeq != 3 || sum.Corrupted != 0 {
		t.Fatalf("summary = %+v (maxSeq %s), want 3 records, max seq 3", sum, maxSeqText(sum.MaxSeq))
	}
}

func TestStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	st, _, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Append(Record{Seq: 1, TS: "2025-01-02T03:04:05Z", Payload: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Append(Record{Seq: 2, TS: "2025-01-02T03:04:05Z", Payload: "x"}); err == nil {
		t.Fatal("Append after Close succeeded")
	}
	if err := st.Writable(); err == nil {
		t.Fatal("Writable after Close succeeded")
	}

	st2, rep := mustOpen(t, dir)
	if rep.TornTail {
		t.Fatal("a cleanly closed store reported a torn tail")
	}
	if err := st2.Append(Record{Seq: 2, TS: "2025-01-02T03:04:06Z", Payload: "y"}); err != nil {
		t.Fatal(err)
	}
	sum, err := st2.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count != 2 || *sum.MaxSeq != 2 || sum.Corrupted != 0 {
		t.Fatalf("summary after reopen = %+v", sum)
	}
}

// A crash during a write leaves part of a line: the next open keeps it as a
// corrupted line, and the records after it are whole.
func TestStoreTornTail(t *testing.T) {
	dir := t.TempDir()
	st, _, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Append(Record{Seq: 1, TS: "2025-01-02T03:04:05Z", Payload: "whole"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	f, err := os.OpenFile(filepath.Join(dir, StoreFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"seq":2,"ts":"2025-01-02T03:0`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	st2, rep := mustOpen(t, dir)
	if !rep.TornTail {
		t.Fatal("torn tail not reported")
	}
	if err := st2.Append(Record{Seq: 3, TS: "2025-01-02T03:04:07Z", Payload: "after"}); err != nil {
		t.Fatal(err)
	}
	recs, err := st2.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d lines, want 3: %+v", len(recs), recs)
	}
	if !recs[0].Valid || recs[1].Valid || !recs[2].Valid {
		t.Fatalf("validity = %v %v %v, want true false true", recs[0].Valid, recs[1].Valid, recs[2].Valid)
	}
	if !strings.Contains(recs[1].Error, "undecodable") {
		t.Errorf("torn line error = %q", recs[1].Error)
	}
	sum, err := st2.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count != 2 || *sum.MaxSeq != 3 || sum.Corrupted != 1 {
		t.Fatalf("summary = %+v, want 2 records, max seq 3, 1 corrupted", sum)
	}
}

func TestStoreDetectsAlteredRecord(t *testing.T) {
	dir := t.TempDir()
	st, _ := mustOpen(t, dir)
	for seq := int64(1); seq <= 2; seq++ {
		if err := st.Append(Record{Seq: seq, TS: "2025-01-02T03:04:05Z", Payload: "original"}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, StoreFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Same length, so the file's shape does not change.
	altered := strings.Replace(string(b), `"seq":2,"ts":"2025-01-02T03:04:05Z","payload":"original"`,
		`"seq":2,"ts":"2025-01-02T03:04:05Z","payload":"tampered"`, 1)
	if altered == string(b) {
		t.Fatalf("line to alter not found in %q", b)
	}
	if err := os.WriteFile(path, []byte(altered), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := st.Records()
	if err != nil {
		t.Fatal(err)
	}
	if !recs[0].Valid || recs[1].Valid || recs[1].Error != "checksum mismatch" {
		t.Fatalf("records = %+v, want the second one invalid with a checksum mismatch", recs)
	}
	if recs[1].Seq != 2 || recs[1].Payload != "tampered" {
		t.Errorf("the altered record's fields are not reported: %+v", recs[1])
	}
}

func TestStoreConcurrentAppends(t *testing.T) {
	st, _ := mustOpen(t, t.TempDir())
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				seq := int64(w*each + i)
				if err := st.Append(Record{Seq: seq, TS: "2025-01-02T03:04:05Z", Payload: fmt.Sprint(strings.Repeat("p", 100*w), i)}); err != nil {
					t.Errorf("Append(%d): %v", seq, err)
				}
			}
		})
	}
	// Reads during the appends see only whole lines.
	wg.Go(func() {
		for range 20 {
			sum, err := st.Summary()
			if err != nil {
				t.Errorf("Summary: %v", err)
				return
			}
			if sum.Corrupted != 0 {
				t.Errorf("a read during appends saw %d corrupted lines", sum.Corrupted)
				return
			}
		}
	})
	wg.Wait()
	recs, err := st.Records()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, r := range recs {
		if !r.Valid {
			t.Errorf("line %d invalid: %s", r.Line, r.Error)
		}
		seen[r.Seq] = true
	}
	if len(recs) != writers*each || len(seen) != writers*each {
		t.Fatalf("got %d lines with %d distinct seqs, want %d", len(recs), len(seen), writers*each)
	}
}

func TestOpenStoreFailsOnAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenStore(file); err == nil {
		t.Fatal("OpenStore on a regular file succeeded")
	}
}
