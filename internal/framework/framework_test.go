package framework

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

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
		"kill-control-plane-isolate":     "target:control-plane",
		"kill-control-plane-services":    "target:control-plane",
		"remove-etcd-member":             "target:control-plane",
		"velero-restore":                 "target:namespace",
		"zone-outage":                    "target:zone",
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

// The suites' JUnit carries no credential a failure or a report entry
// recorded: WriteJUnit redacts the Ginkgo report it writes.
func TestJUnitReportRedacted(t *testing.T) {
	secret := "GET https://user:pass@example.invalid/x: Authorization: Bearer abcDEF0123456789"
	report := types.Report{SuiteDescription: "s", SpecReports: types.SpecReports{{
		LeafNodeText: "drill", State: types.SpecStateFailed,
		Failure:                    types.Failure{Message: secret, Location: types.CodeLocation{FileName: "x.go", LineNumber: 1}},
		CapturedGinkgoWriterOutput: secret,
		ReportEntries:              types.ReportEntries{{Name: "rto", Value: types.WrapEntryValue(secret)}},
	}}}
	dir := t.TempDir()
	path := filepath.Join(dir, "junit.xml")
	if err := reporters.GenerateJUnitReportWithConfig(redactReport(report), path, reporters.JunitReportConfig{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"user:pass", "abcDEF0123456789"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("junit holds %q:\n%s", leak, b)
		}
	}
	if !strings.Contains(string(b), "https://REDACTED@example.invalid/x") {
		t.Errorf("the failure is gone with the secret:\n%s", b)
	}
	if report.SpecReports[0].Failure.Message != secret {
		t.Errorf("the report itself was changed")
	}
}
