package cluster

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func fakeNode(name, zone string, controlPlane, ready bool, ip string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"kubernetes.io/hostname": name,
	}}}
	if zone != "" {
		n.Labels[ZoneLabel] = zone
	}
	if controlPlane {
		n.Labels[controlPlaneLabel] = ""
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	n.Status.Conditions = []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
		{Type: corev1.NodeReady, Status: status},
	}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{
			{Type: corev1.NodeHostName, Address: name},
			{Type: corev1.NodeInternalIP, Address: ip},
		}
	}
	return n
}

func TestListNodes(t *testing.T) {
	cs := fake.NewClientset(
		fakeNode("drill-worker2", "zone-b", false, true, "172.18.0.6"),
		fakeNode("drill-control-plane", "zone-a", true, true, "172.18.0.3"),
		fakeNode("drill-worker", "zone-a", false, false, ""),
		fakeNode("drill-control-plane2", "", true, true, "172.18.0.4"),
	)
	got, err := ListNodes(context.Background(), cs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Node{
		{Name: "drill-control-plane", Role: RoleControlPlane, Zone: "zone-a", Ready: true, InternalIP: "172.18.0.3"},
		{Name: "drill-control-plane2", Role: RoleControlPlane, Zone: "", Ready: true, InternalIP: "172.18.0.4"},
		{Name: "drill-worker", Role: RoleWorker, Zone: "zone-a", Ready: false},
		{Name: "drill-worker2", Role: RoleWorker, Zone: "zone-b", Ready: true, InternalIP: "172.18.0.6"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListNodes:\n got %+v\nwant %+v", got, want)
	}
}

func TestWithContainers(t *testing.T) {
	objs := []Node{
		{Name: "drill-control-plane", Role: RoleControlPlane, Ready: true},
		{Name: "drill-worker", Role: RoleWorker, Ready: true},
	}
	containers := map[string]Role{
		"drill-control-plane": RoleControlPlane,
		"drill-worker":        RoleWorker,
		"drill-worker2":       RoleWorker, // never registered
	}
	got := withContainers(objs, containers)
	want := []Node{
		{Name: "drill-control-plane", Role: RoleControlPlane, Ready: true, Container: "drill-control-plane"},
		{Name: "drill-worker", Role: RoleWorker, Ready: true, Container: "drill-worker"},
		{Name: "drill-worker2", Role: RoleWorker, Container: "drill-worker2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("withContainers:\n got %+v\nwant %+v", got, want)
	}
}

func TestWaitForNodesReady(t *testing.T) {
	ctx := context.Background()
	ready := fake.NewClientset(fakeNode("a", "", true, true, ""), fakeNode("b", "", false, true, ""))
	if err := WaitForNodesReady(ctx, ready, 2, time.Second); err != nil {
		t.Errorf("all nodes Ready: %v", err)
	}
	if err := WaitForNodesReady(ctx, ready, 3, 50*time.Millisecond); err == nil {
		t.Error("want a timeout when fewer nodes than wanted are registered")
	}
	objs := []runtime.Object{fakeNode("a", "", true, true, ""), fakeNode("b", "", false, false, "")}
	err := WaitForNodesReady(ctx, fake.NewClientset(objs...), 0, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not Ready: [b]") {
		t.Errorf("want a timeout naming node b, got %v", err)
	}
}
