// Package atomicfile writes files that a reader, or a harness killed half-way,
// sees whole or not at all.
package atomicfile

import (
	"os"
	"path/filepath"
)

// WriteFile writes data to path atomically and durably: a temporary file in
// the same directory (".<name>.*.tmp", which no *.json glob matches), fsync,
// rename, fsync of the directory. A reader sees the old content or the new,
// never a part.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
