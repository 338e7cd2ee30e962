# Everything the project needs is installed from its own files: uv (bootstrapped into .bootstrap/ when the
# machine lacks it), then the locked environment in .venv. Bytecode is compiled at install: where
# PYTHONDONTWRITEBYTECODE is set, every process (each server worker, each test's CLI run) would otherwise
# compile its imports from source, ~6 s instead of ~2.5 s. For the same reason the project's own modules
# (and pytest's rewritten test modules) may keep their bytecode: ~1.3 s of every test run's start-up.
unexport PYTHONDONTWRITEBYTECODE
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .bootstrap/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test test-unit lint bench bench-scale mutation clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@if [ ! -x "$(UV)" ]; then \
		echo "uv not found: bootstrapping it into .bootstrap/"; \
		$(PYTHON) -m venv .bootstrap && .bootstrap/bin/pip install --quiet uv; \
	fi
	$(UV) sync --frozen --compile-bytecode
	@touch $@

run: install
	$(BIN)/shop migrate
	SHOP_LOG_FORMAT=$${SHOP_LOG_FORMAT:-text} $(BIN)/shop serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check domain application adapters entrypoints tests
	$(BIN)/lint-imports
	$(BIN)/mypy domain application adapters entrypoints

# Property tests try 300 examples each here, 30 in a bare `pytest` (tests/conftest.py).
test: lint
	$(BIN)/pytest --hypothesis-profile=thorough

test-unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python -m tests.bench.run

# Mutation testing of domain/ and application/ against the fast suite ([tool.mutmut] in pyproject.toml); not
# part of `make test`. From scratch each time (mutmut would keep results made with older tests), then the
# surviving mutants (`$(BIN)/mutmut show <name>` for one) and the score; fails below 90 %.
mutation: install
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python -m tests.support.mutation_score

clean:
	rm -rf $(VENV) .bootstrap .pytest_cache .mypy_cache shop.db mutants

# The order and catalog endpoints at 10,000,000 orders next to 10,000 (long: BENCH_ARGS=--keep pays it once).
bench-scale: install
	$(BIN)/python -m tests.bench.scale $(BENCH_ARGS)
