package monitoring

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func node(name, ip string, kubeletPort int32) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = kubeletPort
	return n
}

func apiserverPod(node, ip string, args ...string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-" + node, Namespace: "kube-system", Labels: map[string]string{"component": "kube-apiserver"}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
			Name: "kube-apiserver", Command: append([]string{"kube-apiserver", "--advertise-address=" + ip}, args...),
		}}},
		Status: corev1.PodStatus{PodIP: ip},
	}
}

func TestDiscoverTargets(t *testing.T) {
	objs := []runtime.Object{
		node("drill-worker", "172.18.0.5", 10250),
		node("drill-control-plane2", "172.18.0.3", 10250),
		node("drill-control-plane", "172.18.0.2", 0), // port unknown: the default
		apiserverPod("drill-control-plane2", "172.18.0.3", "--secure-port=6443"),
		apiserverPod("drill-control-plane", "", "--secure-port=7443"), // no pod IP yet: its node's
	}
	got, err := DiscoverTargets(t.Context(), fake.NewClientset(objs...))
	if err != nil {
		t.Fatal(err)
	}
	want := Targets{
		APIServers: []Target{{"172.18.0.2:7443", "drill-control-plane"}, {"172.18.0.3:6443", "drill-control-plane2"}},
		Nodes:      []Target{{"172.18.0.2:10250", "drill-control-plane"}, {"172.18.0.3:10250", "drill-control-plane2"}, {"172.18.0.5:10250", "drill-worker"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets\n%+v, want\n%+v", got, want)
	}
}

func TestDiscoverTargetsErrors(t *testing.T) {
	ok := []runtime.Object{
		node("drill-control-plane", "172.18.0.2", 10250),
		apiserverPod("drill-control-plane", "172.18.0.2"),
	}
	for _, tc := range []struct {
		name string
		objs []runtime.Object
		want string
	}{
		{"no apiserver pods", ok[:1], "no kube-apiserver pods in kube-system"},
		{"node without address", []runtime.Object{node("drill-control-plane", "", 10250), ok[1]}, "node drill-control-plane has no InternalIP"},
		{"apiserver pod without address", []runtime.Object{node("drill-worker", "172.18.0.5", 10250), apiserverPod("drill-control-plane", "")},
			`kube-apiserver pod kube-apiserver-drill-control-plane (node "drill-control-plane") has no address`},
	} {
		_, err := DiscoverTargets(t.Context(), fake.NewClientset(tc.objs...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one that says %q", tc.name, err, tc.want)
		}
	}
}
