package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kind/pkg/apis/config/defaults"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// kindConfigAPIVersion is the only kind config version drill reads.
const kindConfigAPIVersion = "kind.x-k8s.io/v1alpha4"

// LoadKindConfig reads and checks a kind cluster configuration file the way
// kind's own loader does (strict YAML: unknown fields are errors), so that a
// broken file is reported with its path and kind's reason before any container
// is started. The file is still handed to kind as is.
func LoadKindConfig(path string) (*v1alpha4.Cluster, error) {
	cfg, _, err := loadKindConfig(path)
	return cfg, err
}

// DefaultNodeImage is the node image `make images` builds: kind's default
// node image without its digest. kind pins its default by digest, which a
// locally built image does not have, so a node that names no image would
// make kind pull; drill names this one instead (NodeImage).
var DefaultNodeImage, _, _ = strings.Cut(defaults.Image, "@")

// NodeImage is the image drill gives kind's node-image option for a kind
// config: DefaultNodeImage when no node names an image (or there is no
// config), "" when every node names its own. A config where some nodes
// name one and others do not is an error naming the first without one.
func NodeImage(path string) (string, error) {
	if path == "" {
		return DefaultNodeImage, nil
	}
	cfg, noImage, err := loadKindConfig(path)
	if err != nil {
		return "", err
	}
	switch {
	case len(noImage) == 0:
		return "", nil
	case len(noImage) == len(cfg.Nodes):
		return DefaultNodeImage, nil
	}
	named := 0
	for named < len(cfg.Nodes) && slices.Contains(noImage, named) {
		named++
	}
	return "", fmt.Errorf("kind config %s: nodes[%d].image: empty while nodes[%d] names %s; name an image on every node, or on none and drill uses %s (kind's default %s is pinned by a digest a locally built image does not have)",
		path, noImage[0], named, cfg.Nodes[named].Image, DefaultNodeImage, defaults.Image)
}

// loadKindConfig reads and checks a kind config, and says which nodes
// name no image (before kind's defaults fill it in).
func loadKindConfig(path string) (*v1alpha4.Cluster, []int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("kind config %s: %w", path, err)
	}
	cfg, noImage, err := parseKindConfig(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("kind config %s: %w", path, err)
	}
	return cfg, noImage, nil
}

// parseKindConfig mirrors sigs.k8s.io/kind/pkg/internal/apis/config/encoding
// Parse (kind v0.30.0), whose messages it keeps, plus the node checks drill
// relies on.
func parseKindConfig(raw []byte) (*v1alpha4.Cluster, []int, error) {
	var tm struct {
		Kind       string `yaml:"kind,omitempty"`
		APIVersion string `yaml:"apiVersion,omitempty"`
	}
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return nil, nil, fmt.Errorf("could not determine kind / apiVersion for config: %w", err)
	}
	if tm.APIVersion != kindConfigAPIVersion {
		return nil, nil, fmt.Errorf("unknown apiVersion: %q (want %s)", tm.APIVersion, kindConfigAPIVersion)
	}
	if tm.Kind != "Cluster" {
		return nil, nil, fmt.Errorf("unknown kind %q for apiVersion: %s", tm.Kind, tm.APIVersion)
	}
	cfg := &v1alpha4.Cluster{}
	d := yaml.NewDecoder(bytes.NewReader(raw))
	d.KnownFields(true)
	if err := d.Decode(cfg); err != nil {
		return nil, nil, fmt.Errorf("unable to decode config: %w", err)
	}
	var noImage []int
	for i, n := range cfg.Nodes {
		if n.Image == "" {
			noImage = append(noImage, i)
		}
	}
	if len(cfg.Nodes) == 0 {
		noImage = []int{0} // kind's defaults add one control-plane node
	}
	v1alpha4.SetDefaultsCluster(cfg)
	controlPlanes := 0
	for i, n := range cfg.Nodes {
		switch n.Role {
		case v1alpha4.ControlPlaneRole:
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			return nil, nil, fmt.Errorf("nodes[%d]: unknown role %q (want %s or %s)", i, n.Role, v1alpha4.ControlPlaneRole, v1alpha4.WorkerRole)
		}
	}
	if controlPlanes == 0 {
		return nil, nil, errors.New("no control-plane node: a cluster needs at least one")
	}
	return cfg, noImage, nil
}
