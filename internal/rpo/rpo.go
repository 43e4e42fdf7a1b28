// Package rpo measures data loss: a Writer writes sequence-numbered records
// into a store for the whole drill and logs the ones the store acknowledged;
// after recovery, what can be read back is compared with the log
// (objectives.RPO).
package rpo

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/kube"
	"github.com/drill-sre/drill/internal/objectives"
	"github.com/drill-sre/drill/internal/safe"
)

// Store is where a Writer writes. Write returns nil only once the store has
// acknowledged the record; ReadBack lists the sequence numbers it holds.
type Store interface {
	Write(ctx context.Context, seq int64, at time.Time) error
	ReadBack(ctx context.Context) ([]int64, error)
}

// Writer writes one record per interval, one at a time, each under timeout.
type Writer struct {
	store    Store
	interval time.Duration
	timeout  time.Duration
	logger   log.Logger

	mu       sync.Mutex
	acked    []objectives.Write
	attempts int64
	failures int
}

// NewWriter returns a Writer into store.
func NewWriter(store Store, interval, timeout time.Duration, logger log.Logger) (*Writer, error) {
	if store == nil || interval <= 0 || timeout <= 0 {
		return nil, fmt.Errorf("rpo writer: need a store, a positive interval and a positive timeout (got %s, %s)", interval, timeout)
	}
	if logger == nil {
		logger = log.NoopLogger{}
	}
	return &Writer{store: store, interval: interval, timeout: timeout, logger: logger}, nil
}

// Run writes until ctx is done.
func (w *Writer) Run(ctx context.Context) {
	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	failing := false
	for ctx.Err() == nil {
		w.mu.Lock()
		w.attempts++
		seq := w.attempts
		w.mu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, w.timeout)
		err := w.store.Write(wctx, seq, time.Now())
		cancel()
		acked := time.Now()
		w.mu.Lock()
		if err == nil {
			w.acked = append(w.acked, objectives.Write{Seq: seq, Acked: acked})
		} else if ctx.Err() == nil {
			w.failures++
		}
		w.mu.Unlock()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			failing = true
			w.logger.V(0).Infof("rpo writer: write %d not acknowledged: %v", seq, err)
		case err == nil && failing:
			failing = false
			w.logger.V(0).Infof("rpo writer: writes acknowledged again from %d", seq)
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
		}
	}
}

// Start runs the writer in the background; stop ends it and waits.
func (w *Writer) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	safe.Go(ctx, "RPO writer", func() { defer close(done); w.Run(ctx) })
	return func() { cancel(); <-done }
}

// Log returns the acknowledged writes so far, and how many writes were
// attempted and failed (not acknowledged).
func (w *Writer) Log() (acked []objectives.Write, attempts int64, failures int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]objectives.Write(nil), w.acked...), w.attempts, w.failures
}

// Label marks the ConfigMaps a ConfigMapStore writes, valued by its run.
const Label = "drill.sre/rpo-run"

// ConfigMapStore writes each record as a ConfigMap through the Kubernetes
// API, that is into etcd: acknowledged means the API server returned 201,
// which it does once etcd committed the write on a quorum.
type ConfigMapStore struct {
	CS        kubernetes.Interface
	Namespace string
	// Run names this writer's records, so that runs do not mix.
	Run string
}

// Write implements Store.
func (s ConfigMapStore) Write(ctx context.Context, seq int64, at time.Time) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:   fmt.Sprintf("rpo-%s-%d", s.Run, seq),
			Labels: kube.ManagedLabels(map[string]string{Label: s.Run}),
		},
		Data: map[string]string{"seq": strconv.FormatInt(seq, 10), "written": at.UTC().Format(time.RFC3339Nano)},
	}
	if _, err := s.CS.CoreV1().ConfigMaps(s.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create configmap %s/%s: %w", s.Namespace, cm.Name, err)
	}
	return nil
}

// ReadBack implements Store: it lists the run's ConfigMaps from etcd (a
// quorum read), page by page.
func (s ConfigMapStore) ReadBack(ctx context.Context) ([]int64, error) {
	var (
		out  []int64
		cont string
	)
	for {
		list, err := s.CS.CoreV1().ConfigMaps(s.Namespace).List(ctx, metav1.ListOptions{
			LabelSelector: Label + "=" + s.Run, Limit: 500, Continue: cont,
		})
		if err != nil {
			return nil, fmt.Errorf("read back the records of run %s in %s: %w", s.Run, s.Namespace, err)
		}
		for _, cm := range list.Items {
			seq, err := strconv.ParseInt(cm.Data["seq"], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("record %s/%s: bad seq %q", s.Namespace, cm.Name, cm.Data["seq"])
			}
			out = append(out, seq)
		}
		if cont = list.Continue; cont == "" {
			return out, nil
		}
	}
}

// Delete removes the run's records.
func (s ConfigMapStore) Delete(ctx context.Context) error {
	err := s.CS.CoreV1().ConfigMaps(s.Namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: Label + "=" + s.Run})
	if err != nil {
		return fmt.Errorf("delete the records of run %s in %s: %w", s.Run, s.Namespace, err)
	}
	return nil
}
