"""One writing run per warehouse, across processes.

DuckDB lets one process write a file; two runs that overlap (a schedule and a manual trigger, or two
terminals) would otherwise meet DuckDB's lock error half-way through. A run takes this lock before
it reads anything and keeps it until it has published. The OS drops the lock when its process dies,
so a killed run never leaves a stale lock behind. Who holds it is written beside it, for the message.
"""
from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, ContextManager, Iterator

from filelock import FileLock, Timeout


class WarehouseBusy(RuntimeError):
    """Another process has the DuckDB file open (a run, or a reader such as a BI tool)."""


class RunInProgress(WarehouseBusy):
    """Another run holds the warehouse's write lock: this run did not start."""


def _paths(warehouse: Path) -> tuple[Path, Path]:
    warehouse = Path(warehouse).resolve()  # one lock per file, however it is named
    return warehouse.with_name(warehouse.name + ".lock"), warehouse.with_name(warehouse.name + ".owner.json")


def _alive(owner: dict) -> bool:
    if owner.get("host") != socket.gethostname():
        return True  # another machine on a shared disk: cannot check, trust the file
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, ValueError, TypeError):
        return True
    return True


def holder(warehouse: Path) -> dict | None:
    """Who holds the lock, from the owner file (never by probing the lock: a probe would make a real
    acquire fail). A killed run's leftover file names a dead pid and counts as free."""
    try:
        owner = json.loads(_paths(warehouse)[1].read_text())
    except (OSError, ValueError):
        return None
    return owner if _alive(owner) else None


def describe(warehouse: Path, owner: dict | None) -> str:
    owner = owner or {}
    who = f"run {owner['run_id']}" if owner.get("run_id") else "another run"
    where = f" (pid {owner['pid']} on {owner.get('host', '?')}, since {owner.get('since', '?')})" if owner.get("pid") else ""
    return f"warehouse {warehouse} is being written by {who}{where}"


def refusal(warehouse: Path, owner: dict | None) -> str:
    """What a run that will not wait is told."""
    return (f"{describe(warehouse, owner)}; this run did not start. Try again when it has finished, "
            f"or let it queue (--wait SECONDS)")


@contextmanager
def writer(warehouse: Path, run_id: str, wait_seconds: float = 0, on_wait: Callable[[str], None] | None = None,
           queued: Callable[[float], ContextManager] | None = None) -> Iterator[None]:
    """Hold the warehouse's write lock; wait up to `wait_seconds` for it, else raise RunInProgress.

    `on_wait` hears why the run waits; `queued` wraps the wait (a progress stage, so it never looks hung).
    """
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path, owner_path = _paths(warehouse)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        owner = holder(warehouse)
        if wait_seconds <= 0:
            raise RunInProgress(refusal(warehouse, owner)) from None
        if on_wait:
            on_wait(f"{describe(warehouse, owner)}; waiting up to {wait_seconds:g} s for it to finish")
        started = time.monotonic()
        try:
            with (queued(wait_seconds) if queued else nullcontext()):
                lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise RunInProgress(f"{describe(warehouse, holder(warehouse))}; gave up after waiting "
                                f"{time.monotonic() - started:.0f} s, nothing was changed") from None
    try:
        partial = owner_path.with_suffix(".tmp")  # readers never see half a file
        partial.write_text(json.dumps({
            "run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }))
        os.replace(partial, owner_path)
        yield
    finally:
        owner_path.unlink(missing_ok=True)
        lock.release()
