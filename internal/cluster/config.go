package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// kindConfigAPIVersion is the only kind config version drill reads.
const kindConfigAPIVersion = "kind.x-k8s.io/v1alpha4"

// LoadKindConfig reads and checks a kind cluster configuration file the way
// kind's own loader does (strict YAML: unknown fields are errors), so that a
// broken file is reported with its path and kind's reason before any container
// is started. The file is still handed to kind as is.
func LoadKindConfig(path string) (*v1alpha4.Cluster, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kind config %s: %w", path, err)
	}
	cfg, err := parseKindConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("kind config %s: %w", path, err)
	}
	return cfg, nil
}

// parseKindConfig mirrors sigs.k8s.io/kind/pkg/internal/apis/config/encoding
// Parse (kind v0.30.0), whose messages it keeps, plus the node checks drill
// relies on.
func parseKindConfig(raw []byte) (*v1alpha4.Cluster, error) {
	var tm struct {
		Kind       string `yaml:"kind,omitempty"`
		APIVersion string `yaml:"apiVersion,omitempty"`
	}
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return nil, fmt.Errorf("could not determine kind / apiVersion for config: %w", err)
	}
	if tm.APIVersion != kindConfigAPIVersion {
		return nil, fmt.Errorf("unknown apiVersion: %q (want %s)", tm.APIVersion, kindConfigAPIVersion)
	}
	if tm.Kind != "Cluster" {
		return nil, fmt.Errorf("unknown kind %q for apiVersion: %s", tm.Kind, tm.APIVersion)
	}
	cfg := &v1alpha4.Cluster{}
	d := yaml.NewDecoder(bytes.NewReader(raw))
	d.KnownFields(true)
	if err := d.Decode(cfg); err != nil {
		return nil, fmt.Errorf("unable to decode config: %w", err)
	}
	v1alpha4.SetDefaultsCluster(cfg)
	controlPlanes := 0
	for i, n := range cfg.Nodes {
		switch n.Role {
		case v1alpha4.ControlPlaneRole:
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			return nil, fmt.Errorf("nodes[%d]: unknown role %q (want %s or %s)", i, n.Role, v1alpha4.ControlPlaneRole, v1alpha4.WorkerRole)
		}
	}
	if controlPlanes == 0 {
		return nil, errors.New("no control-plane node: a cluster needs at least one")
	}
	return cfg, nil
}
