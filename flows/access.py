"""Which folders a run may read articles from, write its warehouse to and load suites from.

Deployment runs (the Prefect UI, the API, schedules: anyone who can press Run) are held to the roots in
`seeds/config.toml [access]` plus the folders `make serve SOURCE=… WAREHOUSE=…` was started with
(NEWSFLOW_SOURCE_ROOTS, NEWSFLOW_WAREHOUSE_ROOTS, NEWSFLOW_EXPECTATION_ROOTS; os.pathsep-separated).
A parameter outside them — after resolving `..` and symlinks — is refused before the run touches
anything. The CLI, run by the machine's own user on their own files, is not held to them unless
NEWSFLOW_ENFORCE_ROOTS=1.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from flows.config import PROJECT_ROOT, setting

ENV = {
    "source": "NEWSFLOW_SOURCE_ROOTS",
    "warehouse": "NEWSFLOW_WAREHOUSE_ROOTS",
    "expectations": "NEWSFLOW_EXPECTATION_ROOTS",
}


class AccessRefused(ValueError):
    """A run parameter names a place outside the folders runs are allowed to use."""


@dataclass(frozen=True)
class Roots:
    source: tuple[Path, ...]
    warehouse: tuple[Path, ...]
    expectations: tuple[Path, ...]

    def allows(self, kind: str, path: str | Path) -> bool:
        resolved = Path(path).resolve()
        return any(resolved == root or resolved.is_relative_to(root) for root in getattr(self, kind))


def configured_roots() -> Roots:
    """The configured roots plus those in the environment, resolved."""

    def roots(kind: str) -> tuple[Path, ...]:
        names = list(setting("access", f"{kind.removesuffix('s')}_roots"))
        names += [p for p in os.environ.get(ENV[kind], "").split(os.pathsep) if p]
        return tuple(dict.fromkeys((PROJECT_ROOT / n).resolve() for n in names))

    return Roots(roots("source"), roots("warehouse"), roots("expectations"))


def enforced(in_deployment: bool) -> bool:
    return in_deployment or os.environ.get("NEWSFLOW_ENFORCE_ROOTS", "") not in ("", "0")


def glob_base(source: str) -> Path:
    """The folder a glob pattern starts from (the part before the first wildcard)."""
    parts = Path(source).parts
    fixed = [p for p in parts[: next((i for i, p in enumerate(parts) if glob.has_magic(p)), len(parts))]]
    return Path(*fixed) if fixed else Path(".")


def check(roots: Roots, source: str, warehouse: str, expectations: str | None) -> None:
    """AccessRefused (one line) unless every path parameter is inside its roots."""
    source_path = glob_base(source) if glob.has_magic(source) else Path(source)
    problems = []
    if not roots.allows("source", source_path):
        problems.append(f"source {source!r} is outside the folders runs may read ({_list(roots.source)})")
    if not roots.allows("warehouse", warehouse):
        problems.append(f"warehouse {warehouse!r} is outside the folders runs may write ({_list(roots.warehouse)})")
    if expectations and not roots.allows("expectations", expectations):
        problems.append(
            f"expectations {expectations!r} is outside the folders suites may be loaded from "
            f"({_list(roots.expectations)})"
        )
    if problems:
        raise AccessRefused("; ".join(problems) + "; see [access] in seeds/config.toml")


def _list(paths: tuple[Path, ...]) -> str:
    return ", ".join(str(p) for p in paths) or "none"
