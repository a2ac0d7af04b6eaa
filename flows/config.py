"""Where things live and the thresholds the pipeline uses (read from seeds/config.toml)."""
from __future__ import annotations

import os
import tomllib
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


def setting(section: str, key: str):
    return settings()[section][key]
