package scenarios

import (
	"embed"
	"io/fs"
)

// files are the drills shipped with drill, the *.yaml files of this
// directory.
//
//go:embed *.yaml
var files embed.FS

// ShippedDir is how errors and Scenario.File name the shipped drills: by
// their path in drill's source tree.
const ShippedDir = "scenarios/"

// Shipped loads the drills embedded in the binary, named
// "scenarios/<file>.yaml".
func Shipped() ([]*Scenario, error) {
	return loadFS(files, ShippedDir)
}

// ShippedFS returns the shipped drill files themselves.
func ShippedFS() fs.FS {
	return files
}
