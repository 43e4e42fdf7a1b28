// Package guard_test is the guard suite: what keeps drill from hitting
// anything by mistake. Each spec runs drill as a user would and checks,
// from a record of every object the API serves taken before and after
// (framework.SnapshotCluster), that nothing was written: a drill refused
// without --context, on a cluster that has not opted in, or on a workload
// outside drill's namespaces; and `drill run --dry-run` over every shipped
// drill (label dry-run), which also leaves the images on each node as they
// were.
//
// The cluster comes from the environment, as for every suite
// (framework.ProviderFromEnv); the specs need a kind cluster. The dry-run
// spec also runs alone, on a cluster that is up and otherwise idle:
//
//	DRILL_DRY_RUN=1 LABEL_FILTER=dry-run ./hack/run-suites.sh ./suites/guard
package guard_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("guard")

var _ = AfterSuite(framework.RemoveDrillBinary)

func TestGuard(t *testing.T) { framework.RunClusterSuite(t, "guard") }
