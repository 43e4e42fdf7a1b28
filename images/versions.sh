# Versions and image names of everything `make images` builds. The names are
# the ones kind v0.30.0 and kubeadm v1.34.0 ask for, so a machine with
# registry access pulls the same names and one code path serves both.
K8S_VERSION=v1.34.0          # kind v0.30.0's default node image is kindest/node:v1.34.0
ETCD_VERSION=3.6.4           # kubeadm v1.34.0: registry.k8s.io/etcd:3.6.4-0
COREDNS_VERSION=v1.12.1      # kubeadm v1.34.0
PAUSE_VERSION=3.10.1         # kubeadm v1.34.0; kind's containerd config names 3.10
CRICTL_VERSION=v1.34.0
LOCAL_PATH_VERSION=v0.0.30   # what kind v0.30.0 builds kindest/local-path-provisioner from
KUBE_ROUTER_VERSION=v2.1.0
AGNHOST_VERSION=2.56         # k8s.io/kubernetes v1.34.0 test/images/agnhost/VERSION
KIND_VERSION=v0.30.0
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

NODE_IMAGE=kindest/node:${K8S_VERSION}
HAPROXY_IMAGE=docker.io/kindest/haproxy:v20230606-42a2262b
LOCAL_PATH_IMAGE=docker.io/kindest/local-path-provisioner:v20250214-acbabc1a
LOCAL_PATH_HELPER_IMAGE=docker.io/kindest/local-path-helper:v20241212-8ac705d0
KUBE_ROUTER_IMAGE=docker.io/cloudnativelabs/kube-router:${KUBE_ROUTER_VERSION}
AGNHOST_IMAGE=registry.k8s.io/e2e-test-images/agnhost:${AGNHOST_VERSION}
PROBE_APP_IMAGE=drill.local/probe-app:v1   # drill's own workload (cmd/probe-app); never pulled
