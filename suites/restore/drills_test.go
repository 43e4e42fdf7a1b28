package restore_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/drill-sre/drill/internal/framework"
)

// Disaster recovery: the data is lost and restored from a backup.
var _ = Describe("Restore drills", func() {
	framework.DrillSpecs("restore", func() framework.DrillSpecInput {
		return framework.DrillSpecInput{Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, ReportDir: framework.ReportDir()}
	})
})
