#!/usr/bin/env bash
# make images: make every image a drill on kind needs available in the local
# Docker under the exact name kind, kubeadm and the manifests ask for.
#
# For each image: if Docker already has it (pulled, or built by an earlier run
# from the same inputs) nothing happens; otherwise it is pulled, and when the
# registry cannot be reached it is built here from Go modules (through the
# module proxy) and Debian packages. Built images carry a label with the hash
# of their inputs, so a change of version or recipe rebuilds them.
#
#   images/build.sh            all images
#   images/build.sh NAME...    some of them (node, haproxy, agnhost, velero, monitoring, ...)
#   FORCE=1 images/build.sh    rebuild even if present
#   NO_PULL=1 images/build.sh  do not try the registry first
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"
# shellcheck source=versions-backup.sh
source "$here/versions-backup.sh"
# shellcheck source=versions-monitoring.sh
source "$here/versions-monitoring.sh"
out=${DRILL_IMAGES_OUT:-$root/_output/images}
bin=$out/bin
mkdir -p "$bin"
export DOCKER_BUILDKIT=0 GOFLAGS=${GOFLAGS:--buildvcs=false}

t0=$(date +%s)
say() { printf '[images %4ds] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }
die() { echo "images: error: $*" >&2; exit 1; }

# inputs_hash FUNC [FILE...]: a short hash of versions.sh, the text of the
# shell function that builds the image, the files, and stdin when it is not a
# terminal. Editing one recipe rebuilds only its image (and the node image,
# whose hash holds the IDs of the images it preloads).
inputs_hash() {
  local fn=$1; shift
  { cat "$here/versions.sh"; declare -f "$fn"; cat "$@" /dev/null; [ -t 0 ] || cat; } | sha256sum | cut -c1-16
}

# present NAME HASH: Docker has NAME, and if we built it, from these inputs.
present() {
  local label
  [ -n "${FORCE:-}" ] && return 1
  label=$(docker image inspect -f '{{index .Config.Labels "drill.inputs"}}' "$1" 2>/dev/null) || return 1
  [ "$label" = "<no value>" ] && return 0   # pulled from a registry: use it as is
  [ "$label" = "$2" ]
}

# try_pull NAME: pull from the registry, quickly giving up when offline.
try_pull() {
  [ -n "${NO_PULL:-}" ] && return 1
  say "pulling $1"
  if timeout 60 docker pull -q "$1" >/dev/null 2>&1; then
    say "pulled $1"
    return 0
  fi
  say "cannot pull $1: building it here"
  return 1
}

# gobuild MODULE_DIR LDFLAGS PKG... : build main packages of a scratch module
# into $bin, statically. Modules in $prebuilt were built by main's parallel
# pass already. Each build says how long it took and how much CPU it used:
# on 2 cores the CPU seconds, not the wall time of builds that overlap, show
# what a component costs.
gobuild() {
  local dir=$1 ld=$2; shift 2
  [[ " ${prebuilt:-} " != *" $dir "* ]] || return 0
  local start=$SECONDS TIMEFORMAT
  TIMEFORMAT="%0U s user + %0S s sys"
  { time env -C "$here/src/$dir" CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ld" -o "$bin/" "$@" 2>&3; } \
    3>&2 2>"$out/cpu-$dir" || die "go build in images/src/$dir failed"
  say "built images/src/$dir in $(( SECONDS - start )) s, CPU $(cat "$out/cpu-$dir")"
}

# docker_build NAME HASH DOCKERFILE_TEXT [FILE...]: build an image whose
# context holds the given files (copied flat).
docker_build() {
  local name=$1 hash=$2 dockerfile=$3; shift 3
  local ctx
  ctx=$(mktemp -d "$out/ctx.XXXXXX")
  for f in "$@"; do cp -a "$f" "$ctx/"; done
  printf '%s\nLABEL drill.inputs=%s\n' "$dockerfile" "$hash" > "$ctx/Dockerfile"
  docker build -t "$name" "$ctx" >"$out/build.log" 2>&1 || { rm -rf "$ctx"; tail -20 "$out/build.log" >&2; die "docker build $name failed"; }
  rm -rf "$ctx"
  say "built $name"
}

# --- Debian root filesystems --------------------------------------------------

# rootfs NAME PACKAGES: debootstrap a Debian minbase with the packages and
# import it as drill.local/NAME:HASH. Echoes the image name.
rootfs() {
  local name=$1 pkgs=$2
  local hash image dir
  hash=$({ echo "$DEBIAN_SUITE $pkgs"; declare -f rootfs; } | sha256sum | cut -c1-16)
  image=drill.local/$name:$hash
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || die "cannot install debootstrap"; }
    dir=$out/rootfs/$name
    rm -rf "$dir"; mkdir -p "$dir" "$out/debs"
    say "debootstrap $DEBIAN_SUITE for $name" >&2
    debootstrap --variant=minbase --cache-dir="$out/debs" --include="$pkgs" \
      "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" > "$out/debootstrap-$name.log" 2>&1 \
      || die "debootstrap $name failed: see $out/debootstrap-$name.log"
    chroot "$dir" apt-get clean
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/*
    tar -C "$dir" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >/dev/null \
      || die "docker import $name failed"
    rm -rf "$dir"
    say "imported $image" >&2
  fi
  echo "$image"
}

# Userland of the small images (load balancer, CNI, DNS checks, workloads):
# one shared layer.
tools_rootfs() {
  rootfs bookworm-tools "bash,ca-certificates,procps,haproxy,iptables,ipset,conntrack,iproute2,dnsutils,curl,netcat-openbsd"
}

# The kind node's userland: what kind's base image installs, with Debian's
# containerd, runc and CNI plugins in place of kind's own builds.
node_rootfs() {
  rootfs node-rootfs "systemd,dbus,containerd,runc,containernetworking-plugins,conntrack,iptables,nftables,ipset,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,socat,iputils-ping"
}

kind_dir() { go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }
k8s_dir() { (cd "$here/src/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes); }
mod_dir() { (cd "$here/src/$1" && go list -m -f '{{.Dir}}' "$2"); }

# --- Binaries -----------------------------------------------------------------

k8s_ldflags() {
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local p ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "$ld"
}

build_k8s_bins() {
  [ -z "${k8s_built:-}" ] || return 0
  say "go build Kubernetes $K8S_VERSION (kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy agnhost)"
  gobuild kubernetes "$(k8s_ldflags)" \
    k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy \
    k8s.io/kubernetes/test/images/agnhost
  k8s_built=1
}

# --- Component images -----------------------------------------------------------

# Every image is a small layer of binaries on the shared Debian tools layer.
image_pause() { # NAME
  local hash; hash=$(inputs_hash image_pause </dev/null)
  present "$1" "$hash" || try_pull "$1" || {
    gcc -Os -static -DVERSION="$PAUSE_VERSION" -o "$bin/pause" "$(k8s_dir)/build/pause/linux/pause.c" || die "gcc pause.c failed"
    docker_build "$1" "$hash" 'FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]' "$bin/pause"
  }
}

image_control_plane() { # NAME BINARY
  local hash base; hash=$(inputs_hash image_control_plane "$here/src/kubernetes/go.sum" <<<"$2"); base=$(tools_rootfs)
  present "$1" "$hash" || try_pull "$1" || {
    build_k8s_bins
    docker_build "$1" "$hash" "FROM $base
COPY $2 /usr/local/bin/$2
ENTRYPOINT [\"/usr/local/bin/$2\"]" "$bin/$2"
  }
}

image_etcd() { # NAME
  local hash base; hash=$(inputs_hash image_etcd "$here/src/etcd/go.sum" </dev/null); base=$(tools_rootfs)
  present "$1" "$hash" || try_pull "$1" || {
    say "go build etcd $ETCD_VERSION"
    gobuild etcd "" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3
    [ ! -e "$bin/server" ] || mv "$bin/server" "$bin/etcd"   # the main package of go.etcd.io/etcd/server/v3
    docker_build "$1" "$hash" "FROM $base
COPY etcd etcdctl etcdutl /usr/local/bin/
ENTRYPOINT [\"/usr/local/bin/etcd\"]" "$bin/etcd" "$bin/etcdctl" "$bin/etcdutl"
  }
}

image_coredns() { # NAME
  local hash base; hash=$(inputs_hash image_coredns "$here/src/coredns/go.sum" </dev/null); base=$(tools_rootfs)
  present "$1" "$hash" || try_pull "$1" || {
    say "go build coredns $COREDNS_VERSION"
    gobuild coredns "" github.com/coredns/coredns
    docker_build "$1" "$hash" "FROM $base
COPY coredns /coredns
EXPOSE 53 53/udp
ENTRYPOINT [\"/coredns\"]" "$bin/coredns"
  }
}

# kind's load balancer, from Debian's haproxy, with kind's minimal config.
# kind's generated config sets maxconn 100000, which needs ~200k open files;
# where the hard limit is lower and cannot be raised (no CAP_SYS_RESOURCE), a
# wrapper first in PATH caps haproxy's connections to what the limit allows.
image_haproxy() {
  local hash base kind; kind=$(kind_dir); hash=$(inputs_hash image_haproxy "$kind/images/haproxy/haproxy.cfg" </dev/null); base=$(tools_rootfs)
  present "$HAPROXY_IMAGE" "$hash" || try_pull "$HAPROXY_IMAGE" || {
    cat > "$out/haproxy-wrapper" <<'WRAP'
#!/bin/sh
# drill: cap maxconn to the open-files hard limit when it is below what
# kind's "maxconn 100000" needs. Idempotent: the master re-execs itself.
case " $* " in *" -n "*) exec /usr/sbin/haproxy "$@" ;; esac
limit=$(ulimit -Hn)
if [ "$limit" != unlimited ] && [ "$limit" -lt 201000 ]; then
  exec /usr/sbin/haproxy -n $(( (limit - 1000) / 2 )) "$@"
fi
exec /usr/sbin/haproxy "$@"
WRAP
    chmod 0755 "$out/haproxy-wrapper"
    cp "$kind/images/haproxy/haproxy.cfg" "$out/haproxy.cfg"
    docker_build "$HAPROXY_IMAGE" "$hash" "FROM $base
COPY haproxy-wrapper /usr/local/sbin/haproxy
COPY haproxy.cfg /usr/local/etc/haproxy/haproxy.cfg
STOPSIGNAL SIGUSR1
ENTRYPOINT [\"haproxy\", \"-W\", \"-db\", \"-f\", \"/usr/local/etc/haproxy/haproxy.cfg\"]" "$out/haproxy-wrapper" "$out/haproxy.cfg"
  }
}

image_kube_router() {
  local hash base; hash=$(inputs_hash image_kube_router "$here/src/kube-router/go.sum" </dev/null); base=$(tools_rootfs)
  present "$KUBE_ROUTER_IMAGE" "$hash" || try_pull "$KUBE_ROUTER_IMAGE" || {
    say "go build kube-router $KUBE_ROUTER_VERSION"
    gobuild kube-router "" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
    docker_build "$KUBE_ROUTER_IMAGE" "$hash" "FROM $base
COPY kube-router /usr/local/bin/kube-router
ENTRYPOINT [\"/usr/local/bin/kube-router\"]" "$bin/kube-router"
  }
}

image_local_path() {
  local hash base; hash=$(inputs_hash image_local_path "$here/src/local-path/go.sum" </dev/null); base=$(tools_rootfs)
  present "$LOCAL_PATH_IMAGE" "$hash" || try_pull "$LOCAL_PATH_IMAGE" || {
    say "go build local-path-provisioner $LOCAL_PATH_VERSION"
    gobuild local-path "" github.com/rancher/local-path-provisioner
    docker_build "$LOCAL_PATH_IMAGE" "$hash" "FROM $base
COPY local-path-provisioner /usr/local/bin/local-path-provisioner
ENTRYPOINT [\"/usr/local/bin/local-path-provisioner\"]" "$bin/local-path-provisioner"
  }
  hash=$(inputs_hash image_local_path </dev/null)
  present "$LOCAL_PATH_HELPER_IMAGE" "$hash" || try_pull "$LOCAL_PATH_HELPER_IMAGE" || \
    docker_build "$LOCAL_PATH_HELPER_IMAGE" "$hash" "FROM $base"
}

image_agnhost() {
  local hash base; hash=$(inputs_hash image_agnhost "$here/src/kubernetes/go.sum" </dev/null); base=$(tools_rootfs)
  present "$AGNHOST_IMAGE" "$hash" || try_pull "$AGNHOST_IMAGE" || {
    build_k8s_bins
    docker_build "$AGNHOST_IMAGE" "$hash" "FROM $base
COPY agnhost /agnhost
RUN ln -s agnhost /agnhost-2 && mkdir /uploads
EXPOSE 80 8080 8081 9376 5000
ENTRYPOINT [\"/agnhost\"]
CMD [\"pause\"]" "$bin/agnhost"
  }
}

# drill's own probe workload (cmd/probe-app). It has no registry: always built.
image_probe_app() {
  local hash base
  hash=$(inputs_hash image_probe_app "$root"/cmd/probe-app/*.go "$root"/internal/probeapp/*.go "$root/go.mod" </dev/null); base=$(tools_rootfs)
  present "$PROBE_APP_IMAGE" "$hash" || {
    say "go build probe-app"
    (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/probe-app" ./cmd/probe-app) || die "go build probe-app failed"
    docker_build "$PROBE_APP_IMAGE" "$hash" "FROM $base
COPY probe-app /probe-app
RUN chmod 0755 /probe-app && mkdir -p /data && chown 65532:65532 /data
EXPOSE 8080
ENTRYPOINT [\"/probe-app\"]" "$bin/probe-app"
  }
}

# Named here, not in versions.sh, whose every change rebuilds every image.
DRILL_AGENT_IMAGE=drill.local/drill-agent:v1   # internal/agent.Image; never pulled

# drill's node agent (cmd/drill-agent): the pod drill puts on a node of a
# cluster it reaches through its kubeconfig alone, for node faults. It runs
# the node's own tools in the node's namespaces (nsenter, from util-linux,
# which every Debian base has), so it needs nothing else. Always built.
image_drill_agent() {
  local hash base
  hash=$(inputs_hash image_drill_agent "$root"/cmd/drill-agent/*.go "$root"/internal/agent/*.go "$root"/internal/kube/*.go "$root/go.mod" </dev/null); base=$(tools_rootfs)
  present "$DRILL_AGENT_IMAGE" "$hash" || {
    say "go build drill-agent"
    (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/drill-agent" ./cmd/drill-agent) || die "go build drill-agent failed"
    docker_build "$DRILL_AGENT_IMAGE" "$hash" "FROM $base
COPY drill-agent /drill-agent
RUN chmod 0755 /drill-agent && command -v nsenter
ENTRYPOINT [\"/drill-agent\"]" "$bin/drill-agent"
  }
}

# --- Backup and restore: Velero and an S3 store ---------------------------------

# Velero's server image, as upstream lays it out: the three binaries at /, run
# as the user of upstream's base image (paketobuildpacks/run-jammy-tiny's cnb,
# 1002:1000, with a home for kopia's repository config). Upstream's sets no
# entrypoint (Velero's manifests name the command); /velero serves `docker run`.
# The version and the registry are linked in as upstream's Makefile does, so
# that `velero install` defaults to this image. Upstream also ships restic
# (/usr/bin/restic) for the deprecated restic uploader; this one does not.
image_velero() {
  local hash base ld; hash=$(inputs_hash image_velero "$here/src/velero/go.sum" "$here/versions-backup.sh" </dev/null); base=$(tools_rootfs)
  present "$VELERO_IMAGE" "$hash" || try_pull "$VELERO_IMAGE" || {
    say "go build velero $VELERO_VERSION"
    ld="-X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$VELERO_VERSION"
    ld="$ld -X github.com/vmware-tanzu/velero/pkg/buildinfo.ImageRegistry=${VELERO_IMAGE%/*}"
    ld="$ld -X github.com/vmware-tanzu/velero/pkg/buildinfo.GitTreeState=clean"
    gobuild velero "$ld" github.com/vmware-tanzu/velero/cmd/velero \
      github.com/vmware-tanzu/velero/cmd/velero-helper github.com/vmware-tanzu/velero/cmd/velero-restore-helper
    docker_build "$VELERO_IMAGE" "$hash" "FROM $base
COPY velero velero-helper velero-restore-helper /
RUN groupadd -g 1000 cnb && useradd -u 1002 -g cnb -m -d /home/cnb -s /usr/sbin/nologin cnb
USER cnb:cnb
ENTRYPOINT [\"/velero\"]" "$bin/velero" "$bin/velero-helper" "$bin/velero-restore-helper"
  }
}

# Velero's AWS (S3) plugin, exactly as upstream's image: static binaries on
# scratch; `velero install` runs it as an initContainer that copies the plugin
# into Velero's pod.
image_velero_aws_plugin() {
  local hash; hash=$(inputs_hash image_velero_aws_plugin "$here/src/velero-plugin-for-aws/go.sum" "$here/versions-backup.sh" </dev/null)
  present "$VELERO_AWS_PLUGIN_IMAGE" "$hash" || try_pull "$VELERO_AWS_PLUGIN_IMAGE" || {
    say "go build velero-plugin-for-aws $VELERO_AWS_PLUGIN_VERSION"
    gobuild velero-plugin-for-aws "" github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws \
      github.com/vmware-tanzu/velero-plugin-for-aws/hack/cp-plugin
    docker_build "$VELERO_AWS_PLUGIN_IMAGE" "$hash" "FROM scratch
COPY velero-plugin-for-aws /plugins/
COPY cp-plugin /bin/cp-plugin
USER 65532:65532
ENTRYPOINT [\"cp-plugin\", \"/plugins/velero-plugin-for-aws\", \"/target/velero-plugin-for-aws\"]" \
      "$bin/velero-plugin-for-aws" "$bin/cp-plugin"
  }
}

# The S3 store Velero writes to: versitygw, laid out as upstream's image (its
# entrypoint script runs versitygw with the container's arguments, or from
# VGW_* variables when there are none).
image_versitygw() {
  local hash base src; src=$(mod_dir versitygw github.com/versity/versitygw)
  hash=$(inputs_hash image_versitygw "$here/src/versitygw/go.sum" "$src/docker-entrypoint.sh" "$here/versions-backup.sh" </dev/null); base=$(tools_rootfs)
  present "$VERSITYGW_IMAGE" "$hash" || try_pull "$VERSITYGW_IMAGE" || {
    say "go build versitygw $VERSITYGW_VERSION"
    gobuild versitygw "-X main.Version=$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw
    docker_build "$VERSITYGW_IMAGE" "$hash" "FROM $base
COPY versitygw docker-entrypoint.sh /usr/local/bin/
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh && mkdir -p /tmp/vgw
ENTRYPOINT [\"/usr/local/bin/docker-entrypoint.sh\"]" "$bin/versitygw" "$src/docker-entrypoint.sh"
  }
}

# --- Monitoring: Prometheus, Alertmanager, node-exporter, kube-state-metrics --

# deb_stage NAME FIXUP PACKAGE[=VERSION]...: fetch Debian $DEBIAN_SUITE
# packages with apt-get download and unpack them with dpkg-deb -x into a
# fresh $out/stage/NAME/root; run the shell text FIXUP there (moves to
# upstream's paths), then leave out documentation, man pages and the
# packages' service files. Echoes $out/stage/NAME. It all runs in a container
# of the tools layer, whose apt sources name $DEBIAN_MIRROR, so that the
# host's own release does not matter; apt's lists are kept in
# $out/apt-lists between calls.
deb_stage() {
  local name=$1 fixup=$2 base dir; shift 2
  base=$(tools_rootfs); dir=$out/stage/$name
  rm -rf "$dir"; mkdir -p "$dir/root" "$out/apt-lists"
  say "apt-get download $*"
  docker run --rm -v "$out/apt-lists:/var/lib/apt/lists" -v "$dir/root:/stage" -e FIXUP="$fixup" "$base" sh -ec '
    apt-get update -qq
    mkdir /debs; cd /debs; apt-get download "$@"
    for f in /debs/*.deb; do dpkg-deb -x "$f" /stage; done
    cd /stage; eval "$FIXUP"
    rm -rf usr/share/doc usr/share/man usr/share/lintian usr/share/bash-completion lib etc/init.d etc/default etc/logrotate.d var/log
  ' sh "$@" > "$out/deb-stage-$name.log" 2>&1 || { tail -20 "$out/deb-stage-$name.log" >&2; die "fetching Debian's $* failed"; }
  echo "$dir"
}

# deb_version_check BINARY VERSION: shell text, for a Dockerfile's RUN, that
# fails the build unless `BINARY --version` reports VERSION (v-prefixed;
# Debian's +ds and revision left out).
deb_version_check() {
  # shellcheck disable=SC2016 # expanded by the RUN's shell
  printf 'v=$(%s --version 2>&1 | sed -n "1s/^[a-z_]*, version \\([0-9.]*\\).*/v\\1/p"); [ "$v" = %s ] || { echo "%s is $v, not %s" >&2; exit 1; }' "$1" "$2" "$1" "$2"
}

# deb_image IMAGE FIXUP DOCKERFILE PACKAGE...: IMAGE made of Debian's
# packages on the tools layer: the packages unpacked, FIXUP run in the
# unpacked tree (deb_stage), then the DOCKERFILE's instructions after
# FROM and COPY. The calling image_* function's text is the recipe its
# inputs hash covers.
deb_image() {
  local image=$1 fixup=$2 dockerfile=$3 fn=${FUNCNAME[1]} hash base dir; shift 3
  base=$(tools_rootfs)
  hash=$( { declare -f deb_image deb_stage deb_version_check; echo "$base"; } | inputs_hash "$fn" "$here/versions-monitoring.sh")
  present "$image" "$hash" || try_pull "$image" || {
    dir=$(deb_stage "${fn#image_}" "$fixup" "$@")
    docker_build "$image" "$hash" "FROM $base
COPY root/ /
$dockerfile" "$dir/root"
    rm -rf "$dir"
  }
}

# Prometheus, from Debian's package (a go1.19 build), laid out as upstream's image:
# /bin/prometheus and /bin/promtool (bookworm's /bin is /usr/bin), the example
# consoles under /usr/share/prometheus, run as nobody (65534) in
# /prometheus, with upstream's entrypoint and arguments. Debian's build has
# no React UI: it serves the classic one from /usr/share/prometheus/web (its
# --web.local-assets default), whose JavaScript libraries are Debian
# packages, unpacked here alongside.
image_prometheus() {
  # shellcheck disable=SC2016 # $ex: the fix-up's own variable
  deb_image "$PROMETHEUS_IMAGE" '
    ex=usr/share/doc/prometheus/examples
    mkdir -p usr/share/prometheus prometheus
    rm -rf etc/prometheus/consoles etc/prometheus/console_libraries var/lib/prometheus
    cp -a $ex/consoles $ex/console_libraries usr/share/prometheus/
    ln -s /usr/share/prometheus/consoles /usr/share/prometheus/console_libraries etc/prometheus/
    # The UI loads one build of moment-timezone; the package has 214 MB of them.
    find usr/share/javascript/moment-timezone -mindepth 1 -maxdepth 1 ! -name moment-timezone-with-data.min.js -exec rm -rf {} +' \
    "RUN $(deb_version_check /bin/prometheus "$PROMETHEUS_VERSION"); chown -R 65534:65534 /etc/prometheus /prometheus
WORKDIR /prometheus
USER 65534:65534
EXPOSE 9090
VOLUME [\"/prometheus\"]
ENTRYPOINT [\"/bin/prometheus\"]
CMD [\"--config.file=/etc/prometheus/prometheus.yml\", \"--storage.tsdb.path=/prometheus\", \"--web.console.libraries=/usr/share/prometheus/console_libraries\", \"--web.console.templates=/usr/share/prometheus/consoles\"]" \
    "prometheus=$PROMETHEUS_DEB" fonts-glyphicons-halflings libjs-bootstrap libjs-bootstrap4 libjs-d3 \
    libjs-eonasdan-bootstrap-datetimepicker libjs-jquery libjs-jquery-hotkeys libjs-moment \
    libjs-moment-timezone libjs-mustache libjs-popper.js libjs-rickshaw
}

# Alertmanager, from Debian's package, laid out as upstream's image:
# /bin/alertmanager and /bin/amtool, /etc/alertmanager/alertmanager.yml,
# run as nobody in /alertmanager. Debian's build has no web UI (its page says
# to use amtool); the API (/api/v2) is whole.
image_alertmanager() {
  deb_image "$ALERTMANAGER_IMAGE" '
    mv usr/bin/prometheus-alertmanager usr/bin/alertmanager
    mkdir -p etc/alertmanager alertmanager
    mv etc/prometheus/alertmanager.yml etc/alertmanager/alertmanager.yml
    rm -rf etc/prometheus var/lib/prometheus' \
    "RUN $(deb_version_check /bin/alertmanager "$ALERTMANAGER_VERSION"); chown -R 65534:65534 /etc/alertmanager /alertmanager
WORKDIR /alertmanager
USER 65534:65534
EXPOSE 9093
VOLUME [\"/alertmanager\"]
ENTRYPOINT [\"/bin/alertmanager\"]
CMD [\"--config.file=/etc/alertmanager/alertmanager.yml\", \"--storage.path=/alertmanager\"]" \
    "prometheus-alertmanager=$ALERTMANAGER_DEB"
}

# node-exporter, from Debian's package, as upstream's image: /bin/node_exporter
# run as nobody.
image_node_exporter() {
  deb_image "$NODE_EXPORTER_IMAGE" '
    mv usr/bin/prometheus-node-exporter usr/bin/node_exporter
    rm -rf var/lib/prometheus' \
    "RUN $(deb_version_check /bin/node_exporter "$NODE_EXPORTER_VERSION")
USER 65534:65534
EXPOSE 9100
ENTRYPOINT [\"/bin/node_exporter\"]" \
    "prometheus-node-exporter=$NODE_EXPORTER_DEB"
}

# kube_state_metrics_build: go build kube-state-metrics into $bin. The
# checksum database does not know the module (see its go.mod); go.sum holds
# upstream's hashes of everything else. The version is linked in as
# upstream's Makefile does.
kube_state_metrics_build() {
  GONOSUMDB=k8s.io/kube-state-metrics gobuild kube-state-metrics \
    "-X github.com/prometheus/common/version.Version=$KUBE_STATE_METRICS_VERSION" k8s.io/kube-state-metrics/v2
}

# kube-state-metrics, as upstream's image: /kube-state-metrics, run as nobody,
# with upstream's entrypoint.
image_kube_state_metrics() {
  local hash base
  hash=$(declare -f kube_state_metrics_build | inputs_hash image_kube_state_metrics "$here/src/kube-state-metrics/go.sum" "$here/versions-monitoring.sh"); base=$(tools_rootfs)
  present "$KUBE_STATE_METRICS_IMAGE" "$hash" || try_pull "$KUBE_STATE_METRICS_IMAGE" || {
    say "go build kube-state-metrics $KUBE_STATE_METRICS_VERSION"
    kube_state_metrics_build
    docker_build "$KUBE_STATE_METRICS_IMAGE" "$hash" "FROM $base
COPY kube-state-metrics /kube-state-metrics
USER 65534:65534
EXPOSE 8080 8081
ENTRYPOINT [\"/kube-state-metrics\", \"--port=8080\", \"--telemetry-port=8081\"]" "$bin/kube-state-metrics"
  }
}

# The images kubeadm pulls for the control plane, by the names it prints.
# control_plane_images: the images kubeadm $K8S_VERSION asks for, from the
# versions in versions.sh, so that a machine with every image present lists
# them without compiling kubeadm. When this run built kubeadm, its own list
# must match: a version bump that forgets one fails here, not in kind.
control_plane_images() {
  local i want
  want=$(for i in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
           echo "registry.k8s.io/$i:$K8S_VERSION"
         done
         echo "registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
         echo "registry.k8s.io/pause:$PAUSE_VERSION"
         echo "registry.k8s.io/etcd:$ETCD_VERSION-0")
  if [ -n "${k8s_built:-}" ]; then
    local got; got=$("$bin/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null) \
      || die "kubeadm config images list failed"
    [ "$got" = "$want" ] || die "images/versions.sh does not match what kubeadm $K8S_VERSION asks for:
versions.sh:
$want
kubeadm:
$got"
  fi
  echo "$want"
}

image_by_name() { # NAME: the builder for one image kubeadm asks for
  case "$1" in
    */kube-apiserver:*) image_control_plane "$1" kube-apiserver ;;
    */kube-controller-manager:*) image_control_plane "$1" kube-controller-manager ;;
    */kube-scheduler:*) image_control_plane "$1" kube-scheduler ;;
    */kube-proxy:*) image_control_plane "$1" kube-proxy ;;
    */etcd:*) image_etcd "$1" ;;
    */coredns:*) image_coredns "$1" ;;
    */pause:*) image_pause "$1" ;;
    *) die "kubeadm asks for $1, which images/build.sh does not know how to build" ;;
  esac
}

# --- The kind node image --------------------------------------------------------

# kind's default CNI manifest: kube-router's own kubeadm manifest, with the
# local image, no overlay (this kernel has no IPIP; the nodes share one L2)
# and the in-cluster config instead of a kubeconfig on the host.
kube_router_manifest() {
  local kr; kr=$(mod_dir kube-router github.com/cloudnativelabs/kube-router/v2)
  sed -e "s|image: docker.io/cloudnativelabs/kube-router\$|image: $KUBE_ROUTER_IMAGE|" \
      -e 's|imagePullPolicy: Always|imagePullPolicy: IfNotPresent|' \
      -e 's|^\( *\)- --bgp-graceful-restart=true|&\n\1- --enable-overlay=false|' \
      "$kr/daemonset/kubeadm-kuberouter.yaml" \
    | awk '/- name: kubeconfig$/ {skip=3} skip > 0 {skip--; next} {print}'
}

# kind's default storage manifest, as kind's node-image builder writes it.
storage_manifest() {
  local f; f=$(kind_dir)/pkg/build/nodeimage/const_storage.go
  awk '/^const defaultStorageManifest = `/ {on=1; next} on && /^`$/ {exit} on {print}' "$f" \
    | sed -e "s|\` + storageProvisionerImage + \`|$LOCAL_PATH_IMAGE|" -e "s|\` + storageHelperImage + \`|$LOCAL_PATH_HELPER_IMAGE|"
}

image_node() {
  local kind images=() i hash ids base ctx cid tmp pause
  kind=$(kind_dir)
  local listed; listed=$(control_plane_images) || exit 1
  mapfile -t images <<<"$listed"
  [ "${#images[@]}" -gt 0 ] || die "kubeadm config images list printed nothing"
  for i in "${images[@]}"; do image_by_name "$i"; done
  pause=$(printf '%s\n' "${images[@]}" | grep /pause:)
  # kind's containerd config runs pods on its own sandbox image; give it ours.
  local sandbox; sandbox=$(sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' "$kind/images/base/files/etc/containerd/config.toml")
  [ -n "$sandbox" ] || die "no sandbox_image in kind's containerd config"
  [ "$sandbox" = "$pause" ] || docker tag "$pause" "$sandbox"
  image_kube_router
  image_local_path
  images+=("$sandbox" "$KUBE_ROUTER_IMAGE" "$LOCAL_PATH_IMAGE" "$LOCAL_PATH_HELPER_IMAGE")
  # The images drills run, those Docker has now: preloaded, so that no
  # cluster has to load them into its nodes (measured in README, "Images").
  # One missing (a cold machine building it in the background) is loaded
  # by the drill that needs it, and the next make images adds it here.
  # Their names, not their IDs, are inputs of the node image: a new build
  # of one (probe-app, as drill changes) does not rebuild the node, and a
  # cluster's LoadImages replaces the stale copy, which it tells by ID.
  local preload=()
  for i in "${PRELOAD_IMAGES[@]}"; do
    if docker image inspect "$i" >/dev/null 2>&1; then preload+=("$i"); else say "not preloading $i: not built yet"; fi
  done

  ids=$(for i in "${images[@]}"; do docker image inspect -f '{{.Id}}' "$i"; done; printf '%s\n' "${preload[@]}")
  images+=("${preload[@]}")
  hash=$( { echo "$ids"; declare -f kube_router_manifest storage_manifest; } | inputs_hash image_node "$root"/cmd/drill-runc/*.go "$root"/internal/runcwrap/*.go "$here/src/cri-tools/go.sum" "$here/src/kubernetes/go.sum")
  present "$NODE_IMAGE" "$hash" && return 0
  try_pull "$NODE_IMAGE" && return 0

  build_k8s_bins
  control_plane_images >/dev/null || exit 1   # the list checked against kubeadm
  say "go build crictl $CRICTL_VERSION, drill-runc"
  gobuild cri-tools "" sigs.k8s.io/cri-tools/cmd/crictl
  (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/drill-runc" ./cmd/drill-runc) || die "go build drill-runc failed"
  base=$(node_rootfs)

  ctx=$(mktemp -d "$out/ctx.XXXXXX")
  cp -a "$kind/images/base/files" "$ctx/files"
  chmod -R u+w "$ctx/files"
  rm -rf "$ctx/files/etc/systemd/system/containerd-fuse-overlayfs.service" "$ctx/files/LICENSES"
  mkdir -p "$ctx/files/kind/manifests"
  echo "$K8S_VERSION" > "$ctx/files/kind/version"
  kube_router_manifest > "$ctx/files/kind/manifests/default-cni.yaml"
  storage_manifest > "$ctx/files/kind/manifests/default-storage.yaml"
  [ -s "$ctx/files/kind/manifests/default-storage.yaml" ] || die "could not read kind's storage manifest"
  cp "$bin/kubeadm" "$bin/kubelet" "$bin/kubectl" "$bin/crictl" "$bin/drill-runc" "$ctx/"
  cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $base
COPY files/ /
COPY kubeadm kubelet kubectl /usr/bin/
COPY crictl /usr/local/bin/
COPY drill-runc /usr/local/sbin/
# kind's base image setup (kind images/base/Dockerfile), on Debian's
# containerd 1.6, runc and CNI plugins. Pods are started through drill-runc,
# which drops capabilities the host cannot grant (no-op on other hosts), and
# with restrict_oom_score_adj, since runc cannot lower oom_score_adj there.
RUN set -e; \
  chmod 0755 /usr/local/bin/* /kind/bin/* /usr/local/sbin/drill-runc; \
  ln -sf /usr/bin/containerd /usr/local/bin/containerd; \
  mkdir -p /opt/cni/bin; for p in /usr/lib/cni/*; do ln -sf "\$p" /opt/cni/bin/; done; \
  sed -i -e 's|restrict_oom_score_adj = false|restrict_oom_score_adj = true|' \
    -e 's#^\( *\)\[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.\(runc\|test-handler\).options\]#&\n\1  BinaryName = "/usr/local/sbin/drill-runc"#' \
    /etc/containerd/config.toml; \
  [ "\$(grep -c drill-runc /etc/containerd/config.toml)" = 2 ] || { echo "could not point containerd at drill-runc" >&2; exit 1; }; \
  ctr oci spec | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json; \
  find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete; \
  rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* /lib/systemd/system/local-fs.target.wants/* \
    /lib/systemd/system/sockets.target.wants/*udev* /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*; \
  echo "ReadKMsg=no" >> /etc/systemd/journald.conf; \
  ln -sf /lib/systemd/systemd /sbin/init; \
  systemctl enable kubelet.service containerd.service undo-mount-hacks.service; \
  systemctl mask systemd-binfmt.service; \
  mkdir -p /etc/kubernetes/manifests
DOCKERFILE
  say "building the node filesystem"
  docker build -t drill.local/node-build:latest "$ctx" >"$out/build.log" 2>&1 || { rm -rf "$ctx"; tail -20 "$out/build.log" >&2; die "docker build of the node filesystem failed"; }
  rm -rf "$ctx"

  say "preloading ${#images[@]} images into the node's containerd"
  cid=$(docker run -d --privileged --entrypoint /bin/sleep drill.local/node-build:latest infinity) || die "cannot start the node build container"
  trap 'docker rm -f "$cid" >/dev/null 2>&1 || true' EXIT
  docker exec "$cid" sh -c 'containerd >/var/log/containerd-build.log 2>&1 &'
  for _ in $(seq 1 60); do docker exec "$cid" ctr version >/dev/null 2>&1 && break; sleep 0.5; done
  docker exec "$cid" ctr version >/dev/null 2>&1 || die "containerd did not start in the node build container: $(docker exec "$cid" tail -5 /var/log/containerd-build.log)"
  docker save "${images[@]}" | docker exec -i "$cid" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null \
    || die "importing images into the node's containerd failed"
  local listed; listed=$(docker exec "$cid" ctr --namespace=k8s.io images ls -q)
  for i in "${images[@]}"; do
    grep -qxF "$(docker_ref "$i")" <<<"$listed" || die "$i is missing from the node's containerd after import"
  done
  # sleep, as PID 1, does not reap: wait until containerd is gone or a zombie.
  docker exec "$cid" sh -c 'pkill -x containerd; while ps -C containerd -o stat= | grep -qv Z; do sleep 0.2; done; rm -f /var/log/containerd-build.log'
  tmp=drill.local/node-build:preloaded
  docker commit "$cid" "$tmp" >/dev/null || die "docker commit of the node failed"
  docker rm -f "$cid" >/dev/null; trap - EXIT
  docker_build "$NODE_IMAGE" "$hash" "FROM $tmp
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [\"/usr/local/bin/entrypoint\", \"/sbin/init\"]"
  docker rmi "$tmp" drill.local/node-build:latest >/dev/null 2>&1 || true
}

# docker_ref NAME: the fully qualified reference containerd lists for NAME.
docker_ref() {
  local r=$1
  case "${r%%/*}" in
    *.*|*:*|localhost) ;;
    *) case "$r" in */*) r=docker.io/$r ;; *) r=docker.io/library/$r ;; esac ;;
  esac
  echo "$r"
}

# --- main ----------------------------------------------------------------------

# The node comes last: it preloads the images before it.
all=(haproxy agnhost probe-app drill-agent velero versitygw monitoring node)
PRELOAD_IMAGES=("$AGNHOST_IMAGE" "$PROBE_APP_IMAGE" "$VELERO_IMAGE" "$VELERO_AWS_PLUGIN_IMAGE" "$VERSITYGW_IMAGE"
  "$PROMETHEUS_IMAGE" "$ALERTMANAGER_IMAGE" "$NODE_EXPORTER_IMAGE" "$KUBE_STATE_METRICS_IMAGE")
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")
docker info >/dev/null 2>&1 || die "Docker is not running: run hack/host-setup.sh"
# Cold, every component's modules are downloaded (network bound) while the
# first compile runs, instead of each download waiting for its compile's
# turn. Best effort: a failed download is retried, and reported, by the
# build that needs it. Warm, this takes seconds.
(
  for d in "$here"/src/*/; do
    (cd "$d" && GONOSUMDB=k8s.io/kube-state-metrics go mod download) || echo "prefetch in $d failed"
  done
) >"$out/prefetch.log" 2>&1 &
prefetch_pid=$!
# Cold, the Debian root filesystems (network and disk bound) are made while
# Kubernetes compiles (CPU bound). Warm, both steps take seconds. Only the
# node, agnhost and the control plane need Kubernetes' binaries.
( tools_rootfs >/dev/null && node_rootfs >/dev/null ) &
rootfs_pid=$!
# Only when an image that needs them is missing: with every image present,
# nothing is compiled, even with a cold Go build cache.
case " ${targets[*]} " in *" node "*|*" agnhost "*|*" control-plane "*)
  if [ -n "${FORCE:-}" ] || ! docker image inspect "$NODE_IMAGE" "$AGNHOST_IMAGE" >/dev/null 2>&1; then
    build_k8s_bins
  fi ;;
esac
# Cold, also compile every other component at once: downloads, compiles and
# single-threaded links overlap, where one after the other would leave a
# core idle.
if [[ " ${targets[*]} " == *" node "* ]] && { ! docker image inspect "$NODE_IMAGE" >/dev/null 2>&1 || [ -n "${FORCE:-}" ]; }; then
  say "go build etcd $ETCD_VERSION, coredns $COREDNS_VERSION, kube-router $KUBE_ROUTER_VERSION, local-path-provisioner $LOCAL_PATH_VERSION, crictl $CRICTL_VERSION in parallel"
  pids=()
  gobuild etcd "" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3 & pids+=($!)
  gobuild coredns "" github.com/coredns/coredns & pids+=($!)
  gobuild kube-router "" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router & pids+=($!)
  gobuild local-path "" github.com/rancher/local-path-provisioner & pids+=($!)
  gobuild cri-tools "" sigs.k8s.io/cri-tools/cmd/crictl & pids+=($!)
  prebuilt="etcd coredns kube-router local-path cri-tools"
  if [[ " ${targets[*]} " == *" monitoring "* || " ${targets[*]} " == *" kube-state-metrics "* ]] &&
     { ! docker image inspect "$KUBE_STATE_METRICS_IMAGE" >/dev/null 2>&1 || [ -n "${FORCE:-}" ]; }; then
    say "and kube-state-metrics $KUBE_STATE_METRICS_VERSION"
    kube_state_metrics_build & pids+=($!)
    prebuilt="$prebuilt kube-state-metrics"
  fi
  for p in "${pids[@]}"; do wait "$p" || die "go build failed"; done
  mv "$bin/server" "$bin/etcd"   # the main package of go.etcd.io/etcd/server/v3
  say "Go binaries built"
fi
# target_images TARGET: the names of the images a target makes.
target_images() {
  case "$1" in
    node) echo "$NODE_IMAGE" ;;
    haproxy) echo "$HAPROXY_IMAGE" ;;
    agnhost) echo "$AGNHOST_IMAGE" ;;
    probe-app) echo "$PROBE_APP_IMAGE" ;;
    drill-agent) echo "$DRILL_AGENT_IMAGE" ;;
    velero) echo "$VELERO_IMAGE"; echo "$VELERO_AWS_PLUGIN_IMAGE" ;;
    versitygw) echo "$VERSITYGW_IMAGE" ;;
    monitoring) printf '%s\n' "$PROMETHEUS_IMAGE" "$ALERTMANAGER_IMAGE" "$NODE_EXPORTER_IMAGE" "$KUBE_STATE_METRICS_IMAGE" ;;
    prometheus) echo "$PROMETHEUS_IMAGE" ;;
    alertmanager) echo "$ALERTMANAGER_IMAGE" ;;
    node-exporter) echo "$NODE_EXPORTER_IMAGE" ;;
    kube-state-metrics) echo "$KUBE_STATE_METRICS_IMAGE" ;;
    kube-router) echo "$KUBE_ROUTER_IMAGE" ;;
    local-path) echo "$LOCAL_PATH_IMAGE"; echo "$LOCAL_PATH_HELPER_IMAGE" ;;
    control-plane) control_plane_images ;;
  esac
}
# IMAGES_REPORT=BASE (hack/run-suites.sh, for a build in the background):
# BASE.plan lists every image this run makes, BASE.done each one once made,
# so that a drill waits only for an image still to come (DRILL_IMAGES_BUILDING).
if [ -n "${IMAGES_REPORT:-}" ]; then
  for t in "${targets[@]}"; do target_images "$t"; done > "$IMAGES_REPORT.plan"
  : > "$IMAGES_REPORT.done"
fi
wait "$rootfs_pid" || die "building the Debian root filesystems failed"
for t in "${targets[@]}"; do
  case "$t" in
    node) image_node ;;
    haproxy) image_haproxy ;;
    agnhost) image_agnhost ;;
    probe-app) image_probe_app ;;
    drill-agent) image_drill_agent ;;
    velero) image_velero; image_velero_aws_plugin ;;
    versitygw) image_versitygw ;;
    monitoring) image_prometheus; image_alertmanager; image_node_exporter; image_kube_state_metrics ;;
    prometheus) image_prometheus ;;
    alertmanager) image_alertmanager ;;
    node-exporter) image_node_exporter ;;
    kube-state-metrics) image_kube_state_metrics ;;
    kube-router) image_kube_router ;;
    local-path) image_local_path ;;
    control-plane) cp_images=$(control_plane_images) || exit 1; for i in $cp_images; do image_by_name "$i"; done ;;
    *) die "unknown image $t (known: ${all[*]} kube-router local-path control-plane prometheus alertmanager node-exporter kube-state-metrics)" ;;
  esac
  [ -z "${IMAGES_REPORT:-}" ] || target_images "$t" >> "$IMAGES_REPORT.done"
done
wait "$prefetch_pid" || true
say "ready: ${targets[*]}"
