# Lambkin: `make run` (serve + deploy + invoke the example), `make test` (the whole suite).
# Each target does its own set-up, idempotently: on a fresh Debian 12 machine (root) the first
# run installs Docker, mmdebstrap and the host's language tools from the machine's apt sources.
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: install docker maven host-runtimes wrk compose setup images images-all server-image run serve test test-unit lint clean bench bench-quick bench-swarm

install:
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test,dev]'
	bash scripts/ensure-npm.sh
	$(PYTHON) -m orchestrator.console.assets

docker:
	bash scripts/ensure-docker.sh

# node, ruby, a JDK, Jackson, go, curl and en_US.UTF-8: the process driver and AWS's emulator run
# our runtime clients with the host's interpreters, and the suite compiles Go and Java fixtures.
host-runtimes:
	bash scripts/ensure-host-runtimes.sh

# wrk: the benchmark's second load generator (Debian's wrk package).
wrk:
	bash scripts/ensure-wrk.sh

# Compose for the team stack (deploy/compose.yaml): Debian's docker-compose (v1) and the
# `docker compose` plugin (v2, Debian 13's package unpacked into ~/.cache/lambkin/compose-v2).
compose: docker
	bash scripts/ensure-compose.sh --install-plugin

setup: install docker host-runtimes compose

# The Debian 12 runtimes (python3.11, nodejs18.x, ruby3.1, java17, provided.*) unless told:
# IMAGES='python3.13 java21' for those, IMAGES=--all for every runtime (what `make test` builds).
IMAGES ?=
# Maven: the Java images carry AWS's aws-lambda-java-* jars, fetched by the host's mvn.
maven:
	bash scripts/ensure-maven.sh

images: install docker maven
	$(PYTHON) -m orchestrator.images build $(IMAGES)

images-all: install docker maven
	$(PYTHON) -m orchestrator.images build --all

# The team stack's images: lambkin/server (the control plane) and lambkin/prometheus, each FROM
# a base made from Debian packages (orchestrator/stack_images.py). On official images instead:
# SERVER_IMAGE_ARGS='--server-base python:3.11-slim --prometheus-base IMAGE'.
SERVER_IMAGE_ARGS ?=
server-image: install docker
	$(PYTHON) -m orchestrator.stack_images build $(SERVER_IMAGE_ARGS)

run: images
	$(PYTHON) -m orchestrator demo

serve: install
	$(PYTHON) -m orchestrator serve

# The suite runs every offered runtime on docker: all their images.
test: setup images-all
	$(PYTHON) -m pytest -q $(PYTEST_ARGS) tests

test-unit: install
	$(PYTHON) -m pytest -q tests/unit

# The quality gates CI runs before the suite: lint, formatting, strict typing.
lint: install
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

# Lambkin vs AWS's Runtime Interface Emulator, same run: bench/results/latest.{json,png,md}.
# BENCH_RUNS whole runs (each target's spread over them is in the report); BENCH_RUNS=1 is quicker.
BENCH_RUNS ?= 3
bench: images wrk host-runtimes
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test,bench]'
	$(PYTHON) -m bench.run --profile full --runs $(BENCH_RUNS)
	$(PYTHON) -m bench.swarm

# The swarm driver beside the docker driver (cold start, warm p50) on the 3-node test swarm
# (scripts/swarm-cluster.sh): bench/results/swarm.{json,md}.
bench-swarm: images
	$(PYTHON) -m bench.swarm

bench-quick: images wrk host-runtimes
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test,bench]'
	$(PYTHON) -m bench.run --profile quick

clean:
	rm -rf .pytest_cache build *.egg-info
