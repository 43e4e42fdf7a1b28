package preflight

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// How a fake API server answers.
type serverState int

const (
	serverReady    serverState = iota
	serverNotReady             // /readyz answers 500, as with etcd gone
	serverDown                 // nothing listens
)

const testToken = "t0ken"

// startAPIServer serves /readyz over TLS on ip (any port) as state says,
// and only to the bearer token testToken. httptest's certificate is valid
// for example.com, whatever the address.
func startAPIServer(t *testing.T, ip string, state serverState) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer "+testToken:
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path != "/readyz":
			w.WriteHeader(http.StatusNotFound)
		case state == serverNotReady:
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n")
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = l
	srv.StartTLS()
	if state == serverDown {
		srv.Close()
	} else {
		t.Cleanup(srv.Close)
	}
	return srv
}

// apiServerSlice is an EndpointSlice of the kubernetes Service with one
// API server (each fake server has its own port, so each its own slice).
func apiServerSlice(name, hostPort string) *discoveryv1.EndpointSlice {
	host, port, _ := net.SplitHostPort(hostPort)
	var p int32
	fmt.Sscan(port, &p)
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{host}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(p)}},
	}
}

func TestCheckAPIServers(t *testing.T) {
	ips := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	tests := []struct {
		name     string
		servers  []serverState // of the API servers at ips
		front    serverState   // the kubeconfig's server
		listed   int           // how many servers the EndpointSlices show; default all
		listErr  error
		nodesErr error // the nodes could not be read
		status   Status
		detail   string // with {1}, {2}, {3} for the servers' host:port, {front} for the front's URL
	}{
		{
			name:    "every API server ready",
			servers: []serverState{serverReady, serverReady, serverReady},
			status:  StatusOK,
			detail:  "3 API servers ready ({1}, {2}, {3}), and the API through {front}",
		},
		{
			name:    "an API server not ready",
			servers: []serverState{serverReady, serverNotReady, serverReady},
			status:  StatusFailed,
			detail: "{2} not ready: status 500 Internal Server Error, want 2xx: [+]ping ok [-]etcd failed: reason withheld readyz check failed; " +
				"2 of 3 API servers ready",
		},
		{
			name:    "an API server down",
			servers: []serverState{serverReady, serverReady, serverDown},
			status:  StatusFailed,
			detail:  `{3} not ready: Get "https://{3}/readyz": dial tcp {3}: connect: connection refused; 2 of 3 API servers ready`,
		},
		{
			name:    "the API through the kubeconfig's server not ready",
			servers: []serverState{serverReady, serverReady, serverReady},
			front:   serverNotReady,
			status:  StatusFailed,
			detail: "the API through {front} not ready: status 500 Internal Server Error, want 2xx: [+]ping ok [-]etcd failed: reason withheld readyz check failed; " +
				"3 of 3 API servers ready",
		},
		{
			name:    "an API server gone from the endpoints",
			servers: []serverState{serverReady, serverReady, serverDown},
			listed:  2,
			status:  StatusFailed,
			detail:  "2 API server endpoints for 3 control-plane nodes, none at drill-control-plane3 (127.0.0.3); 2 of 2 API servers ready",
		},
		{
			name:     "nodes unknown: endpoints not compared",
			servers:  []serverState{serverReady, serverReady, serverDown},
			listed:   2,
			nodesErr: errors.New("list nodes: connection refused"),
			status:   StatusOK,
			detail:   "2 API servers ready ({1}, {2}), and the API through {front} (not compared with the control-plane nodes, which could not be read)",
		},
		{
			name:    "no endpoints",
			servers: []serverState{serverReady, serverReady, serverReady},
			listed:  -1,
			status:  StatusFailed,
			detail:  "the kubernetes Service has no endpoints",
		},
		{
			name:    "endpoints unreadable",
			servers: []serverState{serverReady, serverReady, serverReady},
			listErr: apierrors.NewForbidden(schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}, "", errors.New("RBAC: access denied")),
			status:  StatusFailed,
			detail:  "list the API servers' endpoints: endpointslices.discovery.k8s.io is forbidden: RBAC: access denied",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addrs []string
			var objs []runtime.Object
			var nodes nodeSnapshot
			for i, st := range tt.servers {
				srv := startAPIServer(t, ips[i], st)
				hp := srv.Listener.Addr().String()
				addrs = append(addrs, fmt.Sprintf("{%d}", i+1), hp)
				if tt.listed == 0 || i < tt.listed {
					objs = append(objs, apiServerSlice(fmt.Sprintf("kubernetes-%d", i), hp))
				}
				nodes.nodes = append(nodes.nodes, *testNode(fmt.Sprintf("drill-control-plane%d", i+1), ips[i], controlPlane))
			}
			nodes.nodes[0].Name = "drill-control-plane"
			nodes.nodes = append(nodes.nodes, *testNode("drill-worker", "127.0.0.4"))
			if tt.nodesErr != nil {
				nodes = nodeSnapshot{err: tt.nodesErr}
			}
			front := startAPIServer(t, "127.0.0.1", tt.front)
			addrs = append(addrs, "{front}", front.URL)

			cs := fake.NewClientset(objs...)
			if tt.listErr != nil {
				cs.PrependReactor("list", "endpointslices", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, tt.listErr
				})
			}
			cfg := &rest.Config{
				Host:        front.URL,
				BearerToken: testToken,
				TLSClientConfig: rest.TLSClientConfig{
					CAData:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}),
					ServerName: "example.com",
				},
			}
			ctx, cancel := context.WithTimeout(t.Context(), DefaultTimeout)
			defer cancel()
			got := checkAPIServers(ctx, cfg, cs, nodes)
			want := Check{Name: CheckAPIServers, Status: tt.status, Detail: strings.NewReplacer(addrs...).Replace(tt.detail)}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestMissingServers checks how fewer API server endpoints than
// control-plane nodes are described.
func TestMissingServers(t *testing.T) {
	cps := []corev1.Node{
		*testNode("cp1", "10.0.0.1", controlPlane),
		*testNode("cp2", "10.0.0.2", controlPlane),
		*testNode("cp3", "10.0.0.3", controlPlane),
	}
	cps[2].Status.Addresses = append(cps[2].Status.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.3"})
	tests := []struct {
		servers []string
		want    string
	}{
		{[]string{"10.0.0.1:6443", "10.0.0.2:6443"}, "2 API server endpoints for 3 control-plane nodes, none at cp3 (10.0.0.3, 203.0.113.3)"},
		{[]string{"203.0.113.3:6443"}, "1 API server endpoint for 3 control-plane nodes, none at cp1 (10.0.0.1), cp2 (10.0.0.2)"},
		{[]string{"[fd00::1]:6443", "[fd00::2]:6443"}, "2 API server endpoints for 3 control-plane nodes"}, // other addresses: not named
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.servers, ","), func(t *testing.T) {
			if got := missingServers(tt.servers, cps); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
