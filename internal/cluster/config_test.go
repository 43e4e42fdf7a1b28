package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKindConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, besides the file path
	}{
		{
			name: "unknown field",
			yaml: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodez:\n  - role: control-plane\n",
			want: []string{"unable to decode config", "line 3: field nodez not found in type v1alpha4.Cluster"},
		},
		{
			name: "unknown node field",
			yaml: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n    zone: a\n",
			want: []string{"line 5: field zone not found in type v1alpha4.Node"},
		},
		{
			name: "bad yaml",
			yaml: "kind: Cluster\napiVersion: [kind.x-k8s.io/v1alpha4\n",
			want: []string{"could not determine kind / apiVersion for config", "yaml:"},
		},
		{
			name: "wrong apiVersion",
			yaml: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n",
			want: []string{`unknown apiVersion: "kind.x-k8s.io/v1alpha3"`},
		},
		{
			name: "wrong kind",
			yaml: "kind: Clusters\napiVersion: kind.x-k8s.io/v1alpha4\n",
			want: []string{`unknown kind "Clusters"`},
		},
		{
			name: "unknown role",
			yaml: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n  - role: master\n",
			want: []string{`nodes[1]: unknown role "master"`},
		},
		{
			name: "no control plane",
			yaml: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: worker\n",
			want: []string{"no control-plane node"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kind-config.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadKindConfig(path)
			if err == nil {
				t.Fatalf("LoadKindConfig accepted:\n%s", tt.yaml)
			}
			for _, w := range append([]string{path}, tt.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadKindConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := LoadKindConfig(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("want an error naming %s and the missing file, got %v", path, err)
	}
}

// TestShippedKindConfig checks the repository's kind-config.yaml: the HA
// layout the cluster suite expects.
func TestShippedKindConfig(t *testing.T) {
	cfg, err := LoadKindConfig("../../" + DefaultKindConfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "" {
		t.Errorf("name %q set in the config: the CLI's --name must decide it", cfg.Name)
	}
	roles := map[string]int{}
	zones := map[string]map[string]int{}
	for i, n := range cfg.Nodes {
		roles[string(n.Role)]++
		if n.Image != "kindest/node:v1.34.0" {
			t.Errorf("nodes[%d]: image %q, want kindest/node:v1.34.0 without digest", i, n.Image)
		}
		z := n.Labels[ZoneLabel]
		if zones[z] == nil {
			zones[z] = map[string]int{}
		}
		zones[z][string(n.Role)]++
	}
	if roles["control-plane"] != 3 || roles["worker"] != 3 {
		t.Errorf("roles %v, want 3 control-plane and 3 worker", roles)
	}
	for _, z := range []string{"zone-a", "zone-b", "zone-c"} {
		if zones[z]["control-plane"] != 1 || zones[z]["worker"] != 1 {
			t.Errorf("zone %s holds %v, want one control-plane node and one worker", z, zones[z])
		}
	}
	if len(zones) != 3 {
		t.Errorf("zones %v, want exactly zone-a, zone-b, zone-c", zones)
	}
	if cfg.Networking.DisableDefaultCNI || cfg.Networking.KubeProxyMode != "iptables" {
		t.Errorf("networking %+v, want the default CNI and kube-proxy iptables", cfg.Networking)
	}
}

// A node that names no image gets the locally built node image through
// kind's node-image option, not kind's default, which is pinned by a digest
// the local build lacks.
func TestNodeImage(t *testing.T) {
	if DefaultNodeImage != "kindest/node:v1.34.0" {
		t.Errorf("DefaultNodeImage = %q, want kindest/node:v1.34.0 (images/versions.sh NODE_IMAGE)", DefaultNodeImage)
	}
	header := "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"
	cases := []struct {
		name, yaml, want, err string
	}{
		{name: "no node names an image", yaml: header + "nodes:\n- role: control-plane\n- role: worker\n", want: DefaultNodeImage},
		{name: "no nodes at all", yaml: header + "networking:\n  ipFamily: ipv4\n", want: DefaultNodeImage},
		{name: "every node names one", yaml: header + "nodes:\n- role: control-plane\n  image: my/node:v1\n", want: ""},
		{name: "some do and some do not", yaml: header + "nodes:\n- role: control-plane\n  image: my/node:v1\n- role: worker\n", err: "nodes[1].image: empty while nodes[0] names my/node:v1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "my-cluster.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := NodeImage(path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err %v, want one naming %s and %q", err, path, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("NodeImage = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	if got, err := NodeImage(""); err != nil || got != DefaultNodeImage {
		t.Errorf("without a config: %q, %v; want %s", got, err, DefaultNodeImage)
	}
	if got, err := NodeImage("../../" + DefaultKindConfig); err != nil || got != "" {
		t.Errorf("the shipped config names its images: got %q, %v", got, err)
	}
}
