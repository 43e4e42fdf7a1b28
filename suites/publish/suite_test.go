// Package publish_test is the publish suite: drill publish and drill runs
// fetch against an S3-compatible store (versitygw, as the drills' Velero
// uses) that it runs in Docker on this host, listening on 127.0.0.1 only.
//
// It needs no Kubernetes cluster, and brings none up: run it alone with
// `go tool ginkgo ./suites/publish`. It needs Docker and the store's image
// (make images builds it), and fails, never skips, without them. In a dry
// run (DRILL_DRY_RUN) its specs are skipped, as every spec that is not a
// drill's is: it would start a container.
package publish_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/drill-sre/drill/internal/framework"
)

func TestPublish(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "publish suite")
}

var _ = AfterSuite(framework.RemoveDrillBinary)

// The JUnit report goes to the run's directory when hack/run-suites.sh
// names one (it also passes --junit-report, and WriteJUnit then writes
// nothing); run alone, the suite makes no run directory for it.
var _ = ReportAfterSuite("junit", func(report Report) {
	if os.Getenv("DRILL_REPORT_DIR") != "" {
		framework.WriteJUnit(report, "publish")
	}
})
