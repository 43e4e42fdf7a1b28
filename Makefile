# drill: chaos and disaster-recovery drills on Kubernetes, measured.
#
#   make drill   set up the host, get the images, bring up the HA kind cluster
#                and run the game day (today: the cluster suite). Keeps the
#                cluster for the next run; `make down` removes it.
#   make test    fast unit tests, then the suites on a real HA cluster, which
#                is torn down afterwards (KEEP_CLUSTER=1 keeps it).
#
# Other targets: setup, images, build, unit, up, down, status, suites.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

CLUSTER     ?= drill
KIND_CONFIG ?= kind-config.yaml
KUBECONFIG_OUT ?= _output/kubeconfig
REPORTS     ?= _output/reports
SUITES      ?= ./suites/...
LABELS      ?=
DRILL       := bin/drill

export GOFLAGS ?= -buildvcs=false

.PHONY: drill test setup images build unit up down status suites lint

drill: setup images build up
	./hack/run-suites.sh $(SUITES)

test: unit setup images build
	KEEP_CLUSTER=$${KEEP_CLUSTER:-} ./hack/run-suites.sh --teardown $(SUITES)

setup:
	./hack/host-setup.sh

images: setup
	./images/build.sh

build:
	go build -o $(DRILL) ./cmd/drill

# Everything but the suites, which need a cluster.
unit:
	go vet ./...
	go test -count=1 $$(go list ./... | grep -v /suites/)

up: build
	$(DRILL) cluster up --name $(CLUSTER) --config $(KIND_CONFIG) --kubeconfig $(KUBECONFIG_OUT)

down: build
	$(DRILL) cluster down --name $(CLUSTER) --kubeconfig $(KUBECONFIG_OUT)

status: build
	$(DRILL) cluster status --name $(CLUSTER) --kubeconfig $(KUBECONFIG_OUT)

suites: build
	./hack/run-suites.sh $(SUITES)
