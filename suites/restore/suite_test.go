package restore_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

var suite = framework.ClusterSuite("restore")

func TestRestore(t *testing.T) { framework.RunClusterSuite(t, "restore") }
