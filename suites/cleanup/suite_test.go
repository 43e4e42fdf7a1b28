// Package cleanup_test is the cleanup suite: drill cleanup, run last, after
// the other suites installed what drill installs (the monitoring stack, the
// S3 store, Velero), leaves nothing drill created and the cluster whole.
//
// The cluster comes from the environment as framework.ProviderFromEnv says.
package cleanup_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("cleanup")

var _ = AfterSuite(framework.RemoveDrillBinary)

func TestCleanup(t *testing.T) { framework.RunClusterSuite(t, "cleanup") }
