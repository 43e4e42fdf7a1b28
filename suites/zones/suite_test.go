// Package zones_test is the zones suite: drills that take a zone's nodes out of service (drained through the Eviction API) and measure the workload's availability under its PodDisruptionBudget.
//
// Its specs come from the shipped drill files (scenarios/*.yaml), one per
// drill, each serial and disruptive. The cluster comes from the environment
// as framework.ProviderFromEnv says. Each drill's report goes to
// $DRILL_REPORT_DIR/drills (default _output/reports/drills); `drill report`
// gathers them.
package zones_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("zones")

func TestZones(t *testing.T) { framework.RunClusterSuite(t, "zones") }
