package framework

import (
	"testing"

	"github.com/drill-sre/drill/scenarios"
)

// Every shipped drill gets labels from the vocabulary: DrillSpecs panics
// while building a suite's tree otherwise, which only a cluster run shows.
func TestShippedDrillLabels(t *testing.T) {
	all, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		for _, l := range []string{FaultLabel(sc.Fault.Type), TargetLabel(sc)} {
			if !knownLabels[l] {
				t.Errorf("drill %s: label %q is not in the vocabulary", sc.Name, l)
			}
		}
	}
}

// The labels of the shipped drills are those the suites have always been
// filtered with.
func TestShippedDrillTargetLabels(t *testing.T) {
	want := map[string]string{
		"crashloop-pods":                 "target:deployment",
		"drain-zone":                     "target:worker",
		"drain-zone-blocked":             "target:worker",
		"etcd-restore-quorum-loss":       "target:etcd",
		"etcd-restore-total-loss":        "target:etcd",
		"kill-control-plane-etcd-leader": "target:control-plane",
		"remove-etcd-member":             "target:control-plane",
		"velero-restore":                 "target:namespace",
	}
	all, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		if got, ok := want[sc.Name]; !ok {
			t.Errorf("drill %s: no label in this test", sc.Name)
		} else if l := TargetLabel(sc); l != got {
			t.Errorf("drill %s: %s, want %s", sc.Name, l, got)
		}
	}
	// A node fault without a role, built in Go: its spec's.
	hog := &scenarios.Scenario{Fault: scenarios.Fault{Type: scenarios.FaultMemoryHog}}
	if l := TargetLabel(hog); l != "target:worker" {
		t.Errorf("memory-hog without a role: %s", l)
	}
}
