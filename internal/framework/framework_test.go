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
