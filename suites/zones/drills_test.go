package zones_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/drill-sre/drill/internal/framework"
)

var _ = Describe("Zones drills", func() {
	framework.DrillSpecs("zones", func() framework.DrillSpecInput {
		return framework.DrillSpecInput{Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, ReportDir: framework.ReportDir()}
	})
})
