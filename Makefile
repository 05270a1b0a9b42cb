# One entry point for people and CI: `make run` and `make test` set everything up themselves.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
# Each process (a run, a test worker, a parse worker) imports Prefect, polars and Great
# Expectations: compiled once at install and cached after, not compiled anew every time (an
# environment with PYTHONDONTWRITEBYTECODE set made every import of GX take 17 s, not 7).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup run test lint format clean bench bench-parse accuracy train-parser mutation

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --quiet --compile-bytecode
	touch $@

setup: $(VENV)/.synced  ## Install uv and the locked dependencies into .venv

run: setup  ## Ingest the bundled sample pages into warehouse/news.duckdb
	$(VENV)/bin/newsflow run

test: setup  ## Lint, then run the test suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n 2 --dist loadfile --cov --cov-report=term

bench: setup  ## newsflow run on 10k, 50k and 100k generated pages against the I/O floor (about 20 min)
	$(VENV)/bin/python -m benchmarks.crawl_scale

bench-parse: setup  ## Time the parse stage alone on 20,000 generated pages (pages/s, MB/s)
	$(VENV)/bin/python -m benchmarks.parse_speed

# The labelled real pages live beside the project (../shared/realpages), not in it.
REAL_PAGES ?= ../shared/realpages

accuracy: setup  ## Parser accuracy: fixture pages, real pages, 5-fold and leave-one-site-out
	$(VENV)/bin/python -m benchmarks.accuracy --real-pages $(REAL_PAGES)

train-parser: setup  ## Retrain flows/reference/line_model.crfsuite on the fixture and real pages
	$(VENV)/bin/python -m flows.train_parser --real-pages $(REAL_PAGES)

# Slow (CPU-bound, most of an hour on 2 cores): not part of `make test`. MODULES=parse limits it.
MODULES ?=

mutation: setup  ## Mutation score per module (mutmut) and the surviving mutants
	$(VENV)/bin/python tools/mutation.py $(MODULES)

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) warehouse/news.duckdb warehouse/news.duckdb.lock
