package run

import (
	"testing"

	"github.com/drill-sre/drill/internal/cli/clitest"
)

// A drill never runs against the kubeconfig's current context: without
// --context it is refused before the kubeconfig is read, so before anything
// is written to any cluster.
func TestRunRefusesWithoutContext(t *testing.T) {
	_, err := clitest.Run(t, NewCommand, "--provider", "existing", "--kubeconfig", "no-such-kubeconfig")
	want := "refusing to act on no-such-kubeconfig: no kubeconfig context was named, and drill never falls back to the kubeconfig's current context: pass --context"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
