"""What one `newsflow run` process owns: its Prefect API server, which dies with it, and its log file.

**The API server.** With no PREFECT_API_URL, Prefect starts an ephemeral API server (uvicorn, ~230 MB,
on a loopback port) and stops it from an atexit hook, which a killed run never reaches: every
`kill -9` left one behind. `SubprocessASGIServer.start` offers no hook to change how the child is
started, and setting PR_SET_PDEATHSIG from the outside (preexec_fn) would be fragile there: the
kernel sends that signal when the *thread* that forked the child ends, and Prefect starts the server
from whichever thread first needs the API. So the CLI starts the same server itself, from its main
thread, before it imports the pipeline (the server boots on the other core meanwhile), as
`python -m flows.app.process api-server`: that child asks the kernel for SIGKILL when its parent dies
(Linux `prctl(PR_SET_PDEATHSIG)`) before it imports anything, exits if the parent is already gone,
and also watches its parent's pid (any other system). The run then points Prefect at it through
`prefect.settings.temporary_settings`. It runs what Prefect runs: uvicorn with the factory
`prefect.server.api.server:create_app`, UI off, ephemeral mode, on 127.0.0.1. A user who configured
a server (PREFECT_API_URL, a profile) keeps it.

**The log file.** A run prints newsflow's own lines (progress, the summary, one line when it fails) on
stderr; everything else written there (Prefect's log records and tracebacks, "Error logging to API",
warnings, native libraries, the API server) goes to `<warehouse>.log`, at the file descriptor, so
nothing can bypass it.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

HOST = "127.0.0.1"
LOG_ROTATE_BYTES = 5_000_000  # <warehouse>.log is moved to <warehouse>.log.1 past this size
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


# ---------------------------------------------------------------- the API server: parent side


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class ApiServer:
    """Prefect's API server as a child of this process that cannot outlive it."""

    STARTUP_FAILURE = 3  # uvicorn's exit code when it could not bind (or start): try another port

    def __init__(self, log: TextIO | None = None):
        self.log = log
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    def start(self) -> ApiServer:
        self.port = _free_port()
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        env.pop("PREFECT_API_URL", None)
        out = self.log if self.log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.app.process",
                "api-server",
                "--port",
                str(self.port),
                "--parent",
                str(os.getpid()),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            close_fds=True,
            cwd=str(Path(__file__).resolve().parents[2]),  # so `flows` imports whatever the caller's cwd
        )
        atexit.register(self.stop)  # the normal way out; a killed parent takes the child with it
        return self

    def wait_ready(self, timeout: float) -> None:
        """Block until /api/health answers; RuntimeError when the server did not come up in `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code == self.STARTUP_FAILURE:  # the port was taken meanwhile
                self.start()
                continue
            if code is not None:
                raise RuntimeError(f"Prefect's API server exited with code {code} while starting (see the log file)")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Prefect's API server did not answer within {timeout:.0f} s (see the log file)")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def configured_api_url() -> str | None:
    """The Prefect API the user configured (environment, profile, prefect.toml), else None."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


@contextmanager
def prefect_api(server: ApiServer | None, timeout: float) -> Iterator[None]:
    """Use the user's Prefect API if there is one (and stop `server`), else wait for `server` and use it."""
    if server is None or configured_api_url():
        if server is not None:
            server.stop()
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server.wait_ready(timeout)
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield


def start_api_server(log: TextIO | None) -> ApiServer | None:
    """Start the run's own API server now (it boots while the caller imports), unless the environment
    names one already. A profile that names one is honoured later, by `prefect_api`."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    if "prefect.settings" in sys.modules and configured_api_url():  # Prefect is loaded (a caller in-process)
        return None
    return ApiServer(log).start()


# ---------------------------------------------------------------- the API server: child side


def _die_with_parent(parent: int) -> None:
    """SIGKILL from the kernel when `parent` dies (Linux), else a watcher thread; exit now if it is gone."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watcher below does it within a second
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve_api(port: int, parent: int) -> None:
    _die_with_parent(parent)  # before the slow imports, so a run killed at once leaves nothing
    import uvicorn

    uvicorn.run(
        "prefect.server.api.server:create_app", factory=True, host=HOST, port=port, log_level="error", lifespan="on"
    )


# ---------------------------------------------------------------- the log file


def log_path_for(warehouse: str | os.PathLike) -> Path:
    warehouse = Path(warehouse).resolve()
    return warehouse.with_name(warehouse.name + ".log")


def _open_log(path: Path) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except OSError:
        pass
    log = open(path, "a", buffering=1, encoding="utf-8", errors="backslashreplace")
    log.write(
        f"\n===== newsflow run, pid {os.getpid()}, {datetime.now(UTC).isoformat(timespec='seconds')}: "
        f"{' '.join(sys.argv[1:])}\n"
    )
    return log


def _handlers_on(stream) -> list[logging.Handler]:
    loggers = [logging.getLogger()] + [
        l for l in logging.Logger.manager.loggerDict.values() if isinstance(l, logging.Logger)
    ]
    return [
        h
        for l in loggers
        for h in l.handlers
        if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is stream
    ]


@contextmanager
def stderr_to_log(path: Path) -> Iterator[tuple[TextIO, TextIO]]:
    """(terminal, log): while inside, stderr (the file descriptor and sys.stderr, and log handlers
    already bound to it) goes to the log file at `path`; `terminal` writes where stderr went before."""
    previous = sys.stderr
    log = _open_log(path)
    try:
        previous.flush()
    except (OSError, ValueError):
        pass
    try:
        real_fd = previous.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a capture object (pytest): keep writing to it
        real_fd = False
    saved = os.dup(2)
    terminal = (
        os.fdopen(
            os.dup(saved),
            "w",
            buffering=1,
            encoding=getattr(previous, "encoding", None) or "utf-8",
            errors="backslashreplace",
        )
        if real_fd
        else previous
    )
    moved = [(h, h.stream) for h in _handlers_on(previous)]
    if sys.__stderr__ is not previous:
        moved += [(h, h.stream) for h in _handlers_on(sys.__stderr__)]
    os.dup2(log.fileno(), 2)
    sys.stderr = log
    for handler, _ in moved:
        handler.setStream(log)
        console = getattr(handler, "console", None)  # Prefect's console handler prints through rich
        if console is not None:
            console.file = log
    try:
        yield terminal, log
    finally:
        for stream in (terminal, log):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        for handler, stream in moved:
            handler.setStream(stream)
            console = getattr(handler, "console", None)
            if console is not None:
                console.file = stream
        sys.stderr = previous
        os.dup2(saved, 2)
        os.close(saved)
        if terminal is not previous:
            terminal.close()
        log.close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m flows.app.process")
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api-server", help="Prefect's API server for one run; dies with its parent")
    api.add_argument("--port", type=int, required=True)
    api.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    _serve_api(args.port, args.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
