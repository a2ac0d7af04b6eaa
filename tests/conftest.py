"""Shared fixtures: an isolated Prefect backend and one pipeline run over the seeds."""

from __future__ import annotations

import os
import re
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
CONFIG = ROOT / "seeds" / "config.toml"


def _config_without_data_docs() -> Path:
    """seeds/config.toml with `data_docs_keep = 0`: rendering a run's Data Docs costs ~2 s, and only the tests
    that check them (the `data_docs` fixture) need them; everything else in the file is the shipped value."""
    text, n = re.subn(r"(?m)^data_docs_keep = \d+", "data_docs_keep = 0", CONFIG.read_text())
    assert n == 1, f"{CONFIG} no longer has one `data_docs_keep = N` line"
    path = Path(tempfile.mkdtemp(prefix="newsflow-config-")) / "config.toml"
    path.write_text(text)
    return path


os.environ.setdefault("NEWSFLOW_CONFIG", str(_config_without_data_docs()))


@pytest.fixture(scope="session")
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def seed_run(prefect_backend, tmp_path_factory, worker_id):
    """The curate flow run once over the seed articles: (summary, warehouse path). Tests only read it (or
    copy it); with pytest-xdist the first worker to need it runs it and the others reuse it."""
    import json

    from filelock import FileLock

    from flows.pipeline import run_curate

    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # shared by the workers of this session
    folder = root / "seed-run"
    warehouse, saved = folder / "news.duckdb", folder / "summary.json"
    with FileLock(str(root / "seed-run.lock")):
        if saved.exists():
            return json.loads(saved.read_text()), warehouse
        folder.mkdir(exist_ok=True)
        summary = run_curate(source=str(SEEDS), warehouse=str(warehouse))
        saved.write_text(json.dumps(summary, default=str))
    return summary, warehouse


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory, worker_id):
    """A factory of Prefect homes whose database is already migrated: `prefect_home(folder)` -> str.

    A fresh PREFECT_HOME costs every process that starts an API server in it ~10 s of migrations and
    block registration; the tests that run `newsflow` in subprocesses each want their own home (as two
    terminals would), so one home is migrated per session (by booting the server once) and copied."""
    import sqlite3

    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent
    template = root / "prefect-home-template"
    with FileLock(str(root / "prefect-home-template.lock")):
        if not (template / "prefect.db").exists():
            from flows.app.process import ApiServer

            building = root / "prefect-home-building"
            shutil.rmtree(building, ignore_errors=True)
            building.mkdir()
            saved = os.environ["PREFECT_HOME"]
            os.environ["PREFECT_HOME"] = str(building)
            try:
                server = ApiServer().start()
                server.wait_ready(180)
                server.stop()
            finally:
                os.environ["PREFECT_HOME"] = saved
            building.rename(template)

    def make(folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        for extra in template.glob("*.toml"):  # memo_store.toml: block registration already done
            shutil.copy(extra, folder / extra.name)
        source, target = sqlite3.connect(template / "prefect.db"), sqlite3.connect(folder / "prefect.db")
        try:
            source.backup(target)  # a consistent copy, WAL included
        finally:
            source.close()
            target.close()
        return str(folder)

    return make


@pytest.fixture()
def data_docs(monkeypatch):
    """The shipped configuration, Data Docs included, for this test (and the processes it starts)."""
    from flows.config import settings

    monkeypatch.delenv("NEWSFLOW_CONFIG", raising=False)
    settings.cache_clear()
    yield
    settings.cache_clear()


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


# Whole runs are slow: a test that needs the Prefect backend (a flow run) or starts newsflow in a
# subprocess is marked `slow`, so `make test-fast` (-m "not slow") keeps to the unit tests.
SUBPROCESS_MODULES = {"test_cli", "test_concurrency", "test_data_docs", "test_kill", "test_readers", "test_server"}


# The longest modules first, so that with `make test`'s two workers (pytest-xdist, --dist loadfile) they do
# not end up queued behind each other at the end.
LONGEST_FIRST = [
    "test_kill",
    "test_server",
    "test_readers",
    "test_incremental",
    "test_cli",
    "test_concurrency",
    "test_pipeline",
    "test_hostile",
    "test_gate",
]


def _module(item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1]


def pytest_collection_modifyitems(config, items):
    items.sort(
        key=lambda item: LONGEST_FIRST.index(_module(item)) if _module(item) in LONGEST_FIRST else len(LONGEST_FIRST)
    )
    for item in items:
        if "prefect_backend" in item.fixturenames or _module(item) in SUBPROCESS_MODULES:
            item.add_marker(pytest.mark.slow)
