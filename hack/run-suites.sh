#!/usr/bin/env bash
# Runs drill's Ginkgo suites against the HA kind cluster named $CLUSTER
# (default drill), bringing it up or reusing it first. With DRILL_KUBECONFIG
# (and DRILL_CONTEXT) set, the suites target that existing cluster instead and
# nothing is created.
#
#   hack/run-suites.sh [--teardown] [PACKAGES...]
#
# Each run keeps its evidence in a directory of its own, _output/runs/<start
# time> (`drill runs new`), which _output/runs/latest and _output/reports point
# to: JUnit in junit.xml; each drill's report in drills/, written as it goes,
# gathered at the end by `drill report` into report.json, report.md,
# report.html and junit-drills.xml, with a table on stdout. Earlier runs are
# kept. Journals of faults in effect live in _output/journal; the suites
# recover any an earlier harness left open before their first drill.
# LABEL_FILTER (or LABELS) selects specs with a Ginkgo label filter, e.g.
# LABEL_FILTER='fault:drain-zone'; SKIP, a regular expression, leaves out the
# specs whose text matches (ginkgo --skip), FOCUS keeps only those that match
# (ginkgo --focus); GINKGO_TIMEOUT bounds the whole run (default 85m). On failure, the cluster's logs are exported
# to _output/reports/logs. --teardown deletes the kind cluster at the end,
# pass or fail, unless KEEP_CLUSTER=1.
# IMAGES_LATER names images (images/build.sh targets) to build in the
# background while the cluster comes up and the first drills run; a drill
# that needs one of them waits for it (log: _output/images/background.log).
# DRILL_DRY_RUN=1 makes it a dry run: the cluster must be up already (it is
# neither created nor torn down), no journal is recovered and no image
# loaded; each drill spec prints its plan (what it would act on, change and
# revert) instead of running, and the other specs are skipped but those
# labelled dry-run (./suites/guard checks that a dry run changes nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

teardown=false
if [ "${1:-}" = --teardown ]; then teardown=true; shift; fi
# By default every suite but the SIGKILL matrix (hours: make kill-matrix).
[ "$#" -gt 0 ] || set -- $(ls -d ./suites/*/ | grep -v killmatrix)
cluster=${CLUSTER:-drill}
config=${KIND_CONFIG:-kind-config.yaml}
kubeconfig=${KUBECONFIG_OUT:-_output/kubeconfig}
labels=${LABEL_FILTER:-${LABELS:-}}
skip=${SKIP:-}
drill=bin/drill
if [ -n "${REPORTS:-}" ]; then
  reports=$REPORTS
  mkdir -p "$reports"
else
  reports=$("$drill" runs new --root _output/runs)
  # _output/reports is where the reports used to be: the latest run.
  if [ -L _output/reports ] || [ ! -e _output/reports ]; then
    ln -sfn runs/latest _output/reports
  fi
fi
t0=$(date +%s)
say() { printf '[suites %4ds] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

rc=0
bg_pid=
finish() {
  if [ -n "$bg_pid" ] && kill -0 "$bg_pid" 2>/dev/null; then
    say "stopping the background image build (pid $bg_pid)"
    kill -- -"$bg_pid" 2>/dev/null || kill "$bg_pid" 2>/dev/null || true
  fi
  if [ -d "$reports/drills" ]; then
    say "report of the drills that ran"
    "$drill" report --dir "$reports" || rc=1
  fi
  if [ "$rc" -ne 0 ] && [ -z "${DRILL_KUBECONFIG:-}" ] && [ -z "${dry_run:-}" ]; then
    say "collecting the cluster's logs into $reports/logs"
    "$drill" cluster logs --name "$cluster" --dir "$reports/logs" || true
  fi
  if $teardown && [ -z "${KEEP_CLUSTER:-}" ] && [ -z "${DRILL_KUBECONFIG:-}" ]; then
    say "tearing down cluster $cluster"
    "$drill" cluster down --name "$cluster" --kubeconfig "$kubeconfig" || rc=1
  fi
  say "done (exit $rc)"
  exit "$rc"
}
trap finish EXIT
trap 'rc=130; exit' INT TERM

dry_run=${DRILL_DRY_RUN:-}
[ "$dry_run" != 0 ] && [ "$dry_run" != false ] || dry_run=
export DRILL_DRY_RUN=$dry_run
if [ -n "$dry_run" ]; then
  teardown=false
  say "dry run: cluster $cluster is not brought up, changed or torn down"
elif [ -z "${DRILL_KUBECONFIG:-}" ]; then
  if [ -n "${IMAGES_LATER:-}" ]; then
    mkdir -p _output/images
    # Its own process group, so that finish stops its compilers too.
    IMAGES_REPORT=$PWD/_output/images/background setsid ./images/build.sh $IMAGES_LATER > _output/images/background.log 2>&1 &
    bg_pid=$!
    echo "$bg_pid" > _output/images/background.pid
    export DRILL_IMAGES_BUILDING=$PWD/_output/images/background.pid
    say "building $IMAGES_LATER in the background (pid $bg_pid, log _output/images/background.log)"
  fi
  "$drill" cluster up --name "$cluster" --config "$config" --kubeconfig "$kubeconfig" --report-dir "$reports" || { rc=$?; exit; }
fi
say "running suites: $*"
say "reports go to $reports"
# Without it, the suites skip themselves (framework.SuitesEnv): a plain
# go test ./... touches no cluster.
export DRILL_RUN_SUITES=1
export DRILL_CLUSTER_NAME=$cluster DRILL_KIND_CONFIG=$PWD/$config DRILL_REPORT_DIR=$(cd "$reports" && pwd)
export DRILL_JOURNAL_DIR=${DRILL_JOURNAL_DIR:-$PWD/_output/journal}
# A Ctrl-C lets the drill in progress revert its fault: the grace period
# covers the slowest revert (a control-plane node rejoining). A second Ctrl-C
# does not wait.
go tool ginkgo -v --timeout="${GINKGO_TIMEOUT:-85m}" --grace-period=10m --junit-report=junit.xml --output-dir="$reports" \
  ${labels:+--label-filter="$labels"} ${skip:+--skip="$skip"} ${FOCUS:+--focus="$FOCUS"} "$@" || rc=$?
