# Two commands for a newcomer: `make demo` and `make test`. Both bootstrap
# everything they need: uv (installed with pip into .tools/ when missing),
# then .venv from the committed uv.lock.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen --no-sync

.PHONY: install demo serve test lint typecheck imports pytest fuzz bench schema clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

install: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --quiet

demo: install
	$(RUN) oaas demo

serve: install
	$(RUN) oaas serve

lint: install
	$(RUN) ruff check platform tests ops sdk_clients
	$(RUN) ruff format --check platform tests ops sdk_clients

typecheck: install
	$(RUN) mypy

imports: install
	$(RUN) lint-imports

# The suite in parallel (pytest-xdist): tests mostly wait on the databases, so one
# worker per core (3 exhausted PostgreSQL's 100 connections once). PYTEST_WORKERS=0 runs one process.
PYTEST_WORKERS ?= 2
pytest: install
	$(RUN) pytest -n $(PYTEST_WORKERS)

test: lint typecheck imports pytest

# The schemathesis fuzzing of tests/http/test_schemathesis.py, long: `make test` runs it with a few
# examples per operation. OAAS_FUZZ_EXAMPLES=N make fuzz to choose.
OAAS_FUZZ_EXAMPLES ?= 500
fuzz: install
	OAAS_FUZZ_EXAMPLES=$(OAAS_FUZZ_EXAMPLES) $(RUN) pytest tests/http/test_schemathesis.py --timeout=0 -p no:logging

schema: install
	OAAS_UPDATE_SCHEMA=1 $(RUN) pytest -q tests/graphql/test_schema.py

# The benchmarks (ops/bench/README.md), about 15 minutes: SQLite, and PostgreSQL
# at OAAS_BENCH_POSTGRES_URL (the local server by default; empty: SQLite only).
# BENCH_ARGS passes options; the default adds the 1,000,000-order run, so every
# target is printed (BENCH_ARGS="" leaves it out, about 5 minutes less).
OAAS_BENCH_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
BENCH_ARGS ?= --million
bench: install
	OAAS_BENCH_POSTGRES_URL=$(OAAS_BENCH_POSTGRES_URL) $(RUN) python -m ops.bench $(BENCH_ARGS)

clean:
	rm -rf .venv .tools .oaas-demo .pytest_cache .mypy_cache .ruff_cache
