package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/docker/docker/client"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/drill-sre/drill/internal/timing"
)

// LoadImages implements ImageLoader. An image present in the local docker is
// saved once through the Engine API and imported into the containerd of each
// node that does not already hold that image ID (checked with crictl
// inspecti). Images absent locally are left for the kubelet to pull.
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
	for _, image := range images {
		local, err := k.docker.ImageInspect(ctx, image)
		if client.IsErrNotFound(err) {
			k.logger.V(0).Infof(" • Image %s is not in the local docker: left for the kubelet to pull", image)
			res.Missing = append(res.Missing, image)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("load image %s: inspect local image: %w", image, err)
		}
		var lacking []nodes.Node
		for _, n := range all {
			if id, err := nodeutils.ImageID(n, image); err != nil || id != local.ID {
				lacking = append(lacking, n)
			}
		}
		if len(lacking) == 0 {
			res.Present = append(res.Present, image)
			continue
		}
		err = step(k.logger, fmt.Sprintf("Loading image %s onto %d nodes", image, len(lacking)), func() error {
			return k.loadImage(ctx, image, lacking)
		})
		if err != nil {
			return res, err
		}
		for _, n := range lacking {
			res.Loaded[image] = append(res.Loaded[image], n.String())
		}
	}
	return res, nil
}

// loadImage saves image to a temporary archive and imports it into nodes,
// concurrently.
func (k *Kind) loadImage(ctx context.Context, image string, targets []nodes.Node) error {
	dir, err := os.MkdirTemp("", "drill-image-")
	if err != nil {
		return fmt.Errorf("load image %s: %w", image, err)
	}
	defer os.RemoveAll(dir)
	archive := dir + "/image.tar"
	if err := k.saveImage(ctx, image, archive); err != nil {
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
				errs[i] = fmt.Errorf("load image %s onto node %s: %w", image, n, errs[i])
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (k *Kind) saveImage(ctx context.Context, image, dest string) error {
	start := time.Now()
	rc, err := k.docker.ImageSave(ctx, []string{image})
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
