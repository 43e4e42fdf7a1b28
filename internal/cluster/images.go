package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/drill-sre/drill/internal/timing"
)

// LoadImages implements ImageLoader. An image that a background make images
// is still building (ImagesBuildingEnv) is waited for. Each node is asked at once, with
// crictl inspecti, which of the images it lacks (by image ID); images absent
// from the local docker are left for the kubelet to pull. The images that
// the same nodes lack are saved together through the Engine API, in one
// archive that holds a layer they share once, and imported into those
// nodes' containerd concurrently.
func (k *Kind) LoadImages(ctx context.Context, images ...string) (LoadResult, error) {
	res := LoadResult{Loaded: map[string][]string{}}
	defer timing.Start(ctx, "load images", timing.Cluster)()
	if err := k.mustExist(ctx); err != nil {
		return res, err
	}
	all, err := k.kind.ListInternalNodes(k.name)
	if err != nil {
		return res, fmt.Errorf("list nodes of cluster %s: %w", k.name, err)
	}
	if err := k.awaitBackgroundImages(ctx, images); err != nil {
		return res, err
	}
	var local []string
	ids := map[string]string{}
	for _, image := range images {
		info, err := k.docker.ImageInspect(ctx, image)
		if client.IsErrNotFound(err) {
			k.logger.V(0).Infof(" • Image %s is not in the local docker: left for the kubelet to pull", image)
			res.Missing = append(res.Missing, image)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("load image %s: inspect local image: %w", image, err)
		}
		if _, seen := ids[image]; !seen {
			local = append(local, image)
		}
		ids[image] = info.ID
	}
	lacking := make([][]string, len(all))
	var wg sync.WaitGroup
	for i, n := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, image := range local {
				if id, err := nodeutils.ImageID(n, image); err != nil || id != ids[image] {
					lacking[i] = append(lacking[i], image)
				}
			}
		}()
	}
	wg.Wait()
	// Nodes that lack the same images get the same archive.
	var sets []string
	groups := map[string][]nodes.Node{}
	for i, n := range all {
		if len(lacking[i]) == 0 {
			continue
		}
		key := strings.Join(lacking[i], "\n")
		if groups[key] == nil {
			sets = append(sets, key)
		}
		groups[key] = append(groups[key], n)
	}
	for _, image := range local {
		if !slices.ContainsFunc(lacking, func(l []string) bool { return slices.Contains(l, image) }) {
			res.Present = append(res.Present, image)
		}
	}
	for _, key := range sets {
		set, targets := strings.Split(key, "\n"), groups[key]
		err := step(k.logger, fmt.Sprintf("Loading %s onto %d nodes", strings.Join(set, ", "), len(targets)), func() error {
			return k.loadImages(ctx, set, targets)
		})
		if err != nil {
			return res, err
		}
		for _, image := range set {
			for _, n := range targets {
				res.Loaded[image] = append(res.Loaded[image], n.String())
			}
		}
	}
	return res, nil
}

// loadImages saves images to one temporary archive and imports it into
// targets, concurrently.
func (k *Kind) loadImages(ctx context.Context, images []string, targets []nodes.Node) error {
	what := strings.Join(images, ", ")
	dir, err := os.MkdirTemp("", "drill-image-")
	if err != nil {
		return fmt.Errorf("load images %s: %w", what, err)
	}
	defer os.RemoveAll(dir)
	archive := dir + "/images.tar"
	if err := k.saveImages(ctx, images, archive); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(targets))
	for i, n := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = importImage(archive, n)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("load images %s onto node %s: %w", what, n, errs[i])
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (k *Kind) saveImages(ctx context.Context, images []string, dest string) error {
	start := time.Now()
	image := strings.Join(images, ", ")
	rc, err := k.docker.ImageSave(ctx, images)
	if err != nil {
		return fmt.Errorf("save image %s: %w", image, err)
	}
	defer rc.Close()
	f, err := os.Create(dest)
	if err != nil {
		return fmt.Errorf("save image %s: %w", image, err)
	}
	n, err := io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save image %s to %s: %w", image, dest, err)
	}
	k.logger.V(1).Infof("saved %s (%d MB) in %s", image, n>>20, time.Since(start).Round(100*time.Millisecond))
	return nil
}

func importImage(archive string, n nodes.Node) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	return nodeutils.LoadImageArchive(n, f)
}
