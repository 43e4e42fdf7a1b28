package cleanup

import (
	"testing"

	"github.com/drill-sre/drill/internal/cli/clitest"
)

// cleanup deletes: never on the kubeconfig's current context.
func TestCleanupRefusesWithoutContext(t *testing.T) {
	_, err := clitest.Run(t, NewCommand, "--provider", "existing", "--kubeconfig", "no-such-kubeconfig")
	want := "refusing to act on no-such-kubeconfig: no kubeconfig context was named, and drill never falls back to the kubeconfig's current context: pass --context"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
