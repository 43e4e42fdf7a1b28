// Package guard_test is the guard suite: it checks what keeps drill from
// hitting anything by mistake. Its first spec (label dry-run) runs
// `drill run --dry-run` over every shipped drill and checks that the
// cluster is left exactly as it was: every object's resourceVersion but
// Leases' and Events', and the images on each node.
//
// The cluster comes from the environment, as for every suite
// (framework.ProviderFromEnv); the dry-run spec needs a kind cluster. Run
// it alone, on a cluster that is up and otherwise idle:
//
//	DRILL_DRY_RUN=1 LABEL_FILTER=dry-run ./hack/run-suites.sh ./suites/guard
package guard_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("guard")

func TestGuard(t *testing.T) { framework.RunClusterSuite(t, "guard") }
