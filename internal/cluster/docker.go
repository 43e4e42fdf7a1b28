package cluster

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// kind's container labels (sigs.k8s.io/kind/pkg/cluster/internal/providers/docker).
const (
	kindClusterLabel = "io.x-k8s.kind.cluster"
	kindRoleLabel    = "io.x-k8s.kind.role"
	// kindAPIServerPort is the API server port inside kind's containers.
	kindAPIServerPort = "6443/tcp"
)

// hostSetupHint tells how to get a working Docker engine on a drill host.
const hostSetupHint = "run hack/host-setup.sh to install and start it"

// newDockerClient returns a Docker Engine API client configured from the
// environment (DOCKER_HOST...), negotiating the API version with the daemon.
func newDockerClient() (*client.Client, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return c, nil
}

// checkDocker reports, with a way out, a Docker engine that does not answer
// or a docker CLI that is missing (kind drives docker through its CLI).
func checkDocker(ctx context.Context, c client.APIClient) error {
	if _, err := c.Ping(ctx); err != nil {
		return fmt.Errorf("docker engine at %s is unreachable (%s): %w", c.DaemonHost(), hostSetupHint, err)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("docker CLI not found in PATH, kind needs it (%s): %w", hostSetupHint, err)
	}
	return nil
}

// clusterContainer inspects a container and checks that it belongs to the
// kind cluster called cluster.
func clusterContainer(ctx context.Context, c client.APIClient, cluster, name string) (container.InspectResponse, error) {
	info, err := c.ContainerInspect(ctx, name)
	if err != nil {
		return info, fmt.Errorf("inspect container %s: %w", name, err)
	}
	if info.Config == nil || info.Config.Labels[kindClusterLabel] != cluster {
		return info, fmt.Errorf("container %s is not a node of kind cluster %q", name, cluster)
	}
	return info, nil
}
