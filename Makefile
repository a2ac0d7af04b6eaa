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

.PHONY: run test bench sql clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "$(UV_SPEC)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --extra test --python $(PYTHON)
	touch $@

run: $(VENV)/.synced
	$(VENV)/bin/newsflow run --source $(SOURCE) --warehouse $(WAREHOUSE)

test: $(VENV)/.synced
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.synced
	$(VENV)/bin/python -m tests.bench

clean:
	rm -rf $(VENV) .uv .prefect warehouse/*.duckdb warehouse/*.wal
