// Package nodes_test is the nodes suite: drills that stress a node (its
// memory filled by a hog) and check that the alerts meant for it fire,
// reach their receiver and resolve.
//
// Its specs come from the shipped drill files (scenarios/*.yaml), one per
// drill, each serial and disruptive. The cluster comes from the environment
// as framework.ProviderFromEnv says, and the alerts from drill's monitoring
// or the Prometheus framework.MonitoringFromEnv names. Each drill's report
// goes to $DRILL_REPORT_DIR/drills (default _output/reports/drills); `drill
// report` gathers them.
package nodes_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("nodes")

func TestNodes(t *testing.T) { framework.RunClusterSuite(t, "nodes") }
