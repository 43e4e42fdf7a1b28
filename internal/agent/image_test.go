package agent

import (
	"os"
	"regexp"
	"testing"
)

// images/build.sh builds the image Pod runs.
func TestImageIsBuilt(t *testing.T) {
	src, err := os.ReadFile("../../images/build.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^DRILL_AGENT_IMAGE=(\S+)`).FindSubmatch(src)
	if m == nil || string(m[1]) != Image {
		t.Errorf("images/build.sh builds DRILL_AGENT_IMAGE %q, want %s", m, Image)
	}
	if !regexp.MustCompile(`(?m)^all=\(.*\bdrill-agent\b.*\)`).Match(src) {
		t.Errorf("images/build.sh's all=(...) leaves out drill-agent: make images would not build it")
	}
}
