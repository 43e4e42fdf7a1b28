# Versions and image names of the monitoring stack drills deploy
# (fixtures/monitoring): Prometheus, Alertmanager, node-exporter and
# kube-state-metrics. The names are those upstream publishes under, so a
# machine with registry access pulls them and one code path serves both.
# Kept apart from versions.sh, whose every line is an input of the kind node
# image: a bump here rebuilds only these images.
#
# Prometheus, Alertmanager and node-exporter are Debian bookworm's packages,
# pinned to the exact Debian version: the image's tag is the upstream version
# the package carries (checked with apt-cache policy), and a mirror that no
# longer has this version fails the build rather than tagging another.
PROMETHEUS_VERSION=v2.42.0
PROMETHEUS_DEB=2.42.0+ds-5+deb12u1
ALERTMANAGER_VERSION=v0.25.0
ALERTMANAGER_DEB=0.25.0-1+b4
NODE_EXPORTER_VERSION=v1.5.0
NODE_EXPORTER_DEB=1.5.0-1+b6
KUBE_STATE_METRICS_VERSION=v2.16.0   # module k8s.io/kube-state-metrics/v2, images/src/kube-state-metrics

PROMETHEUS_IMAGE=quay.io/prometheus/prometheus:${PROMETHEUS_VERSION}
ALERTMANAGER_IMAGE=quay.io/prometheus/alertmanager:${ALERTMANAGER_VERSION}
NODE_EXPORTER_IMAGE=quay.io/prometheus/node-exporter:${NODE_EXPORTER_VERSION}
KUBE_STATE_METRICS_IMAGE=registry.k8s.io/kube-state-metrics/kube-state-metrics:${KUBE_STATE_METRICS_VERSION}
