package framework

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/drill-sre/drill/fixtures"
)

// S3Store is an S3-compatible store (versitygw, the image the drills'
// Velero writes to) run in Docker on this host, for the specs that need a
// bucket and no cluster: drill publish.
type S3Store struct {
	// Endpoint is http://127.0.0.1:PORT; the store wants path-style
	// addressing and the region fixtures.S3StoreRegion.
	Endpoint string
	// AccessKey and SecretKey are its root user's, made up at random.
	AccessKey, SecretKey string
	// Container is the Docker container's name.
	Container string
}

// StartS3StoreInput is the input of StartS3Store.
type StartS3StoreInput struct {
	// NamePrefix begins the container's name; a random suffix follows.
	// Default "drill-s3-test-".
	NamePrefix string
	// Buckets are created empty.
	Buckets []string
	// Timeout bounds the wait for the store to answer. Default 1m.
	Timeout time.Duration
}

// StartS3Store starts fixtures.S3StoreImage in Docker, listening on
// 127.0.0.1 only, with random root keys and input.Buckets, waits for it to
// answer, and removes the container when the spec (or the container
// holding it) ends. It fails the spec, never skips it, when Docker or the
// image is missing: a suite that needs the store must not pass without it.
func StartS3Store(ctx context.Context, input StartS3StoreInput) S3Store {
	prefix := input.NamePrefix
	if prefix == "" {
		prefix = "drill-s3-test-"
	}
	timeout := input.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	docker := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
		}
		return strings.TrimSpace(string(out)), nil
	}
	_, err := docker("version", "--format", "{{.Server.Version}}")
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "this suite runs an S3 store in Docker: Docker must be installed and running")
	_, err = docker("image", "inspect", "--format", "{{.Id}}", fixtures.S3StoreImage)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(),
		"this suite runs the S3 store's image %s, which is not present: make images (or images/build.sh versitygw) builds it", fixtures.S3StoreImage)

	s := S3Store{AccessKey: "drill" + randomHex(8), SecretKey: randomHex(20), Container: prefix + randomHex(4)}
	mkdirs := "/store/meta"
	for _, b := range input.Buckets {
		mkdirs += " /store/data/" + b
	}
	// As fixtures.VeleroS3Store runs it: buckets are directories of the
	// posix backend, metadata in a sidecar directory (no xattrs needed).
	_, err = docker("run", "--detach", "--rm", "--name", s.Container, "--publish", "127.0.0.1::7070",
		"--env", "ROOT_ACCESS_KEY="+s.AccessKey, "--env", "ROOT_SECRET_KEY="+s.SecretKey,
		"--entrypoint", "sh", fixtures.S3StoreImage, "-c",
		"mkdir -p /store/data "+mkdirs+" && exec versitygw --port :7070 --region "+fixtures.S3StoreRegion+
			" --health /health posix --sidecar /store/meta /store/data")
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "start the S3 store")
	ginkgo.DeferCleanup(func(ctx context.Context) {
		out, err := exec.CommandContext(ctx, "docker", "rm", "--force", s.Container).CombinedOutput()
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "remove the S3 store's container %s: %s", s.Container, out)
	})
	port, err := docker("port", s.Container, "7070/tcp")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	// "127.0.0.1:32768", maybe followed by the same for IPv6.
	s.Endpoint = "http://" + strings.Fields(port)[0]
	ginkgo.By(fmt.Sprintf("S3 store %s at %s", s.Container, s.Endpoint))
	gomega.Eventually(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/health", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /health: %s", resp.Status)
		}
		return nil
	}).WithTimeout(timeout).WithPolling(250*time.Millisecond).Should(gomega.Succeed(),
		func() string {
			out, _ := exec.Command("docker", "logs", "--tail", "20", s.Container).CombinedOutput()
			return fmt.Sprintf("the S3 store %s did not answer; its log:\n%s", s.Container, out)
		})
	return s
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
