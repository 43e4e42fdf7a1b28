# drill: chaos and disaster-recovery drills on Kubernetes, measured.
#
#   make drill   set up the host, get the images, bring up the HA kind cluster
#                and run the game day: the cluster checks, then every drill,
#                then the report (_output/reports/report.md and report.html).
#                LABEL_FILTER= selects drills (a Ginkgo label filter, e.g.
#                'fault:drain-zone');
#                the cluster is torn down afterwards unless KEEP_CLUSTER=1.
#                DRILL_DRY_RUN=1 make suites: a dry run on the cluster that is
#                up, touching nothing: each drill prints its target, what it
#                would change and its revert (see hack/run-suites.sh).
#   make test    fast unit tests, then every suite on a real HA cluster: the
#                cluster checks, the drills, and the Ctrl-C test that a stopped
#                drill leaves the cluster whole. Torn down unless KEEP_CLUSTER=1.
#                To fit CI's 90 minutes it leaves out TEST_SKIP: drills whose
#                fault another drill of the run already exercises.
#
# Other targets: setup, images, build, unit, up, down, status, suites, pages,
# kill-matrix.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

CLUSTER     ?= drill
KIND_CONFIG ?= kind-config.yaml
KUBECONFIG_OUT ?= _output/kubeconfig
REPORTS     ?= _output/reports
# The game day's suites, in order; make test adds the interrupt suite. The
# drills that expect alerts (controlplane, workloads) come last: the
# monitoring stack they deploy stays up, and a zone drain that also evicts
# its pods onto the other workers loaded this 2-core machine enough for the
# probe app's 1 s readiness probes to fail (fewest Ready 1 under a PDB of 2).
DRILL_SUITES ?= ./suites/cluster ./suites/zones ./suites/restore ./suites/controlplane ./suites/workloads
# The publish suite (first: half a minute, no cluster) publishes runs to an
# S3 store (versitygw in Docker on 127.0.0.1) and fetches them back. The
# guard suite (after the cluster checks) checks what drill refuses and that a
# dry run changes nothing; the cleanup suite, last, that drill cleanup leaves
# nothing of drill's. make drill's DRILL_SUITES leave the three out.
SUITES      ?= ./suites/publish ./suites/cluster ./suites/guard ./suites/zones ./suites/interrupt ./suites/restore ./suites/controlplane ./suites/workloads ./suites/cleanup
LABEL_FILTER ?=
# Left out of make test (a ginkgo --skip regular expression): the same
# etcd-restore fault as etcd-restore-quorum-loss, with every member lost;
# make drill runs it. It saves about 5.5 minutes.
TEST_SKIP   ?= etcd-restore-total-loss
DRILL       := bin/drill

export GOFLAGS ?= -buildvcs=false

.PHONY: drill test setup images build unit up down status suites lint kill-matrix pages

export LABEL_FILTER
export DRILL_DRY_RUN

# make drill does not wait for the images only later drills need: it makes
# the cluster's (and the fixtures'), brings the cluster up and runs the first
# drills while IMAGES_LATER build in the background; a drill that needs one
# waits for it (README, "Images"). With every image present both take
# seconds.
CLUSTER_IMAGES ?= haproxy agnhost probe-app drill-agent node
IMAGES_LATER   ?= velero versitygw monitoring

drill: setup build
	./images/build.sh $(CLUSTER_IMAGES)
	IMAGES_LATER='$(IMAGES_LATER)' ./hack/run-suites.sh --teardown $(DRILL_SUITES)

test: unit setup images build
	SKIP='$(TEST_SKIP)' ./hack/run-suites.sh --teardown $(SUITES)
	$(MAKE) --no-print-directory pages PAGES_OUT=_output/runs/latest/pages \
	  PAGES_REPORT=$$(f=_output/runs/latest/report.json; [ -f $$f ] && echo $$f || echo internal/pagecheck/testdata/report.json)

# The pages in a headless Chromium (internal/pagecheck, tag browser):
# report.html drawn from PAGES_REPORT (a report.json recorded from a real
# run; make test gives the run it just made) and the history site of a
# generated 30-run history: every drill's timeline and its rows, the
# regression and the flaky drill flagged, no console error, no request
# leaving the page, no sideways scroll on a phone, at most 1 MB. Screenshots,
# printed PDFs and measurements.json (page sizes, load events) go to
# PAGES_OUT. A run that reported no drill (a LABEL_FILTER matching none)
# falls back to the recorded testdata/report.json. Needs a Chromium:
# hack/chromium-setup.sh finds one or installs Debian's.
PAGES_REPORT ?= internal/pagecheck/testdata/report.json
PAGES_OUT    ?= _output/pages
pages:
	./hack/chromium-setup.sh
	go test -tags browser -count=1 -v ./internal/pagecheck -args -report=$(abspath $(PAGES_REPORT)) -out=$(abspath $(PAGES_OUT))

setup:
	./hack/host-setup.sh

images: setup
	./images/build.sh

build:
	go build -o $(DRILL) ./cmd/drill

# Everything but the suites, which need a cluster.
unit:
	go vet ./...
	go vet -tags browser ./internal/pagecheck
	go test -race -count=1 $$(go list ./... | grep -v /suites/)

up: build
	$(DRILL) cluster up --name $(CLUSTER) --config $(KIND_CONFIG) --kubeconfig $(KUBECONFIG_OUT)

down: build
	$(DRILL) cluster down --name $(CLUSTER) --kubeconfig $(KUBECONFIG_OUT)

status: build
	$(DRILL) cluster status --name $(CLUSTER) --kubeconfig $(KUBECONFIG_OUT)

suites: build
	./hack/run-suites.sh $(SUITES)

# The SIGKILL matrix (suites/killmatrix): every fault type killed at every
# journal step, then drill recover, then the cluster checked whole; with the
# disk journal deleted and as a machine restart too. Hours; not in make test.
# LABEL_FILTER or FOCUS narrows it, e.g. FOCUS=matrix-drain-zone.
kill-matrix: setup images build
	GINKGO_TIMEOUT=24h ./hack/run-suites.sh ./suites/killmatrix
