# One-command set-up: every target builds .venv/ from the lock file when it is missing or stale.
PYTHON ?= python3
UV_SPEC := uv>=0.13,<0.14
UV := .uv/bin/uv
VENV := .venv
SOURCE ?= seeds/articles
WAREHOUSE ?= warehouse/news.duckdb

export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

.PHONY: run test test-fast lint bench eval sql clean serve stop

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "$(UV_SPEC)"

# --compile-bytecode: this kind of machine sets PYTHONDONTWRITEBYTECODE=1 and uv writes no .pyc, so without it
# every process (each run, each Prefect server, each test worker) compiles Prefect, GX and polars again (~15 s)
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --extra test --compile-bytecode --python $(PYTHON)
	touch $@

run: $(VENV)/.synced
	$(VENV)/bin/newsflow run --source $(SOURCE) --warehouse $(WAREHOUSE)

# two workers: many of the long tests wait on subprocesses and servers, so the two cores overlap them;
# modules in the order tests/conftest.py gives (the longest first), not xdist's (the most tests first),
# so that the kill -9 test does not start last and run alone
test: lint
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# the inner loop: everything but the tests marked slow (real servers, kill -9 runs, whole-corpus runs)
test-fast: $(VENV)/.synced
	$(VENV)/bin/python -m pytest -m "not slow" -q $(PYTEST_ARGS)

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check flows tests
	$(VENV)/bin/ruff format --check flows tests

bench: $(VENV)/.synced
	$(VENV)/bin/python -m tests.bench

# the scorecard on the annotated corpora (seeds/eval): runs the pipeline into throwaway warehouses
eval: $(VENV)/.synced
	$(VENV)/bin/python -m flows.evaluate $(EVAL_ARGS)

SERVE_ARGS ?=

# Prefect server on 127.0.0.1:4200 (UI http://127.0.0.1:4200/) + the curate/curate deployment, in the
# foreground, and the runs' Data Docs on http://127.0.0.1:4201/; Ctrl-C stops serve, then the server.
# E.g. SERVE_ARGS="--cron '*/15 * * * *' --port 4300 --docs-port 4301" (or NEWSFLOW_PORT, NEWSFLOW_DOCS_PORT)
serve: $(VENV)/.synced
	$(VENV)/bin/python -m flows.app.serve up --source $(SOURCE) --warehouse $(WAREHOUSE) $(SERVE_ARGS)

# Stop what a (possibly backgrounded) `make serve` started; harmless when nothing runs
stop:
	@if [ -x $(VENV)/bin/python ]; then $(VENV)/bin/python -m flows.app.serve down; else echo "nothing to stop"; fi

clean:
	rm -rf $(VENV) .uv .prefect warehouse/*.duckdb*   # the file, its WAL, lock, owner file and Data Docs
