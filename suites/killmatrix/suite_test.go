// Package killmatrix_test is the SIGKILL matrix: every shipped fault type,
// its harness killed (SIGKILL) at every journal step, then `drill recover`,
// then a check that the cluster is whole. It also runs each case with the
// disk journal deleted (for the faults whose cluster copy can be trusted)
// and as a machine restart (every node container restarted after the
// kill). It takes hours: `make kill-matrix`, never part of `make test`.
package killmatrix_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("killmatrix")

func TestKillMatrix(t *testing.T) { framework.RunClusterSuite(t, "killmatrix") }
