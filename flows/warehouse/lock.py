"""One writing run per warehouse, across processes.

DuckDB lets one process write a file; two runs that overlap (a schedule and a manual trigger, or two
terminals) would otherwise meet DuckDB's lock error half-way through. A run takes this lock before
it reads anything and keeps it until it has published. The OS drops the lock when its process dies,
so a killed run never leaves a stale lock behind. Who holds it is written beside it, for the message
only: the lock itself is the truth. A killed run leaves its owner file behind, and its pid may belong
to another process by now (a container restart): a file whose lock can be taken names nobody.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout


class WarehouseBusy(RuntimeError):
    """Another process has the DuckDB file open (a run, or a reader such as a BI tool)."""


class RunInProgress(WarehouseBusy):
    """Another run holds the warehouse's write lock: this run did not start."""


def _paths(warehouse: Path) -> tuple[Path, Path]:
    warehouse = Path(warehouse).resolve()  # one lock per file, however it is named
    return warehouse.with_name(warehouse.name + ".lock"), warehouse.with_name(warehouse.name + ".owner.json")


# A run that will not wait still tries for this long: another process may be probing the lock (holder())
# at that very moment, which takes it for a few microseconds.
PROBE_GRACE_SECONDS = 0.5


def _read_owner(owner_path: Path) -> dict | None:
    try:
        owner = json.loads(owner_path.read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def holder(warehouse: Path) -> dict | None:
    """Who holds the lock (from the owner file), or None when nobody does.

    Only when an owner file exists is the lock probed (taken and released at once, without waiting): if
    it can be taken, the file is a killed run's leftover, whatever process its pid names now, and it is
    removed. Writers that do not wait allow for such a probe (PROBE_GRACE_SECONDS).
    """
    lock_path, owner_path = _paths(warehouse)
    owner = _read_owner(owner_path)
    if owner is None:
        return None
    probe = FileLock(str(lock_path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return owner  # held: the file says by whom
    except OSError:
        return owner  # cannot even open the lock file: do not claim it is free
    try:
        if _read_owner(owner_path) == owner:  # nobody can write it while we hold the lock
            owner_path.unlink(missing_ok=True)
    finally:
        probe.release()
    return None


def describe(warehouse: Path, owner: dict | None) -> str:
    owner = owner or {}
    who = f"run {owner['run_id']}" if owner.get("run_id") else "another run"
    where = (
        f" (pid {owner['pid']} on {owner.get('host', '?')}, since {owner.get('since', '?')})"
        if owner.get("pid")
        else ""
    )
    return f"warehouse {warehouse} is being written by {who}{where}"


def refusal(warehouse: Path, owner: dict | None) -> str:
    """What a run that will not wait is told."""
    return (
        f"{describe(warehouse, owner)}; this run did not start. Try again when it has finished, "
        f"or let it queue (--wait SECONDS)"
    )


@contextmanager
def writer(
    warehouse: Path,
    run_id: str,
    wait_seconds: float = 0,
    on_wait: Callable[[str], None] | None = None,
    queued: Callable[[float], AbstractContextManager] | None = None,
) -> Iterator[None]:
    """Hold the warehouse's write lock; wait up to `wait_seconds` for it, else raise RunInProgress.

    `on_wait` hears why the run waits; `queued` wraps the wait (a progress stage, so it never looks hung).
    """
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path, owner_path = _paths(warehouse)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=PROBE_GRACE_SECONDS)
    except Timeout:
        owner = _read_owner(owner_path)
        if wait_seconds <= 0:
            raise RunInProgress(refusal(warehouse, owner)) from None
        if on_wait:
            on_wait(f"{describe(warehouse, owner)}; waiting up to {wait_seconds:g} s for it to finish")
        started = time.monotonic()
        try:
            with queued(wait_seconds) if queued else nullcontext():
                lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise RunInProgress(
                f"{describe(warehouse, _read_owner(owner_path))}; gave up after waiting "
                f"{time.monotonic() - started:.0f} s, nothing was changed"
            ) from None
    try:
        partial = owner_path.with_suffix(".tmp")  # readers never see half a file
        partial.write_text(
            json.dumps(
                {
                    "run_id": run_id,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        os.replace(partial, owner_path)
        yield
    finally:
        owner_path.unlink(missing_ok=True)
        lock.release()
