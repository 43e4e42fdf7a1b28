package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/drill-sre/drill/internal/redact"
)

// DefaultS3Region is the region used when the AWS environment and files
// name none: what S3-compatible stores (versitygw, MinIO) expect.
const DefaultS3Region = "us-east-1"

// S3 is a site under a prefix of an S3 bucket, served by the bucket's
// static website hosting, a CDN in front of it, or any S3-compatible store.
type S3 struct {
	client         *s3.Client
	bucket, prefix string
	// secrets are the credentials' values, taken out of every error.
	secrets []string
}

var _ Store = (*S3)(nil)

// NewS3 returns the site at url, s3://BUCKET[/PREFIX]. Everything else
// comes from the AWS SDK's default configuration (config.LoadDefaultConfig):
// credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN), AWS_PROFILE and the shared files, SSO, or the
// instance's role; the region from AWS_REGION or the profile, else
// DefaultS3Region; the endpoint from AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL, else AWS's. The credentials are read here, so that
// missing ones are said at once.
func NewS3(ctx context.Context, url string, o Options) (*S3, error) {
	bucket, prefix, err := parseS3URL(url)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: load the AWS configuration: %w", url, err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultS3Region
	}
	s := &S3{bucket: bucket, prefix: prefix}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("%s: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", url)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (%s)", url, s.scrub(err.Error()))
	}
	for _, v := range []string{creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken} {
		if v != "" {
			s.secrets = append(s.secrets, v)
		}
	}
	s.client = s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.UsePathStyle = o.S3PathStyle
	})
	return s, nil
}

// parseS3URL splits s3://BUCKET[/PREFIX] into the bucket and the prefix,
// without slashes at either end.
func parseS3URL(url string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(url, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%s is not an s3:// URL", url)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	switch {
	case bucket == "":
		return "", "", fmt.Errorf("%s names no bucket: want s3://BUCKET/PREFIX", url)
	case strings.ContainsAny(bucket, "?#@:") || strings.ContainsAny(prefix, "?#"):
		return "", "", fmt.Errorf("%s: want s3://BUCKET/PREFIX, with no user, port, query or fragment", url)
	case prefix != "" && checkKey(prefix) != nil:
		return "", "", fmt.Errorf("%s: the prefix %q is not a clean path", url, prefix)
	}
	return bucket, prefix, nil
}

func (s *S3) String() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + s.prefix
}

// key returns the object key of a site key.
func (s *S3) key(k string) string {
	if s.prefix == "" {
		return k
	}
	return s.prefix + "/" + k
}

// List lists every object under the prefix.
func (s *S3) List(ctx context.Context) (map[string]Object, error) {
	out := map[string]Object{}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)}
	if s.prefix != "" {
		in.Prefix = aws.String(s.prefix + "/")
	}
	pages := s3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.error("list", s.String()+"/", err)
		}
		for _, obj := range page.Contents {
			k := strings.TrimPrefix(aws.ToString(obj.Key), s.key(""))
			if checkKey(k) != nil {
				continue // not one this site could have written ("a//b")
			}
			out[k] = Object{Size: aws.ToInt64(obj.Size), MD5: etagMD5(aws.ToString(obj.ETag))}
		}
	}
	return out, nil
}

// etagMD5 returns the MD5 an ETag is, or "" when it is not 32 hex digits:
// the ETag of an object uploaded in parts ("…-3") is not its content's
// MD5, and the object is then uploaded again. (A KMS-encrypted object's
// ETag looks like an MD5 and is not one: it never matches, so the object
// is uploaded again too.)
func etagMD5(etag string) string {
	etag = strings.ToLower(strings.Trim(etag, `"`))
	if len(etag) != 32 {
		return ""
	}
	for _, r := range etag {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return ""
		}
	}
	return etag
}

// Get downloads the object at key.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	url := s.String() + "/" + key
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(key))})
	if err != nil {
		return nil, s.error("download", url, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, s.error("download", url, err)
	}
	return data, nil
}

// Put uploads f, with its content type and cache control.
func (s *S3) Put(ctx context.Context, f File) error {
	if err := checkKey(f.Key); err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.key(f.Key)),
		Body:          bytes.NewReader(f.Data),
		ContentLength: aws.Int64(int64(len(f.Data))),
	}
	if f.ContentType != "" {
		in.ContentType = aws.String(f.ContentType)
	}
	if f.CacheControl != "" {
		in.CacheControl = aws.String(f.CacheControl)
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return s.error("upload", s.String()+"/"+f.Key, err)
	}
	return nil
}

// error says what failed on url, in words for the usual causes (a bucket
// that does not exist, access denied), with the credentials' values taken
// out of the text (and any other credential redact knows). The error
// still wraps err, for errors.Is (a cancelled context).
func (s *S3) error(op, url string, err error) error {
	detail := err.Error()
	var api smithy.APIError
	var resp *awshttp.ResponseError
	status := 0
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
		detail = code
		if m := api.ErrorMessage(); m != "" {
			detail += ": " + m
		}
		if status != 0 {
			detail += fmt.Sprintf(" (HTTP %d)", status)
		}
	}
	msg := fmt.Sprintf("%s %s: %s", op, url, detail)
	switch {
	case code == "NoSuchBucket":
		msg = fmt.Sprintf("%s %s: bucket %q does not exist (%s)", op, url, s.bucket, detail)
	case accessDenied[code] || status == http.StatusForbidden:
		msg = fmt.Sprintf("%s %s: access denied: check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE) and what they may do on bucket %q (%s)",
			op, url, s.bucket, detail)
	}
	return &scrubbedError{msg: s.scrub(msg), err: err}
}

// accessDenied are the error codes that mean the credentials are wrong or
// may not do what was asked: AWS's, and versitygw's for an access key it
// does not know (XAdminUserNotFound, with HTTP 404).
var accessDenied = map[string]bool{
	"AccessDenied": true, "AllAccessDisabled": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"ExpiredToken": true, "InvalidToken": true, "XAdminUserNotFound": true,
}

// scrub takes the credentials' values out of text.
func (s *S3) scrub(text string) string {
	for _, v := range s.secrets {
		text = strings.ReplaceAll(text, v, "REDACTED")
	}
	return redact.String(text)
}

// scrubbedError is an error whose text was scrubbed of credentials; it
// unwraps to the original, for errors.Is and errors.As only.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
