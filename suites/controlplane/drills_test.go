package controlplane_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/drill-sre/drill/internal/framework"
)

var _ = Describe("ControlPlane drills", func() {
	framework.DrillSpecs("controlplane", func() framework.DrillSpecInput {
		return framework.DrillSpecInput{Provider: suite.Provider, RESTConfig: suite.RESTConfig, Clientset: suite.Clientset, ReportDir: framework.ReportDir()}
	})
})
