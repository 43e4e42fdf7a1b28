package publish

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Made-up credentials, for a fake S3 that echoes them back.
const (
	testAccessKey = "drilltestaccesskey"
	testSecretKey = "drill-test-secret-key-0123456789"
	testToken     = "drill-test-session-token"
)

// awsEnv points the AWS SDK at endpoint with the made-up credentials, and
// away from this machine's own AWS files and instance role.
func awsEnv(t *testing.T, endpoint string) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           testAccessKey,
		"AWS_SECRET_ACCESS_KEY":       testSecretKey,
		"AWS_SESSION_TOKEN":           testToken,
		"AWS_REGION":                  "us-east-1",
		"AWS_ENDPOINT_URL_S3":         endpoint,
		"AWS_ENDPOINT_URL":            "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             "/nonexistent/aws/config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws/credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_MAX_ATTEMPTS":            "1", // no retries: errors at once
		// No container, web identity or role credentials of a CI runner.
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_ROLE_ARN":                           "",
	} {
		t.Setenv(k, v)
	}
}

// fakeS3 answers every request with status and an S3 error of code whose
// message repeats the request's Authorization header and security token:
// the worst a store could send back.
func fakeS3(t *testing.T, status int, code string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>you sent %s with %s (secret %s)</Message><RequestId>1</RequestId></Error>`,
			code, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token"), testSecretKey)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestS3Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		code   string
		want   string
	}{
		{"no bucket", http.StatusNotFound, "NoSuchBucket", `bucket "site" does not exist`},
		{"access denied", http.StatusForbidden, "AccessDenied", "access denied: check the credentials"},
		{"wrong secret", http.StatusForbidden, "SignatureDoesNotMatch", "access denied: check the credentials"},
		{"unknown key", http.StatusForbidden, "InvalidAccessKeyId", "access denied: check the credentials"},
		{"unknown key, versitygw", http.StatusNotFound, "XAdminUserNotFound", "access denied: check the credentials"},
		{"something else", http.StatusInternalServerError, "InternalError", "InternalError: you sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeS3(t, tc.status, tc.code)
			awsEnv(t, srv.URL)
			store, err := Open(context.Background(), "s3://site/drills/", Options{S3PathStyle: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := store.String(); got != "s3://site/drills" {
				t.Errorf("String() = %q", got)
			}
			ctx := context.Background()
			_, listErr := store.List(ctx)
			_, getErr := store.Get(ctx, "runs.json")
			putErr := store.Put(ctx, File{Key: "runs.json", Data: []byte("{}"), ContentType: "application/json"})
			_, pubErr := Publish(ctx, Input{Runs: t.TempDir(), Store: store})
			for _, err := range []error{listErr, getErr, putErr, pubErr} {
				if err == nil {
					t.Fatal("no error")
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "s3://site/drills/") {
					t.Errorf("error %q, want one saying %q and naming s3://site/drills/", msg, tc.want)
				}
				for _, secret := range []string{testAccessKey, testSecretKey, testToken} {
					if strings.Contains(msg, secret) {
						t.Errorf("error holds a credential %q: %s", secret, msg)
					}
				}
			}
		})
	}
}

func TestS3NoEndpoint(t *testing.T) {
	awsEnv(t, "http://127.0.0.1:1") // nothing listens there
	store, err := Open(context.Background(), "s3://site", Options{S3PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.List(context.Background())
	if err == nil || !strings.Contains(err.Error(), "list s3://site/") {
		t.Fatalf("error %v", err)
	}
	for _, secret := range []string{testAccessKey, testSecretKey, testToken} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error holds a credential: %v", err)
		}
	}
}

func TestS3NoCredentials(t *testing.T) {
	awsEnv(t, "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	_, err := Open(context.Background(), "s3://site", Options{})
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("error %v, want one saying there are no credentials", err)
	}
}

func TestParseS3URL(t *testing.T) {
	for url, want := range map[string][2]string{
		"s3://bucket":                {"bucket", ""},
		"s3://bucket/":               {"bucket", ""},
		"s3://bucket/drills":         {"bucket", "drills"},
		"s3://bucket/a/b/":           {"bucket", "a/b"},
		"s3://":                      {},
		"s3:///x":                    {},
		"s3://user@bucket/x":         {},
		"s3://bucket/a/../b":         {},
		"s3://bucket/x?versionId=1":  {},
		"https://bucket.example.com": {},
	} {
		b, p, err := parseS3URL(url)
		if (err == nil) != (want[0] != "") || b != want[0] || p != want[1] {
			t.Errorf("parseS3URL(%q) = %q, %q, %v; want %q, %q", url, b, p, err, want[0], want[1])
		}
	}
	for etag, want := range map[string]string{
		`"9e107d9d372bb6826bd81d3542a419d6"`:   "9e107d9d372bb6826bd81d3542a419d6",
		`"9E107D9D372BB6826BD81D3542A419D6"`:   "9e107d9d372bb6826bd81d3542a419d6",
		`"9e107d9d372bb6826bd81d3542a419d6-2"`: "",
		`"x"`:                                  "",
	} {
		if got := etagMD5(etag); got != want {
			t.Errorf("etagMD5(%s) = %q, want %q", etag, got, want)
		}
	}
}
