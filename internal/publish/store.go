package publish

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/drill-sre/drill/internal/atomicfile"
)

// Store is where a site is published: a directory or an S3 prefix. Keys
// are slash-separated paths relative to the site's root
// ("runs/20261207T031500Z/report.json").
type Store interface {
	// List returns every object under the root, by key.
	List(ctx context.Context) (map[string]Object, error)
	// Get returns an object's content.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put writes an object whole: a reader sees the old content or the
	// new.
	Put(ctx context.Context, f File) error
	// String names the store for messages: the directory, or
	// s3://bucket/prefix; never a credential.
	String() string
}

// Object is what a store's listing says of an object.
type Object struct {
	Size int64
	// MD5 is the hex MD5 of the content, "" when the store cannot tell (an
	// S3 object uploaded in parts or encrypted with KMS): such an object
	// is uploaded again.
	MD5 string
}

// File is an object to publish.
type File struct {
	Key  string
	Data []byte
	// ContentType and CacheControl are sent as the object's headers where
	// the store has headers (S3); a directory keeps neither, its web
	// server decides.
	ContentType, CacheControl string
}

// md5Hex returns the hex MD5 of data: what a store compares to find what
// changed.
func md5Hex(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

// Options shape how a destination is opened.
type Options struct {
	// S3PathStyle addresses an S3 bucket as ENDPOINT/BUCKET/KEY rather
	// than BUCKET.ENDPOINT/KEY, as most S3-compatible stores (versitygw,
	// MinIO) want.
	S3PathStyle bool
}

// Open returns the store dest names: s3://BUCKET[/PREFIX] for an S3
// bucket (credentials, region and endpoint from the standard AWS
// environment and files, see NewS3), or a directory. A directory that
// does not exist is created on the first write; a path that exists and is
// not a directory is an error.
func Open(ctx context.Context, dest string, o Options) (Store, error) {
	switch {
	case dest == "":
		return nil, errors.New("no destination: give a directory or s3://BUCKET/PREFIX")
	case strings.HasPrefix(dest, "s3://"):
		return NewS3(ctx, dest, o)
	case strings.Contains(dest, "://"):
		scheme, _, _ := strings.Cut(dest, "://")
		return nil, fmt.Errorf("destination %s: %s:// is not supported: give a directory or s3://BUCKET/PREFIX", dest, scheme)
	}
	return NewDir(dest)
}

// Dir is a site in a directory: one a web server serves, or the checkout
// of a GitHub Pages or GitLab Pages branch.
type Dir struct {
	root string
}

var _ Store = (*Dir)(nil)

// NewDir returns the site in the directory root. It is an error if root
// exists and is not a directory.
func NewDir(root string) (*Dir, error) {
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("destination %s: %w", root, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("destination %s is not a directory", root)
	}
	return &Dir{root: root}, nil
}

func (d *Dir) String() string { return d.root }

// List lists every regular file under the root. Hidden entries (a .git
// directory, a temporary file being written) and links are left out.
func (d *Dir) List(ctx context.Context) (map[string]Object, error) {
	out := map[string]Object{}
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == d.root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p != d.root && strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = Object{Size: int64(len(data)), MD5: md5Hex(data)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.root, err)
	}
	return out, nil
}

// Get reads the file at key.
func (d *Dir) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return data, nil
}

// Put writes the file at key atomically, creating its directories.
func (d *Dir) Put(_ context.Context, f File) error {
	p, err := d.path(f.Key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := atomicfile.WriteFile(p, f.Data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// path returns the file of key, refusing a key that would leave the root.
func (d *Dir) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// checkKey refuses a key that is not a clean relative path: one that
// could name something outside the site.
func checkKey(key string) error {
	if key == "" || path.IsAbs(key) || path.Clean(key) != key || key == ".." || strings.HasPrefix(key, "../") || strings.Contains(key, `\`) {
		return fmt.Errorf("key %q is not a clean relative path", key)
	}
	return nil
}
