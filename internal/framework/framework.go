// Package framework holds the helpers Ginkgo specs are written with, shaped
// like cluster-api's test/framework: VerbNoun(ctx, VerbNounInput, intervals...)
// checks its input first, then acts, or waits with Eventually and a failure
// text built only when it fails. These helpers assert (they are only called
// from specs); the packages they build on return errors. DeployProbeApp and
// DeleteProbeApp return errors too, with the failure text inside: a drill
// deploys its workload outside a spec as well.
package framework

import (
	"fmt"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/scenarios"
)

// AgnhostImage is the workload image specs run: agnhost as entrypoint, with
// a shell, curl, dig and netcat beside it.
const AgnhostImage = "registry.k8s.io/e2e-test-images/agnhost:2.56"

// The closed vocabulary of spec labels: filter runs with
// `ginkgo --label-filter`.
const (
	// LabelCluster marks specs that check the cluster itself is sound.
	LabelCluster = "cluster"
	// LabelDisruptive marks specs that break something in the cluster.
	LabelDisruptive = "Disruptive"
	// LabelSerial marks specs that must run alone; every disruptive one.
	LabelSerial = "Serial"
	// LabelInterrupt marks specs that interrupt a drill to check its revert.
	LabelInterrupt = "interrupt"
	// LabelKillMatrix marks the SIGKILL matrix (suites/killmatrix): hours
	// long, run by make kill-matrix, never by make test.
	LabelKillMatrix = "kill-matrix"
	// LabelGuard marks the specs of the guard: what drill refuses to touch.
	LabelGuard = "guard"
	// LabelDryRun marks specs that check a dry run (DRILL_DRY_RUN, drill
	// run --dry-run) and only read the cluster: with DRILL_DRY_RUN set,
	// they and the drill specs (which then plan) are the only specs that
	// run.
	LabelDryRun = "dry-run"
)

// FaultLabel is the label of a drill's fault, "fault:<type>".
func FaultLabel(t scenarios.FaultType) string { return "fault:" + string(t) }

// TargetLabel is the label of what a drill acts on: "target:control-plane",
// "target:worker", "target:deployment", "target:etcd" or "target:namespace",
// from its fault's spec (faults.Spec.Target). A fault that acts on nodes is
// labelled with the drill's target role.
func TargetLabel(sc *scenarios.Scenario) string {
	spec, ok := faults.Lookup(sc.Fault.Type)
	switch {
	case !ok:
		return "target:" + string(sc.Target.Role) // refused by SpecLabels
	case spec.DefaultRole != "" && sc.Target.Role != "":
		return "target:" + string(sc.Target.Role)
	}
	return "target:" + spec.Target
}

// knownLabels are the spec labels: the kinds of spec, and each registered
// fault's fault and target labels, the roles of the nodes a fault may act
// on included.
var knownLabels = func() map[string]bool {
	known := map[string]bool{LabelCluster: true, LabelDisruptive: true, LabelSerial: true, LabelInterrupt: true, LabelKillMatrix: true, LabelGuard: true, LabelDryRun: true,
		"target:" + string(scenarios.RoleControlPlane): true, "target:" + string(scenarios.RoleWorker): true}
	for _, s := range faults.Specs() {
		known[FaultLabel(s.Type)] = true
		known["target:"+s.Target] = true
	}
	return known
}()

// SpecLabels returns Ginkgo labels, refusing any outside the vocabulary so that
// filters stay meaningful.
func SpecLabels(names ...string) ginkgo.Labels {
	for _, n := range names {
		if !knownLabels[n] {
			panic(fmt.Sprintf("framework: unknown spec label %q", n))
		}
	}
	return ginkgo.Label(names...)
}

// Intervals holds the timeout and polling interval of each wait, keyed
// "<spec>/<wait>", with "default/<wait>" as the fallback; values are
// duration strings, as Eventually takes them.
type Intervals map[string][]string

// Get returns the intervals of a wait for a spec as Eventually arguments.
// A wait with no entry at all is a bug in the suite and fails the spec.
func (i Intervals) Get(spec, wait string) []interface{} {
	v, ok := i[spec+"/"+wait]
	if !ok {
		v, ok = i["default/"+wait]
	}
	if !ok {
		ginkgo.Fail(fmt.Sprintf("no intervals for %s/%s nor default/%s", spec, wait, wait))
	}
	out := make([]interface{}, 0, len(v))
	for _, s := range v {
		d, err := time.ParseDuration(s)
		if err != nil {
			ginkgo.Fail(fmt.Sprintf("intervals %s/%s: %v", spec, wait, err))
		}
		out = append(out, d)
	}
	return out
}
