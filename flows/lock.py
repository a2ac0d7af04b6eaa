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
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout


class WarehouseBusy(RuntimeError):
    """Another run (or another program) is writing the warehouse."""


def _paths(warehouse: Path) -> tuple[Path, Path]:
    return warehouse.with_name(warehouse.name + ".lock"), warehouse.with_name(warehouse.name + ".owner.json")


def holder(warehouse: Path) -> dict | None:
    """Who holds the lock, if anyone does."""
    lock_path, owner_path = _paths(Path(warehouse))
    if not lock_path.exists():
        return None
    probe = FileLock(str(lock_path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        try:
            return json.loads(owner_path.read_text())
        except (OSError, ValueError):
            return {}
    probe.release()
    return None


def describe(warehouse: Path, owner: dict | None) -> str:
    owner = owner or {}
    who = f"run {owner['run_id']}" if owner.get("run_id") else "another run"
    where = f" (pid {owner['pid']} on {owner.get('host', '?')}, since {owner.get('since', '?')})" if owner.get("pid") else ""
    return f"warehouse {warehouse} is being written by {who}{where}"


@contextmanager
def writer(warehouse: Path, run_id: str, wait_seconds: float = 0,
           on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the warehouse's write lock; wait up to `wait_seconds` for it, else raise WarehouseBusy."""
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path, owner_path = _paths(warehouse)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        message = describe(warehouse, holder(warehouse))
        if wait_seconds <= 0:
            raise WarehouseBusy(f"{message}; this run did not start. Try again when it has finished, "
                                f"or let it queue (--wait SECONDS)") from None
        if on_wait:
            on_wait(f"{message}; waiting up to {wait_seconds:g} s for it to finish")
        started = time.monotonic()
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise WarehouseBusy(f"{describe(warehouse, holder(warehouse))}; gave up after waiting "
                                f"{time.monotonic() - started:.0f} s, nothing was changed") from None
    try:
        owner_path.write_text(json.dumps({
            "run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }))
        yield
    finally:
        owner_path.unlink(missing_ok=True)
        lock.release()
