"""Where things live and the thresholds the pipeline uses (read from seeds/config.toml)."""

from __future__ import annotations

import os
import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = Path(os.environ.get("NEWSFLOW_SEEDS", PROJECT_ROOT / "seeds"))
SQL_DIR = PROJECT_ROOT / "sql"
EXPECTATIONS_DIR = Path(os.environ.get("NEWSFLOW_EXPECTATIONS", PROJECT_ROOT / "expectations"))
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "news.duckdb"


@cache
def settings() -> dict:
    """The thresholds in seeds/config.toml, or the file named by NEWSFLOW_CONFIG."""
    path = Path(os.environ.get("NEWSFLOW_CONFIG", SEEDS_DIR / "config.toml"))
    with path.open("rb") as fh:
        return tomllib.load(fh)


# Per-run overrides (a deployment's `thresholds` parameter), set inside each task that reads them:
# tasks may run in other threads or on Dask workers, so they are passed explicitly, not inherited.
_OVERRIDES: ContextVar[dict | None] = ContextVar("newsflow_overrides", default=None)


@contextmanager
def overridden(values: dict[str, dict] | None):
    """Within the block, `setting(section, key)` returns values[section][key] where given."""
    token = _OVERRIDES.set(values or {})
    try:
        yield
    finally:
        _OVERRIDES.reset(token)


def setting(section: str, key: str):
    override = (_OVERRIDES.get() or {}).get(section, {})
    return override[key] if key in override else settings()[section][key]
