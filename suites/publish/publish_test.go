package publish_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/framework"
	"github.com/drill-sre/drill/internal/publish"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/reports/history/historytest"
)

// bucket is the bucket the site is published to, under prefix.
const (
	bucket = "drills"
	prefix = "nightly"
	dest   = "s3://" + bucket + "/" + prefix
)

var _ = Describe("drill publish to an S3 store", Ordered, Label("publish"), func() {
	var (
		store  framework.S3Store
		client *s3.Client
		hist   historytest.Want
	)

	BeforeAll(func(ctx SpecContext) {
		if framework.DryRunFromEnv() {
			Skip("DRILL_DRY_RUN: the publish suite would start a container")
		}
		store = framework.StartS3Store(ctx, framework.StartS3StoreInput{NamePrefix: "drill-publish-test-", Buckets: []string{bucket}})
		client = s3.New(s3.Options{
			Region:       fixtures.S3StoreRegion,
			BaseEndpoint: aws.String(store.Endpoint),
			UsePathStyle: true,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: store.AccessKey, SecretAccessKey: store.SecretKey}, nil
			}),
		})
		var err error
		hist, err = historytest.Write(GinkgoT().TempDir(), historytest.DefaultOptions())
		Expect(err).NotTo(HaveOccurred())
		// One run as drill report leaves it, with what is not published.
		run := filepath.Join(hist.Dir, hist.RunIDs[29])
		for rel, data := range map[string]string{
			"report.html":       "<!DOCTYPE html><title>report</title>",
			"report.md":         "# Drill report\n",
			"report.prom":       "drill_drill_pass{drill=\"a\"} 1\n",
			"junit-drills.xml":  "<testsuites/>\n",
			"artifacts/etcd.db": "snapshot",
		} {
			Expect(os.MkdirAll(filepath.Dir(filepath.Join(run, rel)), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(run, rel), []byte(data), 0o644)).To(Succeed())
		}
	})

	It("publishes every run and the history, each file with its content type", func(ctx SpecContext) {
		out, err := drill(ctx, store, "publish", "--to", dest, "--runs", hist.Dir, "--s3-path-style")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("Published to " + dest + ": "))
		Expect(out).To(ContainSubstring("Runs: 30 from " + hist.Dir + ", 0 published earlier; latest " + hist.RunIDs[29]))

		newest := "runs/" + hist.RunIDs[29] + "/"
		for key, contentType := range map[string]string{
			"index.html": "text/html; charset=utf-8",
			"drill-" + historytest.FlakyDrill + ".html": "text/html; charset=utf-8",
			publish.RunsIndexKey:                        "text/html; charset=utf-8",
			publish.LatestKey:                           "text/html; charset=utf-8",
			publish.ManifestKey:                         "application/json",
			newest + "report.json":                      "application/json",
			newest + "report.html":                      "text/html; charset=utf-8",
			newest + "report.md":                        "text/markdown; charset=utf-8",
			newest + "report.prom":                      "text/plain; version=0.0.4; charset=utf-8",
			newest + "junit-drills.xml":                 "application/xml",
			"runs/" + hist.RunIDs[0] + "/report.json":   "application/json", // gathered from its drills
		} {
			head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "/" + key)})
			Expect(err).NotTo(HaveOccurred(), "HEAD %s", key)
			Expect(aws.ToString(head.ContentType)).To(Equal(contentType), "the content type of %s", key)
		}
		_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "/" + newest + "artifacts/etcd.db")})
		Expect(err).To(HaveOccurred(), "artifacts are not published")

		var m publish.Manifest
		Expect(json.Unmarshal(get(ctx, client, publish.ManifestKey), &m)).To(Succeed())
		Expect(m.Latest).To(Equal(hist.RunIDs[29]))
		Expect(m.Runs).To(HaveLen(30))
		Expect(string(get(ctx, client, publish.LatestKey))).To(ContainSubstring(`url=../runs/` + hist.RunIDs[29] + `/report.html"`))
		Expect(string(get(ctx, client, "index.html"))).To(ContainSubstring(hist.RegressionRunID))
	})

	It("writes nothing the bucket already holds as it is", func(ctx SpecContext) {
		out, err := drill(ctx, store, "publish", "--to", dest, "--runs", hist.Dir, "--s3-path-style")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(MatchRegexp(`Published to ` + dest + `: 0 files written, \d+ unchanged`))
	})

	It("builds the history over the runs published from elsewhere, and writes only the new run and the pages", func(ctx SpecContext) {
		fresh := GinkgoT().TempDir()
		next := historytest.Report(historytest.DefaultOptions(), 30)
		id := next.Started.UTC().Format("20060102T150405Z")
		Expect(os.MkdirAll(filepath.Join(fresh, id), 0o755)).To(Succeed())
		Expect(reports.Write(filepath.Join(fresh, id, "report.json"), next)).To(Succeed())

		out, err := drill(ctx, store, "publish", "--to", dest, "--runs", fresh, "--s3-path-style", "--dry-run")
		Expect(err).NotTo(HaveOccurred())
		for _, line := range strings.Split(out, "\n") {
			if k, ok := strings.CutPrefix(line, "  runs/"); ok && k != "index.html" {
				Expect(k).To(HavePrefix(id+"/"), "only the new run's files are written")
			}
		}
		out, err = drill(ctx, store, "publish", "--to", dest, "--runs", fresh, "--s3-path-style")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("Runs: 1 from " + fresh + ", 30 published earlier; latest " + id))
		Expect(out).To(ContainSubstring("History: 6 pages over 31 runs"))
		var m publish.Manifest
		Expect(json.Unmarshal(get(ctx, client, publish.ManifestKey), &m)).To(Succeed())
		Expect(m.Latest).To(Equal(id))
		Expect(m.Runs).To(HaveLen(31))
	})

	It("fetches the published runs into an empty runs directory", func(ctx SpecContext) {
		runs := filepath.Join(GinkgoT().TempDir(), "runs")
		out, err := drill(ctx, store, "runs", "fetch", "--from", dest, "--root", runs, "--s3-path-style")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("Fetched 31 runs from " + dest + " into " + runs))
		out, err = drill(ctx, store, "report", "--history", runs)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("31 runs from " + hist.RunIDs[0]))
	})

	It("says when the bucket does not exist", func(ctx SpecContext) {
		out, err := drill(ctx, store, "publish", "--to", "s3://nosuchbucket/x", "--runs", hist.Dir, "--s3-path-style")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring(`bucket "nosuchbucket" does not exist`))
	})

	It("says when access is denied, and prints no credential", func(ctx SpecContext) {
		for _, tc := range []struct{ what, accessKey, secretKey string }{
			{"a wrong secret", store.AccessKey, "wrong-" + store.SecretKey[:20]},
			{"an unknown access key", "drillunknownkey", store.SecretKey},
		} {
			By(tc.what)
			wrong := store
			wrong.AccessKey, wrong.SecretKey = tc.accessKey, tc.secretKey
			out, err := drill(ctx, wrong, "publish", "--to", dest, "--runs", hist.Dir, "--s3-path-style")
			Expect(err).To(HaveOccurred())
			Expect(out).To(ContainSubstring("access denied: check the credentials"))
			Expect(out).To(ContainSubstring(dest))
			for _, secret := range []string{tc.accessKey, tc.secretKey, store.SecretKey} {
				Expect(out).NotTo(ContainSubstring(secret), "drill's output holds a credential")
			}
		}
	})
})

// drill runs the drill binary with args, with the AWS environment pointing
// at store (and away from this machine's own AWS files), and returns what
// it printed on stdout and stderr.
func drill(ctx context.Context, store framework.S3Store, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, framework.DrillBinary(), args...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+store.AccessKey, "AWS_SECRET_ACCESS_KEY="+store.SecretKey, "AWS_SESSION_TOKEN=",
		"AWS_REGION="+fixtures.S3StoreRegion, "AWS_ENDPOINT_URL_S3="+store.Endpoint, "AWS_ENDPOINT_URL=",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	GinkgoWriter.Printf("drill %s:\n%s", strings.Join(args, " "), out.String())
	return out.String(), err
}

// get downloads the site's object at key.
func get(ctx context.Context, client *s3.Client, key string) []byte {
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "/" + key)})
	Expect(err).NotTo(HaveOccurred(), "GET %s", key)
	defer obj.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(obj.Body)
	Expect(err).NotTo(HaveOccurred())
	return buf.Bytes()
}
