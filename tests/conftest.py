"""Shared fixtures: an isolated Prefect backend and one pipeline run over the seeds."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Offline, quiet, and never the developer's own Prefect home.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="newsflow-prefect-")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "articles"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def seed_run(prefect_backend, tmp_path_factory):
    """The curate flow run once over the seed articles: (summary, warehouse path)."""
    from flows.pipeline import run_curate

    warehouse = tmp_path_factory.mktemp("wh") / "news.duckdb"
    summary = run_curate(source=str(SEEDS), warehouse=str(warehouse))
    return summary, warehouse


@pytest.fixture()
def query(seed_run):
    from flows.warehouse.store import Warehouse

    wh = Warehouse(seed_run[1])
    return wh.query


@pytest.fixture()
def seeds_copy(tmp_path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder
