// Package interrupt_test checks that a drill whose harness is stopped leaves
// the cluster as it found it. Every shipped fault type is run once through
// `drill run`, each with a way out: SIGINT or SIGHUP once the fault is in
// effect, or a SIGKILL at a named journal step followed by `drill recover`.
// The cluster is then inspected: nodes schedulable, three healthy etcd
// members, every API server ready, the Deployment's spec restored, the
// deleted namespace back, the memory hog gone. It also checks that the
// preflight refuses a drill on a cluster with a stopped node.
//
// It needs a kind cluster (the etcd drills edit control-plane nodes) and
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
