package cluster

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/kind/pkg/log"
)

// ImagesBuildingEnv names the PID file of a `make images` that builds, in
// the background, the images only later drills need, while the cluster
// comes up and the first drills run (hack/run-suites.sh with IMAGES_LATER,
// as make drill does). Beside it, with .log, .plan and .done for .pid: its
// log, the images it makes and those it has made (images/build.sh with
// IMAGES_REPORT). LoadImages waits for an image of the plan that is not
// done yet while that build runs.
const ImagesBuildingEnv = "DRILL_IMAGES_BUILDING"

// backgroundBuild is the build ImagesBuildingEnv names; nil without one.
type backgroundBuild struct {
	pidFile string
}

func backgroundBuildFromEnv() *backgroundBuild {
	if f := os.Getenv(ImagesBuildingEnv); f != "" {
		return &backgroundBuild{pidFile: f}
	}
	return nil
}

// running says whether the build's process is still alive.
func (b *backgroundBuild) running() bool {
	raw, err := os.ReadFile(b.pidFile)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}

func (b *backgroundBuild) file(ext string) string {
	return strings.TrimSuffix(b.pidFile, ".pid") + ext
}

// lines reads a list of image names, one a line; none when it is absent.
func (b *backgroundBuild) lines(ext string) []string {
	raw, err := os.ReadFile(b.file(ext))
	if err != nil {
		return nil
	}
	return strings.Fields(string(raw))
}

// pending is which of images the build plans and has not made yet.
func (b *backgroundBuild) pending(images []string) []string {
	plan, done := b.lines(".plan"), b.lines(".done")
	var out []string
	for _, image := range images {
		if slices.Contains(plan, image) && !slices.Contains(done, image) {
			out = append(out, image)
		}
	}
	return out
}

// awaitImages waits while pending (the images still to be made) is not
// empty and running (the build that makes them) holds, saying every 30 s
// what it waits for. Once the build ended with images still pending, it
// returns an error naming them and the build's log.
func awaitImages(ctx context.Context, logger log.Logger, pending func() []string, running func() bool, buildLog string, poll time.Duration) error {
	const sayEvery = 30 * time.Second
	start := time.Now()
	var said time.Time
	for {
		// Whether it runs is read first: a build that makes the last
		// image and ends in between is then seen done, not failed.
		alive := running()
		missing := pending()
		if len(missing) == 0 {
			if !said.IsZero() {
				logger.V(0).Infof(" ✓ The background build made what was waited for (%s)", time.Since(start).Round(time.Second))
			}
			return nil
		}
		if !alive {
			return fmt.Errorf("images %s are missing: the background make images that was to build them ended; see %s", strings.Join(missing, ", "), buildLog)
		}
		if time.Since(said) >= sayEvery {
			logger.V(0).Infof(" • Waiting for %s, which make images is building in the background (%s so far; log %s)",
				strings.Join(missing, ", "), time.Since(start).Round(time.Second), buildLog)
			said = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for images %s: %w", strings.Join(missing, ", "), ctx.Err())
		case <-time.After(poll):
		}
	}
}

// awaitBackgroundImages waits for the images of a background build (if
// any) that it has not made yet.
func (k *Kind) awaitBackgroundImages(ctx context.Context, images []string) error {
	b := backgroundBuildFromEnv()
	if b == nil {
		return nil
	}
	pending := func() []string { return b.pending(images) }
	if err := awaitImages(ctx, k.logger, pending, b.running, b.file(".log"), 5*time.Second); err != nil {
		return fmt.Errorf("load images: %w", err)
	}
	return nil
}
