package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/client"
	"sigs.k8s.io/kind/pkg/log"
)

// ImagesBuildingEnv names the PID file of a `make images` that builds, in
// the background, the images only later drills need, while the cluster
// comes up and the first drills run (hack/run-suites.sh with IMAGES_LATER,
// as make drill does). Its log is beside it, with .log for .pid. LoadImages
// waits for an image the local docker lacks while that build runs.
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

func (b *backgroundBuild) log() string {
	return strings.TrimSuffix(b.pidFile, ".pid") + ".log"
}

// awaitImages waits while some of images are missing (present says) and
// building says the build that makes them still runs, saying every
// sayEvery what it waits for. It returns an error naming the images that
// are still missing once the build ended.
func awaitImages(ctx context.Context, logger log.Logger, images []string, present func(context.Context, string) (bool, error),
	building func() bool, buildLog string, poll time.Duration) error {
	const sayEvery = 30 * time.Second
	start := time.Now()
	var said time.Time
	for {
		var missing []string
		for _, image := range images {
			ok, err := present(ctx, image)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, image)
			}
		}
		if len(missing) == 0 {
			if !said.IsZero() {
				logger.V(0).Infof(" ✓ The background build made %s (waited %s)", strings.Join(images, ", "), time.Since(start).Round(time.Second))
			}
			return nil
		}
		if !building() {
			if said.IsZero() {
				return nil // no build under way: LoadImages says what is missing
			}
			return fmt.Errorf("images %s are missing: the background make images that was building them ended; see %s", strings.Join(missing, ", "), buildLog)
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

// awaitBackgroundImages waits for the images the background build (if
// any) is still making.
func (k *Kind) awaitBackgroundImages(ctx context.Context, images []string) error {
	b := backgroundBuildFromEnv()
	if b == nil {
		return nil
	}
	present := func(ctx context.Context, image string) (bool, error) {
		_, err := k.docker.ImageInspect(ctx, image)
		if client.IsErrNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("inspect local image %s: %w", image, err)
		}
		return true, nil
	}
	err := awaitImages(ctx, k.logger, images, present, b.running, b.log(), 5*time.Second)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("load images: %w", err)
	}
	return err
}
