package guard

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// writes lists the actions of cs that are not reads.
func writes(cs *fake.Clientset) []string {
	var out []string
	for _, a := range cs.Actions() {
		switch a.GetVerb() {
		case "get", "list", "watch":
		default:
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func optedIn(namespaces ...string) *corev1.ConfigMap {
	return Marker{Namespaces: namespaces, By: "sre@host", At: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}.ConfigMap()
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		objects []any
		in      Input
		wantErr string // "" for none
		wantNS  []string
	}{
		{name: "no context named, from outside the cluster", objects: []any{optedIn()},
			in:      Input{Cluster: "staging.yaml", ContextFlag: "DRILL_CONTEXT"},
			wantErr: "refusing to act on staging.yaml: no kubeconfig context was named, and drill never falls back to the kubeconfig's current context: pass DRILL_CONTEXT"},
		{name: "no context named, default flag", objects: []any{optedIn()},
			in: Input{Cluster: "c"}, wantErr: "pass --context"},
		{name: "a context, but no opt-in",
			in:      Input{Cluster: "staging", Context: "staging"},
			wantErr: "refusing to inject faults into staging: it has not opted in (no ConfigMap kube-system/drill-opt-in); if faults may be injected there, opt it in once with `drill cluster opt-in`"},
		{name: "a context and the opt-in", objects: []any{optedIn("shop")},
			in: Input{Cluster: "staging", Context: "staging"}, wantNS: []string{"shop"}},
		{name: "a kind cluster drill manages implies its context", objects: []any{optedIn()},
			in: Input{Cluster: "drill", ContextImplied: true}},
		{name: "a kind cluster drill manages still needs the opt-in",
			in: Input{Cluster: "drill", ContextImplied: true}, wantErr: "it has not opted in"},
		{name: "in the cluster, the opt-in alone decides", objects: []any{optedIn()},
			in: Input{Cluster: "here", InCluster: true}},
		{name: "in the cluster without the opt-in",
			in: Input{Cluster: "here", InCluster: true}, wantErr: "it has not opted in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			for _, o := range tc.objects {
				if err := cs.Tracker().Add(o.(*corev1.ConfigMap)); err != nil {
					t.Fatal(err)
				}
			}
			tc.in.Clientset = cs
			m, err := Check(context.Background(), tc.in)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("Check passed, want %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("Check: %v\nwant it to contain %q", err, tc.wantErr)
			}
			if tc.wantErr == "" && strings.Join(m.Namespaces, ",") != strings.Join(tc.wantNS, ",") {
				t.Errorf("namespaces %v, want %v", m.Namespaces, tc.wantNS)
			}
			if w := writes(cs); len(w) > 0 {
				t.Errorf("Check wrote to the cluster: %v", w)
			}
			if tc.in.Context == "" && !tc.in.ContextImplied && !tc.in.InCluster && len(cs.Actions()) > 0 {
				t.Errorf("without a context the guard must refuse before reaching the cluster: %v", cs.Actions())
			}
		})
	}
}

func TestCheckNotOptedInIsErrNotOptedIn(t *testing.T) {
	_, err := Check(context.Background(), Input{Clientset: fake.NewClientset(), Cluster: "c", Context: "c"})
	if !errors.Is(err, ErrNotOptedIn) {
		t.Fatalf("got %v, want ErrNotOptedIn", err)
	}
}

// A cluster that cannot be read is an error, not an opt-in and not "not
// opted in".
func TestCheckUnreadable(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	_, err := Check(context.Background(), Input{Clientset: cs, Cluster: "nowhere", Context: "nowhere"})
	if err == nil || errors.Is(err, ErrNotOptedIn) || !strings.Contains(err.Error(), "cluster nowhere: read drill's opt-in kube-system/drill-opt-in: connection refused") {
		t.Fatalf("got %v", err)
	}
}

func TestCheckWorkloadNamespace(t *testing.T) {
	cs := fake.NewClientset(
		namespace("drill-crashloop-pods-x1", map[string]string{LabelManagedBy: ManagedBy}),
		namespace("shop", nil),
		namespace("payments", nil),
		namespace("kube-system", nil),
		namespace("default", nil),
	)
	m := Marker{Namespaces: []string{"shop"}}
	for ns, want := range map[string]string{
		"drill-crashloop-pods-x1": "",
		"shop":                    "",
		"payments":                "refusing a workload fault in namespace payments: drill did not create it and the cluster's opt-in does not list it (drill cluster opt-in --namespace payments)",
		"kube-system":             "refusing a workload fault in namespace kube-system: it is one of the system's own namespaces",
		"kube-public":             "one of the system's own namespaces",
		"default":                 "one of the system's own namespaces",
		"missing":                 "namespace missing of a workload fault",
	} {
		err := CheckWorkloadNamespace(context.Background(), cs, m, ns)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", ns, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want %q", ns, err, want)
		}
	}
	// A system namespace listed in the marker anyway (written by hand) is
	// still refused.
	if err := CheckWorkloadNamespace(context.Background(), cs, Marker{Namespaces: []string{"kube-system"}}, "kube-system"); err == nil {
		t.Error("kube-system listed by hand passed")
	}
	if w := writes(cs); len(w) > 0 {
		t.Errorf("CheckWorkloadNamespace wrote: %v", w)
	}
}

func TestOptInReadOptOut(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	if _, err := Read(ctx, cs); !errors.Is(err, ErrNotOptedIn) {
		t.Fatalf("Read of a new cluster: %v", err)
	}
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	if err := OptIn(ctx, cs, Marker{Namespaces: []string{"shop", "web"}, By: "sre@host", At: at}); err != nil {
		t.Fatal(err)
	}
	// A second opt-in replaces the first.
	if err := OptIn(ctx, cs, Marker{Namespaces: []string{"shop"}, By: "sre@host", At: at}); err != nil {
		t.Fatal(err)
	}
	m, err := Read(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.String(), "opted in by sre@host at 2026-12-07T12:00:00Z; workload faults also in namespaces shop"; got != want {
		t.Errorf("marker %q, want %q", got, want)
	}
	cm, err := cs.CoreV1().ConfigMaps(MarkerNamespace).Get(ctx, MarkerName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Labels[LabelManagedBy] != "" {
		t.Error("the opt-in is the person's, not drill's: drill cleanup must not take it away")
	}
	if removed, err := OptOut(ctx, cs); err != nil || !removed {
		t.Fatalf("OptOut: %v, %v", removed, err)
	}
	if removed, err := OptOut(ctx, cs); err != nil || removed {
		t.Fatalf("second OptOut: %v, %v", removed, err)
	}
	if _, err := Read(ctx, cs); !errors.Is(err, ErrNotOptedIn) {
		t.Fatalf("Read after opt-out: %v", err)
	}
}

func TestOptInRefusesSystemNamespaces(t *testing.T) {
	for ns, want := range map[string]string{
		"kube-system": `namespace "kube-system": the system's own namespaces cannot be opted in to workload faults`,
		"default":     "the system's own namespaces",
		"Shop":        `namespace "Shop": a lowercase RFC 1123 label`,
	} {
		cs := fake.NewClientset()
		err := OptIn(context.Background(), cs, Marker{Namespaces: []string{"shop", ns}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", ns, err, want)
		}
		if len(cs.Actions()) > 0 {
			t.Errorf("%s: a refused opt-in reached the cluster: %v", ns, cs.Actions())
		}
	}
}
