// Package etcdsnap takes etcd snapshots through the v3 client
// (Maintenance.Snapshot, by way of etcdutl's snapshot manager), stores them
// outside the cluster, and verifies each one the way `etcdutl snapshot
// status` and `etcdutl snapshot restore` do: the SHA-256 that etcd appends
// to the stream, the bbolt consistency check, and the hash and revision of
// the keyspace.
package etcdsnap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
	"sigs.k8s.io/kind/pkg/log"
)

// Snapshot is one snapshot, saved and verified.
type Snapshot struct {
	Path string `json:"path"`
	// Endpoint is the member it was streamed from.
	Endpoint string `json:"endpoint"`
	// Requested is when the snapshot was asked for: the data is at least
	// as new as this. Saved is when the file was complete.
	Requested time.Time `json:"requested"`
	Saved     time.Time `json:"saved"`
	// Version is the etcd storage version the snapshot reports.
	Version string `json:"version,omitempty"`
	// Status is what the verification read from the file.
	Status snapshot.Status `json:"status"`
	// Pruned says the file was deleted: newer snapshots replaced it.
	Pruned bool `json:"pruned,omitempty"`
}

// Take streams a snapshot from endpoint into dir (created if needed) and
// verifies it. cfg gives the TLS and timeouts; its endpoints are replaced.
func Take(ctx context.Context, cfg clientv3.Config, endpoint, dir string) (Snapshot, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Snapshot{}, fmt.Errorf("etcd snapshot: %w", err)
	}
	s := Snapshot{Endpoint: endpoint, Requested: time.Now()}
	s.Path = filepath.Join(dir, "etcd-"+s.Requested.UTC().Format("20060102T150405.000Z")+".db")
	cfg.Endpoints = []string{endpoint}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	version, err := snapshot.NewV3(cfg.Logger).Save(ctx, cfg, s.Path)
	if err != nil {
		return Snapshot{}, fmt.Errorf("etcd snapshot from %s: %w", endpoint, err)
	}
	s.Saved, s.Version = time.Now(), version
	// A snapshot holds every secret of the cluster.
	if err := os.Chmod(s.Path, 0o600); err != nil {
		return s, fmt.Errorf("etcd snapshot %s: %w", s.Path, err)
	}
	if s.Status, err = Verify(s.Path); err != nil {
		return s, err
	}
	return s, nil
}

// Verify checks a snapshot file: the SHA-256 etcd appended to the stream
// (what `etcdutl snapshot restore` checks), then the bbolt consistency and
// the keyspace's hash, revision and key count (what `etcdutl snapshot
// status` reports).
func Verify(path string) (snapshot.Status, error) {
	if err := checkSHA256(path); err != nil {
		return snapshot.Status{}, err
	}
	st, err := snapshot.NewV3(zap.NewNop()).Status(path)
	if err != nil {
		return snapshot.Status{}, fmt.Errorf("etcd snapshot %s: status: %w", path, err)
	}
	if st.Revision <= 0 {
		return st, fmt.Errorf("etcd snapshot %s: revision %d: no keyspace", path, st.Revision)
	}
	return st, nil
}

// checkSHA256 checks the trailer etcd's Maintenance.Snapshot appends: the
// SHA-256 of the database that precedes it.
func checkSHA256(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("etcd snapshot: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("etcd snapshot: %w", err)
	}
	size := fi.Size()
	if size < sha256.Size || (size-sha256.Size)%512 != 0 {
		return fmt.Errorf("etcd snapshot %s: %d bytes is not a database plus its SHA-256: truncated or not a snapshot", path, size)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, f, size-sha256.Size); err != nil {
		return fmt.Errorf("etcd snapshot %s: %w", path, err)
	}
	want := make([]byte, sha256.Size)
	if _, err := io.ReadFull(f, want); err != nil {
		return fmt.Errorf("etcd snapshot %s: %w", path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("etcd snapshot %s: SHA-256 %x does not match the %x etcd appended: corrupt", path, got, want)
	}
	return nil
}

// Scheduler takes a snapshot every Interval until its context ends, and
// keeps the newest Keep files on disk.
type Scheduler struct {
	Config   clientv3.Config
	Endpoint string
	Dir      string
	Interval time.Duration
	// Keep is how many of the newest snapshots stay on disk; older files
	// are deleted (they stay listed, Pruned). Default DefaultKeep.
	Keep   int
	Logger log.Logger

	mu     sync.Mutex
	taken  []Snapshot
	failed []error
}

// Run snapshots now and then every Interval, until ctx is done.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for ctx.Err() == nil {
		snap, err := Take(ctx, s.Config, s.Endpoint, s.Dir)
		s.mu.Lock()
		if err != nil && ctx.Err() == nil {
			s.failed = append(s.failed, err)
			if s.Logger != nil {
				s.Logger.Warnf("%v", err)
			}
		} else if err == nil {
			s.taken = append(s.taken, snap)
			s.prune()
			if s.Logger != nil {
				s.Logger.V(1).Infof("etcd snapshot at revision %d (%d keys, hash %08x): %s", snap.Status.Revision, snap.Status.TotalKey, snap.Status.Hash, snap.Path)
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// DefaultKeep is Scheduler.Keep when unset.
const DefaultKeep = 3

// prune deletes the files of all but the newest Keep snapshots; s.mu is
// held.
func (s *Scheduler) prune() {
	keep := s.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	for i := 0; i < len(s.taken)-keep; i++ {
		if s.taken[i].Pruned {
			continue
		}
		if err := os.Remove(s.taken[i].Path); err != nil && !os.IsNotExist(err) {
			if s.Logger != nil {
				s.Logger.Warnf("prune etcd snapshot: %v", err)
			}
			continue
		}
		s.taken[i].Pruned = true
	}
}

// Taken returns the verified snapshots so far, oldest first, and the
// failures.
func (s *Scheduler) Taken() ([]Snapshot, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Snapshot(nil), s.taken...), append([]error(nil), s.failed...)
}

// Latest returns the newest snapshot requested at or before t whose file
// is still on disk.
func Latest(snaps []Snapshot, t time.Time) (Snapshot, bool) {
	var best Snapshot
	ok := false
	for _, s := range snaps {
		if !s.Pruned && !s.Requested.After(t) && (!ok || s.Requested.After(best.Requested)) {
			best, ok = s, true
		}
	}
	return best, ok
}
