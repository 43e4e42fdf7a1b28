package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/log"
)

// Existing is a cluster drill did not create, reached through a kubeconfig
// file and context. drill neither changes nor deletes it, and has no access to
// its machines: it implements no optional capability.
type Existing struct {
	kubeconfig Kubeconfig
	wait       time.Duration
	logger     log.Logger
	// newClient is replaced in tests.
	newClient func() (kubernetes.Interface, error)
}

var _ Provider = (*Existing)(nil)

// NewExisting returns the provider of the cluster kubeconfig and context
// reach (the file's current context if context is ""). Up waits up to wait
// (DefaultWait if zero) for nodes to be Ready; logger may be nil.
func NewExisting(kubeconfig, context string, wait time.Duration, logger log.Logger) (*Existing, error) {
	if kubeconfig == "" {
		return nil, errors.New("existing cluster: a kubeconfig path is required")
	}
	if wait == 0 {
		wait = DefaultWait
	}
	if wait < 0 {
		return nil, fmt.Errorf("existing cluster: wait must be positive, got %s", wait)
	}
	if logger == nil {
		logger = log.NoopLogger{}
	}
	e := &Existing{kubeconfig: Kubeconfig{Path: kubeconfig, Context: context}, wait: wait, logger: logger}
	e.newClient = func() (kubernetes.Interface, error) { return Clientset(e) }
	return e, nil
}

// Name implements Provider: the kubeconfig context, or the file if the
// context is the file's current one.
func (e *Existing) Name() string {
	if e.kubeconfig.Context != "" {
		return e.kubeconfig.Context
	}
	return e.kubeconfig.Path
}

// Kubeconfig implements Provider.
func (e *Existing) Kubeconfig() Kubeconfig { return e.kubeconfig }

// Up implements Provider: it checks that the API server is ready and waits
// for every node to be Ready. It changes nothing in the cluster.
func (e *Existing) Up(ctx context.Context) (UpResult, error) {
	start := time.Now()
	cs, err := e.newClient()
	if err != nil {
		return UpResult{}, err
	}
	if err := step(e.logger, fmt.Sprintf("Checking cluster %s", e.Name()), func() error {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("cluster %s: API server not ready: %w (%s)", e.Name(), err, body)
		}
		return nil
	}); err != nil {
		return UpResult{}, err
	}
	if err := step(e.logger, fmt.Sprintf("Waiting ≤ %s for nodes Ready", e.wait), func() error {
		return WaitForNodesReady(ctx, cs, 0, e.wait)
	}); err != nil {
		return UpResult{}, fmt.Errorf("cluster %s: %w", e.Name(), err)
	}
	return UpResult{Total: time.Since(start)}, nil
}

// Nodes implements Provider.
func (e *Existing) Nodes(ctx context.Context) ([]Node, error) {
	cs, err := e.newClient()
	if err != nil {
		return nil, err
	}
	nodes, err := ListNodes(ctx, cs)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", e.Name(), err)
	}
	return nodes, nil
}
