// Package workloads_test is the workloads suite: drills that break a workload (its pods crash-looping) and measure its availability and recovery.
//
// Its specs come from the shipped drill files (scenarios/*.yaml), one per
// drill, each serial and disruptive. The cluster comes from the environment
// as framework.ProviderFromEnv says. Each drill's report goes to
// $DRILL_REPORT_DIR/drills (default _output/reports/drills); `drill report`
// gathers them.
package workloads_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("workloads")

func TestWorkloads(t *testing.T) { framework.RunClusterSuite(t, "workloads") }
