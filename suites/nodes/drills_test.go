package nodes_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/scenarios"
)

var _ = Describe("Node drills", func() {
	framework.DrillSpecs([]scenarios.FaultType{scenarios.FaultMemoryHog}, func() framework.DrillSpecInput {
		return framework.DrillSpecInput{Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, ReportDir: framework.ReportDir()}
	})
})
