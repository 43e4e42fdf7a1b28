#!/usr/bin/env bash
# Measures `drill cluster up` against plain kind on the same config: whole
# runs of each to every node Ready, interleaved (kind, drill, kind, ...), N of
# each (default 3), each on a machine with nothing else running. Plain kind is
# `kind create cluster --wait`, whose wait covers the control-plane nodes,
# then `kubectl wait` for every node inside the first control-plane node.
# drill's runs also say how much longer CoreDNS's spread took to roll out
# after `drill cluster up` returned (each drill waits for it first).
# Prints each run and the medians; keeps them in _output/measure.
#
#   hack/measure-cluster-up.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
config=${KIND_CONFIG:-kind-config.yaml}
name=drill-measure
mkdir -p _output/measure _output/bin
out=_output/measure/cluster-up-$(date -u +%Y%m%dT%H%M%SZ).tsv
go build -o _output/bin/kind sigs.k8s.io/kind
go build -o bin/drill ./cmd/drill
kubeconfig=$(mktemp)
trap 'rm -f "$kubeconfig"; _output/bin/kind delete cluster --name "$name" >/dev/null 2>&1 || true' EXIT

down() { _output/bin/kind delete cluster --name "$name" >/dev/null 2>&1 || true; }
run_kind() {
  _output/bin/kind create cluster --name "$name" --config "$config" --kubeconfig "$kubeconfig" --wait 10m >/dev/null 2>&1
  docker exec "$name-control-plane" kubectl --kubeconfig /etc/kubernetes/admin.conf wait --for=condition=Ready nodes --all --timeout=10m >/dev/null
}
run_drill() {
  bin/drill cluster up --name "$name" --config "$config" --kubeconfig "$kubeconfig" >/dev/null 2>&1
}
dns_after() {
  local start; start=$(date +%s.%N)
  docker exec "$name-control-plane" kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system rollout status deployment/coredns --timeout=5m >/dev/null
  echo "$(date +%s.%N) - $start" | bc
}

printf 'run\ttool\tseconds\tdns_after\n' > "$out"
down
for i in $(seq 1 "$n"); do
  for tool in kind drill; do
    start=$(date +%s.%N)
    "run_$tool"
    s=$(echo "$(date +%s.%N) - $start" | bc)
    dns=0
    [ "$tool" = drill ] && dns=$(dns_after)
    printf '%d\t%s\t%.1f\t%.1f\n' "$i" "$tool" "$s" "$dns" | tee -a "$out"
    down
  done
done
median() { awk -v t="$1" '$2 == t {print $3}' "$out" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
k=$(median kind); d=$(median drill)
echo "median: kind $k s, drill cluster up $d s, ratio $(echo "scale=3; $d / $k" | bc)" | tee -a "$out.summary"
echo "runs in $out"
