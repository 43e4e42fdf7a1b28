package cluster

import (
	"context"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

func TestExistingHasNoCapabilities(t *testing.T) {
	e, err := NewExisting("/tmp/kubeconfig", "prod", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var p Provider = e
	if _, ok := p.(NodeLifecycle); ok {
		t.Error("Existing must not offer node lifecycle")
	}
	if _, ok := p.(Deleter); ok {
		t.Error("Existing must not delete clusters")
	}
	if _, ok := p.(ImageLoader); ok {
		t.Error("Existing must not load images")
	}
	if _, ok := p.(EtcdAccess); ok {
		t.Error("Existing must not reach etcd")
	}
	if got := p.Kubeconfig(); got != (Kubeconfig{Path: "/tmp/kubeconfig", Context: "prod"}) {
		t.Errorf("Kubeconfig() = %+v", got)
	}
	if p.Name() != "prod" {
		t.Errorf("Name() = %q, want the context", p.Name())
	}
}

func TestNewExistingValidates(t *testing.T) {
	if _, err := NewExisting("", "", 0, nil); err == nil {
		t.Error("want an error without a kubeconfig")
	}
	if _, err := NewExisting("/tmp/kubeconfig", "", -1, nil); err == nil {
		t.Error("want an error with a negative wait")
	}
}

func TestExistingNodes(t *testing.T) {
	e, err := NewExisting("/tmp/kubeconfig", "", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.newClient = func() (kubernetes.Interface, error) {
		return fake.NewClientset(fakeNode("n1", "eu-1a", false, true, "10.0.0.1")), nil
	}
	nodes, err := e.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].Zone != "eu-1a" || nodes[0].Container != "" {
		t.Errorf("Nodes() = %+v", nodes)
	}
}
