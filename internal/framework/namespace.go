package framework

import (
	"context"
	"fmt"
	"strings"

	"github.com/drill-sre/drill/internal/kube"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// CreateNamespaceInput is the input of CreateNamespace.
type CreateNamespaceInput struct {
	Clientset kubernetes.Interface
	// Prefix starts the generated name.
	Prefix string
}

// CreateNamespace creates a namespace with a generated name, for one spec.
func CreateNamespace(ctx context.Context, input CreateNamespaceInput) *corev1.Namespace {
	Expect(input.Clientset).NotTo(BeNil(), "CreateNamespace: Clientset is required")
	Expect(input.Prefix).NotTo(BeEmpty(), "CreateNamespace: Prefix is required")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: input.Prefix + "-",
		Labels:       map[string]string{kube.LabelManagedBy: kube.ManagedBy},
	}}
	ns, err := input.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred(), "create namespace %s-*", input.Prefix)
	return ns
}

// DeleteNamespaceInput is the input of DeleteNamespace.
type DeleteNamespaceInput struct {
	Clientset kubernetes.Interface
	Name      string
}

// DeleteNamespace deletes a spec's namespace, idempotently. If the spec
// failed, the namespace's events are written to the spec's output first, as
// evidence.
func DeleteNamespace(ctx context.Context, input DeleteNamespaceInput) {
	Expect(input.Clientset).NotTo(BeNil(), "DeleteNamespace: Clientset is required")
	Expect(input.Name).NotTo(BeEmpty(), "DeleteNamespace: Name is required")
	if CurrentSpecReport().Failed() {
		fmt.Fprintf(GinkgoWriter, "Events in namespace %s:\n%s", input.Name, DescribeEvents(ctx, input.Clientset, input.Name))
	}
	err := input.Clientset.CoreV1().Namespaces().Delete(ctx, input.Name, metav1.DeleteOptions{})
	if !apierrors.IsNotFound(err) {
		Expect(err).NotTo(HaveOccurred(), "delete namespace %s", input.Name)
	}
}

// DescribeEvents lists a namespace's events, one a line, oldest first.
func DescribeEvents(ctx context.Context, cs kubernetes.Interface, namespace string) string {
	events, err := cs.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("  (list events: %v)\n", err)
	}
	var b strings.Builder
	for _, e := range events.Items {
		fmt.Fprintf(&b, "  %s %s %s/%s %s: %s\n", e.LastTimestamp.Format("15:04:05"), e.Type,
			strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name, e.Reason, e.Message)
	}
	return b.String()
}
