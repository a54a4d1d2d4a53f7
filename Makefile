# Lambkin: `make run` (serve + deploy + invoke the example), `make test` (the whole suite).
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: install docker images run serve test test-unit clean bench bench-quick

install:
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test]'

docker:
	bash scripts/ensure-docker.sh

images: install docker
	$(PYTHON) -m orchestrator.images build

run: images
	$(PYTHON) -m orchestrator demo

serve: install
	$(PYTHON) -m orchestrator serve

test: images
	$(PYTHON) -m pytest -q $(PYTEST_ARGS) tests

test-unit: install
	$(PYTHON) -m pytest -q tests/unit

# Lambkin vs AWS's Runtime Interface Emulator, same run: bench/results/latest.{json,png,md}.
bench: images
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test,bench]'
	$(PYTHON) -m bench.run --profile full

bench-quick: images
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test,bench]'
	$(PYTHON) -m bench.run --profile quick

clean:
	rm -rf .pytest_cache build *.egg-info
