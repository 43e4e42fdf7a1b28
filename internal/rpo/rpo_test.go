package rpo

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

// flakyStore acknowledges writes except while down, and may keep a write it
// did not acknowledge (a timeout after the commit).
type flakyStore struct {
	mu   sync.Mutex
	down bool
	kept []int64
}

func (s *flakyStore) Write(_ context.Context, seq int64, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		if seq%2 == 0 {
			s.kept = append(s.kept, seq) // committed, answer lost
		}
		return errors.New("unavailable")
	}
	s.kept = append(s.kept, seq)
	return nil
}

func (s *flakyStore) ReadBack(context.Context) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.kept), nil
}

func (s *flakyStore) setDown(d bool) { s.mu.Lock(); s.down = d; s.mu.Unlock() }

func TestWriterLogsOnlyAcknowledgedWrites(t *testing.T) {
	store := &flakyStore{}
	w, err := NewWriter(store, time.Millisecond, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := w.Start(context.Background())
	waitAttempts(t, w, 20)
	store.setDown(true)
	waitAttempts(t, w, 40)
	store.setDown(false)
	waitAttempts(t, w, 60)
	stop()

	acked, attempts, failures := w.Log()
	if int64(len(acked)+failures) > attempts || failures == 0 || len(acked) == 0 {
		t.Fatalf("%d acknowledged, %d failures of %d attempts", len(acked), failures, attempts)
	}
	for i := 1; i < len(acked); i++ {
		if acked[i].Seq <= acked[i-1].Seq || acked[i].Acked.Before(acked[i-1].Acked) {
			t.Fatalf("log out of order at %d: %+v then %+v", i, acked[i-1], acked[i])
		}
	}
	back, _ := store.ReadBack(context.Background())
	for _, a := range acked {
		if !slices.Contains(back, a.Seq) {
			t.Errorf("acknowledged write %d not in the store", a.Seq)
		}
	}
}

func waitAttempts(t *testing.T, w *Writer, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, attempts, _ := w.Log(); attempts >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d attempts in 10s", n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewWriterValidates(t *testing.T) {
	if _, err := NewWriter(nil, time.Second, time.Second, nil); err == nil {
		t.Error("no store: want an error")
	}
	if _, err := NewWriter(&flakyStore{}, 0, time.Second, nil); err == nil {
		t.Error("zero interval: want an error")
	}
}

func TestConfigMapStore(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	a := ConfigMapStore{CS: cs, Namespace: "ns", Run: "a"}
	b := ConfigMapStore{CS: cs, Namespace: "ns", Run: "b"}
	for seq := int64(1); seq <= 3; seq++ {
		if err := a.Write(ctx, seq, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Write(ctx, 7, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.Write(ctx, 2, time.Now()); err == nil {
		t.Error("writing a sequence number twice should fail: the record exists")
	}
	got, err := a.ReadBack(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("run a read back %v, want [1 2 3]", got)
	}
	if err := a.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.ReadBack(ctx); !slices.Equal(got, []int64{7}) {
		t.Errorf("run b after deleting run a: %v, want [7]", got)
	}
}
