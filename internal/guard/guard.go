// Package guard decides whether drill may inject faults into a cluster: only
// into one that opted in, reached through a context named on purpose, and,
// for faults on a workload, only into namespaces drill created or the
// opt-in lists.
//
// The opt-in is a marker in the cluster: the ConfigMap drill-opt-in in
// kube-system. A person creates it once (`drill cluster opt-in`); a kind
// cluster that drill creates for itself carries it from the start. It lives
// in kube-system, not in a namespace of drill's, so that `drill cleanup`
// does not take the consent away with what drill installed, and so that
// only someone who may write into kube-system can give it.
//
// Every check here only reads the cluster, so that the guard runs before
// anything is written to it.
package guard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/drill-sre/drill/internal/kube"
)

// The marker's place and keys.
const (
	MarkerNamespace = "kube-system"
	MarkerName      = "drill-opt-in"
	// KeyNamespaces lists, one a line, the namespaces that workload faults
	// may target besides the ones drill creates.
	KeyNamespaces = "namespaces"
	// KeyBy and KeyAt say who opted the cluster in, and when.
	KeyBy = "opted-in-by"
	KeyAt = "opted-in-at"
	// LabelOptIn marks the ConfigMap as drill's opt-in.
	LabelOptIn = "drill.sre/opt-in"
)

// LabelManagedBy and ManagedBy mark what drill creates (kube.MarkManaged).
// A namespace with them is one drill created, where workload faults may act.
const (
	LabelManagedBy = kube.LabelManagedBy
	ManagedBy      = kube.ManagedBy
)

// Marker is a cluster's opt-in.
type Marker struct {
	// Namespaces are the namespaces, besides the ones drill creates, whose
	// workloads faults may target.
	Namespaces []string
	// By and At say who opted in, and when.
	By string
	At time.Time
}

// ConfigMap is the marker as stored in the cluster.
func (m Marker) ConfigMap() *corev1.ConfigMap {
	data := map[string]string{KeyBy: m.By, KeyNamespaces: strings.Join(m.Namespaces, "\n")}
	if !m.At.IsZero() {
		data[KeyAt] = m.At.UTC().Format(time.RFC3339)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: MarkerName, Namespace: MarkerNamespace,
			Labels: map[string]string{LabelOptIn: "true"},
			Annotations: map[string]string{"drill.sre/description": "This cluster opted in to drill's fault injection. " +
				"Delete this ConfigMap (drill cluster opt-out) to refuse every drill."}},
		Data: data,
	}
}

// String says who opted in, when, and which namespaces it lists.
func (m Marker) String() string {
	var b strings.Builder
	b.WriteString("opted in")
	if m.By != "" {
		b.WriteString(" by " + m.By)
	}
	if !m.At.IsZero() {
		b.WriteString(" at " + m.At.UTC().Format(time.RFC3339))
	}
	if len(m.Namespaces) > 0 {
		b.WriteString("; workload faults also in namespaces " + strings.Join(m.Namespaces, ", "))
	}
	return b.String()
}

func markerFrom(cm *corev1.ConfigMap) Marker {
	m := Marker{By: cm.Data[KeyBy]}
	for _, ns := range strings.Split(cm.Data[KeyNamespaces], "\n") {
		if ns = strings.TrimSpace(ns); ns != "" {
			m.Namespaces = append(m.Namespaces, ns)
		}
	}
	if at, err := time.Parse(time.RFC3339, cm.Data[KeyAt]); err == nil {
		m.At = at
	}
	return m
}

// ErrNotOptedIn is the error of a cluster without the marker.
var ErrNotOptedIn = errors.New("the cluster has not opted in to drill")

// Read returns the cluster's marker; a cluster without one gives
// ErrNotOptedIn. It only reads.
func Read(ctx context.Context, cs kubernetes.Interface) (Marker, error) {
	cm, err := cs.CoreV1().ConfigMaps(MarkerNamespace).Get(ctx, MarkerName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return Marker{}, ErrNotOptedIn
	case err != nil:
		return Marker{}, fmt.Errorf("read drill's opt-in %s/%s: %w", MarkerNamespace, MarkerName, err)
	}
	return markerFrom(cm), nil
}

