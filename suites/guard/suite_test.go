// Package guard_test is the guard suite: what drill refuses to touch. Each
// spec runs drill as a user would and checks, from a record of every object
// the API serves taken before and after, that the refusal came before any
// write to the cluster.
//
// The cluster comes from the environment as framework.ProviderFromEnv says.
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
