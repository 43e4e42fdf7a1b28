// Package controlplane_test is the controlplane suite: drills that break the control plane (a node killed, an etcd member removed) and measure the API's recovery and the writes it kept.
//
// Its specs come from the shipped drill files (scenarios/*.yaml), one per
// drill, each serial and disruptive. The cluster comes from the environment
// as framework.ProviderFromEnv says. Each drill's report goes to
// $DRILL_REPORT_DIR/drills (default _output/reports/drills); `drill report`
// gathers them.
package controlplane_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("controlplane")

func TestControlPlane(t *testing.T) { framework.RunClusterSuite(t, "controlplane") }