// OptIn writes the marker, replacing an earlier one.
func OptIn(ctx context.Context, cs kubernetes.Interface, m Marker) error {
	if err := ValidateNamespaces(m.Namespaces); err != nil {
		return err
	}
	cms := cs.CoreV1().ConfigMaps(MarkerNamespace)
	cm := m.ConfigMap()
	_, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("write drill's opt-in %s/%s: %w", MarkerNamespace, MarkerName, err)
	}
	return nil
}

// OptOut deletes the marker; a cluster without one is left as it is.
func OptOut(ctx context.Context, cs kubernetes.Interface) (removed bool, err error) {
	err = cs.CoreV1().ConfigMaps(MarkerNamespace).Delete(ctx, MarkerName, metav1.DeleteOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("delete drill's opt-in %s/%s: %w", MarkerNamespace, MarkerName, err)
	}
	return true, nil
}

// ValidateNamespaces checks the namespaces an opt-in lists: names, and none
// of the system's own, which no workload fault may touch.
func ValidateNamespaces(namespaces []string) error {
	for _, ns := range namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("namespace %q: %s", ns, errs[0])
		}
		if IsSystemNamespace(ns) {
			return fmt.Errorf("namespace %q: the system's own namespaces cannot be opted in to workload faults", ns)
		}
	}
	return nil
}

// IsSystemNamespace says whether ns is one of Kubernetes' own namespaces.
func IsSystemNamespace(ns string) bool {
	return strings.HasPrefix(ns, "kube-") || ns == "default"
}

// Input is what Check decides on.
type Input struct {
	Clientset kubernetes.Interface
	// Cluster names the cluster in messages.
	Cluster string
	// Context is the kubeconfig context named on purpose (a flag, an
	// environment variable), "" when none was: then, from outside the
	// cluster, the guard refuses.
	Context string
	// ContextImplied says the provider chose the context itself, with no
	// kubeconfig's current context involved: a kind cluster drill manages
	// (kind-<name>, in the kubeconfig drill writes).
	ContextImplied bool
	// InCluster says drill runs inside the cluster, where there is no
	// context: the marker alone decides.
	InCluster bool
	// ContextFlag names the setting that passes a context, for the message
	// ("--context", "DRILL_CONTEXT").
	ContextFlag string
}

// Check decides whether drill may inject faults into the cluster, and
// returns its marker. It only reads the cluster.
func Check(ctx context.Context, in Input) (Marker, error) {
	if !in.InCluster && !in.ContextImplied {
		if err := RequireContext(in.Cluster, in.Context, in.ContextFlag); err != nil {
			return Marker{}, err
		}
	}
	m, err := Read(ctx, in.Clientset)
	if errors.Is(err, ErrNotOptedIn) {
		return Marker{}, fmt.Errorf("refusing to inject faults into %s: it has not opted in (no ConfigMap %s/%s); if faults may be injected there, opt it in once with `drill cluster opt-in`: %w",
			in.Cluster, MarkerNamespace, MarkerName, err)
	}
	if err != nil {
		return Marker{}, fmt.Errorf("cluster %s: %w", in.Cluster, err)
	}
	return m, nil
}

// RequireContext refuses a cluster reached without a kubeconfig context
// named on purpose (context ""): drill never falls back to the kubeconfig's
// current context. flag says how a context is passed ("--context" if "").
func RequireContext(cluster, context, flag string) error {
	if context != "" {
		return nil
	}
	if flag == "" {
		flag = "--context"
	}
	return fmt.Errorf("refusing to act on %s: no kubeconfig context was named, and drill never falls back to the kubeconfig's current context: pass %s", cluster, flag)
}

// CheckWorkloadNamespace decides whether a workload fault may act in
// namespace ns: one drill created (labelled managed-by drill), or one the
// marker lists. The system's own namespaces never. It only reads.
func CheckWorkloadNamespace(ctx context.Context, cs kubernetes.Interface, m Marker, ns string) error {
	if IsSystemNamespace(ns) {
		return fmt.Errorf("refusing a workload fault in namespace %s: it is one of the system's own namespaces", ns)
	}
	if slices.Contains(m.Namespaces, ns) {
		return nil
	}
	got, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("namespace %s of a workload fault: %w", ns, err)
	}
	if got.Labels[LabelManagedBy] == ManagedBy {
		return nil
	}
	return fmt.Errorf("refusing a workload fault in namespace %s: drill did not create it and the cluster's opt-in does not list it (drill cluster opt-in --namespace %s)", ns, ns)
}
