package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/kube"
)

// Namespace is the drill-owned namespace that holds the journals' copies in
// the cluster. It is not a drill's own namespace, which velero-restore and
// the drill's cleanup delete.
const Namespace = "drill-system"

// Labels of the journals' copies.
const (
	LabelManagedBy = kube.LabelManagedBy
	LabelJournal   = "drill.sre/journal"
	dataKey        = "journal.json"
)

// ConfigMaps keeps each journal's copy in a ConfigMap journal-<id> of
// Namespace, creating the namespace when it is missing.
type ConfigMaps struct {
	Clientset kubernetes.Interface
}

var _ Mirror = ConfigMaps{}

func configMapName(id string) string { return "journal-" + id }

// Put implements Mirror.
func (m ConfigMaps) Put(ctx context.Context, e Entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	state := "open"
	if !e.IsOpen() {
		state = "closed"
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: configMapName(e.ID), Namespace: Namespace,
			Labels: map[string]string{LabelManagedBy: kube.ManagedBy, LabelJournal: state}},
		Data: map[string]string{dataKey: string(data)},
	}
	cms := m.Clientset.CoreV1().ConfigMaps(Namespace)
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		if apierrors.IsNotFound(err) { // the namespace
			if err = m.ensureNamespace(ctx); err == nil {
				_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			}
		}
	}
	if err != nil {
		return fmt.Errorf("write configmap %s/%s: %w", Namespace, cm.Name, err)
	}
	return nil
}

func (m ConfigMaps) ensureNamespace(ctx context.Context) error {
	_, err := m.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: Namespace, Labels: map[string]string{LabelManagedBy: kube.ManagedBy},
	}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", Namespace, err)
	}
	return nil
}

// Delete implements Mirror.
func (m ConfigMaps) Delete(ctx context.Context, id string) error {
	err := m.Clientset.CoreV1().ConfigMaps(Namespace).Delete(ctx, configMapName(id), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// List implements Mirror.
func (m ConfigMaps) List(ctx context.Context) ([]Entry, error) {
	list, err := m.Clientset.CoreV1().ConfigMaps(Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelJournal})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list journals in namespace %s: %w", Namespace, err)
	}
	var (
		out  []Entry
		errs []error
	)
	for _, cm := range list.Items {
		var e Entry
		if err := json.Unmarshal([]byte(cm.Data[dataKey]), &e); err != nil || e.Schema != Schema {
			errs = append(errs, fmt.Errorf("configmap %s/%s is not a journal (%v)", Namespace, cm.Name, err))
			continue
		}
		out = append(out, e)
	}
	return out, errors.Join(errs...)
}

// mirrorLoop writes the newest state of a journal to its Mirror in the
// background: the API may be down during a control-plane fault, and the
// fault must not wait on it. Only the newest entry is kept.
type mirrorLoop struct {
	m      Mirror
	logger log.Logger

	mu      sync.Mutex
	pending *Entry
	written int // generation written
	gen     int // generation put
	kick    chan struct{}
	cond    *sync.Cond
	done    chan struct{}
	cancel  context.CancelFunc
}

func newMirrorLoop(m Mirror, logger log.Logger) *mirrorLoop {
	ctx, cancel := context.WithCancel(context.Background())
	l := &mirrorLoop{m: m, logger: logger, kick: make(chan struct{}, 1), done: make(chan struct{}), cancel: cancel}
	l.cond = sync.NewCond(&l.mu)
	go l.run(ctx)
	return l
}

func (l *mirrorLoop) put(e Entry) {
	l.mu.Lock()
	l.pending = &e
	l.gen++
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *mirrorLoop) run(ctx context.Context) {
	defer close(l.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		}
		for {
			l.mu.Lock()
			e, gen := l.pending, l.gen
			l.pending = nil
			l.mu.Unlock()
			if e == nil {
				break
			}
			if err := l.write(ctx, *e); err != nil {
				if ctx.Err() != nil {
					return
				}
				l.logger.V(1).Infof("journal %s: cluster copy not written yet: %v", e.ID, err)
				l.mu.Lock()
				if l.pending == nil {
					l.pending = e // retry it unless a newer one came
				}
				l.mu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-time.After(2 * time.Second):
				}
				continue
			}
			l.mu.Lock()
			l.written = max(l.written, gen)
			l.cond.Broadcast()
			l.mu.Unlock()
		}
	}
}

func (l *mirrorLoop) write(ctx context.Context, e Entry) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return l.m.Put(ctx, e)
}

// flush waits up to d for every entry put so far to be written.
func (l *mirrorLoop) flush(d time.Duration) {
	timer := time.AfterFunc(d, func() { l.mu.Lock(); l.cond.Broadcast(); l.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.written < l.gen && time.Now().Before(deadline) {
		l.cond.Wait()
	}
}

// stop ends the loop, abandoning what is not written yet.
func (l *mirrorLoop) stop() {
	l.cancel()
	<-l.done
}
