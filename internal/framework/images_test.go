package framework

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/faults"
)

// The node image preloads exactly the images drills run: images/build.sh's
// PRELOAD_IMAGES, with the versions files' values, are the Go lists the
// fixtures, Velero and monitoring load.
func TestNodeImagePreloadsTheDrillImages(t *testing.T) {
	script := `cd "$1" && source images/versions.sh && source images/versions-backup.sh && source images/versions-monitoring.sh &&
eval "$(sed -n '/^PRELOAD_IMAGES=(/,/)$/p' images/build.sh)" && printf '%s\n' "${PRELOAD_IMAGES[@]}"`
	out, err := exec.Command("bash", "-c", script, "bash", RepoRoot).CombinedOutput()
	if err != nil {
		t.Fatalf("read PRELOAD_IMAGES from images/build.sh: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	want := slices.Concat(FixtureImages, faults.VeleroImages, fixtures.MonitoringImages)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("images/build.sh preloads %q\nthe drills load %q", got, want)
	}
}
