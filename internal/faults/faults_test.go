package faults

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/monitor"
)

func TestJoinExistingManifest(t *testing.T) {
	manifest := `spec:
  containers:
  - command:
    - etcd
    - --initial-advertise-peer-urls=https://172.18.0.6:2380
    - --initial-cluster=drill-control-plane=https://172.18.0.6:2380
    - --name=drill-control-plane
`
	got, err := joinExistingManifest(manifest, "a=https://1:2380,b=https://2:2380")
	if err != nil {
		t.Fatal(err)
	}
	want := `    - --initial-cluster=a=https://1:2380,b=https://2:2380
    - --initial-cluster-state=existing
    - --name=drill-control-plane`
	if !strings.Contains(got, want) {
		t.Errorf("got\n%s\nwant it to contain\n%s", got, want)
	}
	// A member that joined already has the state flag: it is not doubled.
	again, err := joinExistingManifest(got, "a=https://1:2380")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(again, "--initial-cluster-state"); n != 1 {
		t.Errorf("%d --initial-cluster-state flags, want 1:\n%s", n, again)
	}
	if _, err := joinExistingManifest("spec: {}\n", "a=b"); err == nil {
		t.Error("a manifest without --initial-cluster should be refused")
	}
}

func TestRefusedEviction(t *testing.T) {
	f := &drainZone{refused: map[string]int{}, env: Env{Logger: log.NoopLogger{}}}
	w := &errWriter{f: f}
	line := `error when evicting pods/"probe-app-1" -n "ns" (will retry after 2s): Cannot evict pod as it would violate the pod's disruption budget.` + "\n"
	// Written in two pieces, as a writer may be.
	_, _ = w.Write([]byte(line[:20]))
	_, _ = w.Write([]byte(line[20:] + line + "evicting pod ns/other\n"))
	if f.refused["ns/probe-app-1"] != 2 {
		t.Errorf("refused %v, want 2 for ns/probe-app-1", f.refused)
	}
}

func TestSeededIsReproducible(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		a, b := seeded(seed, 3), seeded(seed, 3)
		if a != b || a < 0 || a >= 3 {
			t.Fatalf("seed %d: %d then %d", seed, a, b)
		}
	}
}

func TestTakeover(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	ivs := []monitor.Interval{
		{From: s(0), To: s(12), Locator: "lease/x", Level: monitor.Info, Message: "cp1"},
		{From: s(12), To: s(15), Locator: "lease/x", Level: monitor.Info, Message: ""},
		{From: s(15), To: s(30), Locator: "lease/x", Level: monitor.Info, Message: "cp2"},
	}
	m, ok := takeover(Record{Intervals: ivs, Injected: s(10)}, "takeover", "lease/x")
	if !ok || m.Value != 5 || m.Detail != "cp1 → cp2" {
		t.Errorf("got %+v %v, want 5s cp1 → cp2", m, ok)
	}
	if _, ok := takeover(Record{Intervals: ivs, Injected: s(-1)}, "takeover", "lease/x"); ok {
		t.Error("no value before injection: no measurement")
	}
}

func TestVeleroRunNamesDifferWithinOneSecondAndAreDNSLabels(t *testing.T) {
	now := time.Unix(1765000000, 0)
	a, b := runName(now), runName(now)
	if a == b {
		t.Errorf("two runs in the same second share the name %s", a)
	}
	for _, n := range []string{a, b} {
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			t.Errorf("%s: %v", n, errs)
		}
	}
}
