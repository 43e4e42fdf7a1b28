// Package velero installs Velero into a cluster and drives its backups and
// restores, for drills that destroy data and bring it back.
//
// The manifests are Velero's own: the install package of
// github.com/vmware-tanzu/velero builds them, as `velero install` does, from
// the options this package sets (the AWS plugin against an S3-compatible
// store, file-system backup through the node agent with kopia, no volume
// snapshots). They are applied with server-side apply, so Install is
// idempotent. Backups, restores and schedules are Velero's API objects,
// created through a controller-runtime client and watched until Velero says
// they are done; anything short of Completed is an error that says why.
package velero

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kind/pkg/log"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	velerov2alpha1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v2alpha1"

	"github.com/drill-sre/drill/internal/kube"
)

// Defaults of an installation: Velero's namespace and the images drill builds
// (images/build.sh) and loads into the nodes.
const (
	DefaultNamespace   = "velero"
	DefaultImage       = "velero/velero:v1.18.3"
	DefaultPluginImage = "velero/velero-plugin-for-aws:v1.14.3"
	// DefaultRegion is the region the store's SigV4 signatures name.
	// versitygw checks it: Velero's customary "minio" is refused there
	// with 400 AuthorizationHeaderMalformed.
	DefaultRegion = "us-east-1"
)

// Names of what Install creates. The server and the node agent are named
// as Velero's install package names them; the backup location and its
// credentials have names of drill's own, so that they are never a user's
// (Velero's install names them "default" and "cloud-credentials").
const (
	DeploymentName = "velero"
	NodeAgentName  = "node-agent"
	// LocationName is drill's BackupStorageLocation, in drill's S3 store:
	// the one backups and schedules go to unless told otherwise.
	LocationName = "drill-s3"
	// CredentialsSecret holds the store's credentials in the AWS
	// credentials-file format, under CredentialsKey. LocationName names it
	// as its own credential (spec.credential, Velero >= 1.6), so that the
	// server needs no credentials of its own.
	CredentialsSecret = "drill-s3-credentials"
	CredentialsKey    = "cloud"
)

// FieldManager is the server-side apply field manager of what Install
// applies, drill's own.
const FieldManager = "drill"

// Default waits, when neither the call's input nor the Velero sets one.
const (
	DefaultTimeout  = 5 * time.Minute
	DefaultInterval = time.Second
)

// Store is the S3-compatible object store Velero keeps backups in.
type Store struct {
	// URL is the store's endpoint as Velero's pods reach it, e.g.
	// http://versitygw.drill-s3.svc:7070 (the BackupStorageLocation's
	// s3Url).
	URL string
	// PublicURL, if set, is an endpoint the host can reach: Velero's CLI
	// resolves download URLs (backup logs) from it (publicUrl).
	PublicURL string
	Bucket    string
	// Prefix is a folder in the bucket for Velero's data; Velero refuses a
	// bucket whose root holds folders it does not know, so a shared bucket
	// needs one.
	Prefix string
	// Region defaults to DefaultRegion.
	Region    string
	AccessKey string
	SecretKey string
}

func (s Store) region() string {
	if s.Region == "" {
		return DefaultRegion
	}
	return s.Region
}

// Validate checks that the settings are complete and well-formed.
func (s Store) Validate() error {
	var errs []error
	for _, u := range []struct{ name, value string }{{"URL", s.URL}, {"PublicURL", s.PublicURL}} {
		if u.value == "" && u.name == "PublicURL" {
			continue
		}
		p, err := url.Parse(u.value)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q is not an http(s) URL", u.name, u.value))
		}
	}
	if len(s.Bucket) < 3 {
		errs = append(errs, fmt.Errorf("bucket %q: an S3 bucket name has at least 3 characters", s.Bucket))
	}
	if s.AccessKey == "" || s.SecretKey == "" {
		errs = append(errs, errors.New("access key and secret key are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("velero store: %w", err)
	}
	return nil
}

// CredentialsFile is the store's credentials as the AWS plugin reads them
// (AWS_SHARED_CREDENTIALS_FILE): the content of Secret CredentialsSecret.
func (s Store) CredentialsFile() []byte {
	return fmt.Appendf(nil, "[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n", s.AccessKey, s.SecretKey)
}

// LocationConfig is the AWS plugin's configuration of the
// BackupStorageLocation: path-style requests to URL, signed for the region.
func (s Store) LocationConfig() map[string]string {
	c := map[string]string{
		"region":           s.region(),
		"s3ForcePathStyle": "true",
		"s3Url":            s.URL,
	}
	if s.PublicURL != "" {
		c["publicUrl"] = s.PublicURL
	}
	return c
}

// Scheme returns a scheme that knows Kubernetes' built-in types, Velero's
// (velero.io v1 and v2alpha1) and CustomResourceDefinitions: the types a
// client of this package reads and writes.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, velerov1.AddToScheme, velerov2alpha1.AddToScheme, apiextv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("velero scheme: %w", err)
		}
	}
	return s, nil
}

// NewClient returns a client of the cluster cfg reaches, with Scheme. The
// API server's warnings go to logger (once each), unless cfg has its own
// warning handler.
func NewClient(cfg *rest.Config, logger log.Logger) (client.Client, error) {
	s, err := Scheme()
	if err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.WarningHandler == nil && cfg.WarningHandlerWithContext == nil {
		if logger == nil {
			logger = log.NoopLogger{}
		}
		cfg.WarningHandlerWithContext = &kube.Warnings{Say: func(m string) { logger.Warnf("API server warning: %s", m) }}
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("velero client for %s: %w", cfg.Host, err)
	}
	return c, nil
}

// Velero is one Velero installation, reached through a client: the
// namespace it runs in (and keeps its backups, restores and schedules in).
type Velero struct {
	Client    client.Client
	Namespace string
	Logger    log.Logger
	// Timeout bounds each wait whose input sets none (DefaultTimeout).
	Timeout time.Duration
	// Interval is how often waits poll (DefaultInterval).
	Interval time.Duration
}

// New returns the Velero installation in namespace (DefaultNamespace if
// empty), with the default waits. A nil logger discards.
func New(c client.Client, namespace string, logger log.Logger) *Velero {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	if logger == nil {
		logger = log.NoopLogger{}
	}
	return &Velero{Client: c, Namespace: namespace, Logger: logger, Timeout: DefaultTimeout, Interval: DefaultInterval}
}

func (v *Velero) check() error {
	if v == nil || v.Client == nil || v.Namespace == "" {
		return errors.New("velero: a client and a namespace are required (use New)")
	}
	return nil
}

func (v *Velero) logger() log.Logger {
	if v.Logger == nil {
		return log.NoopLogger{}
	}
	return v.Logger
}

func (v *Velero) timeout(d time.Duration) time.Duration {
	switch {
	case d > 0:
		return d
	case v.Timeout > 0:
		return v.Timeout
	default:
		return DefaultTimeout
	}
}

// waitFor polls cond every Interval until it reports done or returns an
// error (which ends the wait and is returned as is), or until timeout. cond
// describes what it saw; each new description is logged, so that a long
// wait shows progress, and a timeout quotes the last one. A cond that cannot
// read the state returns a description of why, not an error: the next poll
// tries again.
func (v *Velero) waitFor(ctx context.Context, timeout time.Duration, what string, cond func(ctx context.Context) (done bool, desc string, err error)) error {
	interval := v.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	return kube.Poll(ctx, interval, timeout, what, func(desc string) {
		v.logger().V(0).Infof("%s: %s", what, desc)
	}, cond)
}
