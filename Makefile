# The README's two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format clean package bench load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt client/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	./scripts/run_local.sh

# The whole suite on moto (the service's tests, then the Python client's in client/tests), then the
# repository-level tests again on Amazon's DynamoDB Local (skipped, with the reason, where Java 17+
# or npm is missing; CI installs them).
test: $(VENV)/.installed
	$(BIN)/pytest
	TEST_DYNAMODB_LOCAL=1 $(BIN)/pytest -m dynamodb_local

# Benchmarks: figures, targets and PASS/FAIL (README, Performance). BENCH_ARGS=--quick etc.
bench: $(VENV)/.installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# A bounded load test on loopback: locust against gunicorn on DynamoDB Local (docs/performance.md).
load: $(VENV)/.installed
	$(BIN)/python -m bench.load.run $(LOAD_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The Lambda zip, built by Zappa from a venv holding only the runtime dependencies.
STAGE ?= production
LAMBDA_VENV := .venv-lambda
package:
	rm -rf $(LAMBDA_VENV)
	$(PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt zappa==0.63.0
	mkdir -p dist
	VIRTUAL_ENV=$(abspath $(LAMBDA_VENV)) PATH=$(abspath $(LAMBDA_VENV))/bin:$$PATH \
		$(LAMBDA_VENV)/bin/zappa package $(STAGE) --output dist/nativemessage-$(STAGE).zip
	cp dist/nativemessage-$(STAGE).zip dist/nativemessage-$(STAGE)-sources.zip  # make bench compares the two
	$(LAMBDA_VENV)/bin/python scripts/compile_zip.py dist/nativemessage-$(STAGE).zip $(STAGE)
	@ls -l dist/nativemessage-$(STAGE).zip

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) dist .pytest_cache .ruff_cache
