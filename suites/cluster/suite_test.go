// Package cluster_test is the cluster suite: it checks that the cluster
// drills run against is sound (nodes, etcd, API load balancer, scheduling
// over zones, DNS, pod networking) before any drill relies on it.
//
// The cluster comes from the environment:
//   - DRILL_KUBECONFIG (and DRILL_CONTEXT): an existing cluster, used as is;
//   - otherwise a kind cluster named DRILL_CLUSTER_NAME (default drill) from
//     DRILL_KIND_CONFIG (default ../../kind-config.yaml), created or reused,
//     with the agnhost and probe-app images loaded into its nodes.
//
// JUnit goes where the ginkgo CLI's --junit-report says, or else to
// $DRILL_REPORT_DIR/junit-cluster.xml (default ../../_output/reports). The
// runner (hack/run-suites.sh) collects node logs on failure with
// `drill cluster logs`.
package cluster_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("cluster")

func TestCluster(t *testing.T) { framework.RunClusterSuite(t, "cluster") }

// intervals of every wait: "<spec>/<wait>" or "default/<wait>".
var intervals = framework.Intervals{
	"default/wait-nodes":       {"5m", "5s"},
	"default/wait-etcd":        {"5m", "2s"},
	"default/wait-apiserver":   {"1m", "1s"},
	"default/wait-deployment":  {"3m", "2s"},
	"default/wait-dns":         {"1m", "2s"},
	"default/wait-pod-network": {"1m", "2s"},
	"default/wait-probe-app":   {"3m", "1s"},
}
