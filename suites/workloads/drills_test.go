package workloads_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/drill-sre/drill/internal/framework"
)

var _ = Describe("Workloads drills", func() {
	framework.DrillSpecs("workloads", func() framework.DrillSpecInput {
		return framework.DrillSpecInput{Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, ReportDir: framework.ReportDir()}
	})
})
