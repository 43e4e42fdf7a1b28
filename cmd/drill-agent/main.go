// Command drill-agent is drill's node agent: what the short-lived
// privileged pod drill creates on a node runs, to put a node fault on and
// take it off again, on its own if the harness goes away. See
// internal/agent.
package main

import (
	"os"

	"github.com/drill-sre/drill/internal/agent"
)

func main() {
	os.Exit(agent.Main(os.Args[1:], os.Stderr))
}
