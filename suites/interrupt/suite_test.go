// Package interrupt_test checks that a drill stopped with Ctrl-C leaves the
// cluster as it found it: `drill run` is started on a drill, interrupted once
// the fault is in effect, and the cluster is then inspected: nodes
// uncordoned, three healthy etcd members, the Deployment's spec restored.
//
// It needs a kind cluster (the etcd drill edits a control-plane node) and
// the go toolchain (it builds drill). The cluster comes from the environment
// as framework.ProviderFromEnv says.
package interrupt_test

import (
	"testing"

	"github.com/drill-sre/drill/internal/framework"
)

// suite is the cluster the specs run against.
var suite = framework.ClusterSuite("interrupt")

func TestInterrupt(t *testing.T) { framework.RunClusterSuite(t, "interrupt") }
