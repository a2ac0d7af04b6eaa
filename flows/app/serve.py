"""Serve the `curate` flow as the Prefect deployment `curate/curate`, and run a local Prefect server.

  python -m flows.app.serve [serve] [OPTIONS]
      register `curate/curate` (cron schedule, default parameters, typed parameter form) on the
      server named by PREFECT_API_URL and execute its runs in this process until Ctrl-C / SIGTERM;
      meanwhile publish the warehouse's Data Docs (<warehouse>.docs/) read-only on
      http://127.0.0.1:<docs port>/, where the runs' artifacts link
  python -m flows.app.serve up [--port 4200] [OPTIONS]
      start `prefect server start --host 127.0.0.1` (its own PREFECT_HOME, .prefect/server), wait until
      it is healthy, then serve in the foreground. Ctrl-C, SIGTERM or `down` stop serve first, then
      the server (a serve process whose server is gone hangs while pausing its schedules)
  python -m flows.app.serve down
      stop what `up` started (pid files in .prefect/); harmless when nothing runs

OPTIONS: --cron EXPR (default $NEWSFLOW_CRON or hourly "0 * * * *") | --no-schedule, --timezone TZ,
--source PATH, --warehouse FILE, --wait-seconds N, --name NAME, --docs-port N (default $NEWSFLOW_DOCS_PORT
or 4201).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from pathlib import Path

from flows.config import DEFAULT_WAREHOUSE, PROJECT_ROOT, SEEDS_DIR

DEPLOYMENT_NAME = "curate"
DEFAULT_CRON = "0 * * * *"  # hourly, on the hour
DEFAULT_WAIT_SECONDS = 900.0  # how long a deployment run waits for the warehouse lock
HOST = "127.0.0.1"  # loopback only
DEFAULT_PORT = 4200
DEFAULT_DOCS_PORT = 4201  # Data Docs over HTTP while serving
STATE_DIR = PROJECT_ROOT / ".prefect"  # pid files and the server log
SERVER_HOME = STATE_DIR / "server"  # the server's own PREFECT_HOME (SQLite database)
HEALTH_TIMEOUT = 120.0  # seconds; ~10 s on an idle 2-core machine
SERVE_STOP_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 30.0
TAGS = ["newsflow", "curate", "duckdb", "great-expectations"]
DESCRIPTION = (
    "Curate multilingual news articles into audited DuckDB tables (write-audit-publish). "
    "Reads `source` (folder, glob, file or .jsonl), stages everything, audits it with Great "
    "Expectations and publishes curated.* only when no critical expectation fails. One run at a "
    "time: overlapping runs are queued (deployment concurrency limit 1, ENQUEUE)."
)


def _quiet_env(env: dict[str, str]) -> dict[str, str]:
    """Offline and quiet unless the user configured otherwise."""
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    return env


# ---------------------------------------------------------------- the deployment


def default_parameters(
    source: str | os.PathLike, warehouse: str | os.PathLike, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> dict:
    """Deployment defaults, by name, with absolute paths (runs do not depend on the serve directory)."""
    return {
        "source": str(Path(source).resolve()),
        "warehouse": str(Path(warehouse).resolve()),
        "wait_seconds": float(wait_seconds),
    }


def build_deployment(
    name: str = DEPLOYMENT_NAME,
    cron: str | None = DEFAULT_CRON,
    timezone: str = "UTC",
    source: str | os.PathLike = SEEDS_DIR / "articles",
    warehouse: str | os.PathLike = DEFAULT_WAREHOUSE,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
):
    """The `curate/<name>` RunnerDeployment; its parameter schema comes from curate's signature."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.pipeline import curate

    return curate.to_deployment(
        name=name,
        schedules=[Cron(cron, timezone=timezone)] if cron else [],
        paused=False,  # serve pauses schedules on shutdown: resume on start
        parameters=default_parameters(source, warehouse, wait_seconds),
        description=DESCRIPTION,
        tags=TAGS,
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        enforce_parameter_schema=True,  # the server rejects runs whose parameters do not validate
        entrypoint_type=EntrypointType.MODULE_PATH,  # flows.pipeline.curate: independent of the cwd
    )


def allow_serve_paths(source: str | os.PathLike, warehouse: str | os.PathLike) -> None:
    """Deployment runs may use the folders serve was started with, besides the configured roots
    (flows/access.py): the source's folder and the warehouse's folder."""
    import glob

    from flows import access

    src = str(source)
    folder = access.glob_base(src) if glob.has_magic(src) else Path(src)
    folder = folder if folder.is_dir() else folder.parent
    for kind, path in (("source", folder), ("warehouse", Path(warehouse).parent)):
        current = [p for p in os.environ.get(access.ENV[kind], "").split(os.pathsep) if p]
        os.environ[access.ENV[kind]] = os.pathsep.join(dict.fromkeys([*current, str(Path(path).resolve())]))


# ---------------------------------------------------------------- Data Docs over HTTP


class _DocsHandler(http.server.SimpleHTTPRequestHandler):
    """GET and HEAD of files under one folder (anything else is 501: nothing can be written). A path that
    leaves the folder, through `..` or a symbolic link, is 404; a request whose Host header is not this
    loopback address is 403 (a page on another site cannot read the docs through DNS rebinding)."""

    server_version = "newsflow-docs"
    sys_version = ""

    def __init__(self, *args, directory: str, **kwargs):
        super().__init__(*args, directory=directory, **kwargs)

    def send_head(self):
        port = self.server.server_address[1]
        host = self.headers.get("Host")
        if host is not None and host not in (f"{HOST}:{port}", f"localhost:{port}"):
            self.send_error(HTTPStatus.FORBIDDEN, "unexpected Host")
            return None
        root = Path(self.directory).resolve()
        target = Path(self.translate_path(self.path)).resolve()
        if target != root and not target.is_relative_to(root):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def log_message(self, format, *args):  # one line per request would bury serve's own output
        pass


class DocsServer:
    """`folder` read-only on http://127.0.0.1:<port>/, from a daemon thread of this process."""

    def __init__(self, folder: str | os.PathLike, port: int):
        self.folder = Path(folder).resolve()
        handler = functools.partial(_DocsHandler, directory=str(self.folder))
        self.httpd = http.server.ThreadingHTTPServer((HOST, port), handler)  # OSError if the port is taken
        self.port = self.httpd.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="newsflow-docs", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def start_docs_server(warehouse: str | os.PathLike, port: int) -> DocsServer | None:
    """Publish `<warehouse>.docs/` and tell the runs this process starts (they inherit its environment)
    to link their Data Docs there. None, with a line saying so, when the port cannot be bound: the runs
    then link the files."""
    from flows.app import report
    from flows.pipeline import docs_root

    folder = docs_root(Path(warehouse).resolve())
    try:
        docs = DocsServer(folder, port)
    except OSError as exc:
        print(
            f"flows.app.serve: cannot serve Data Docs on {HOST}:{port} ({exc.strerror or exc}); run artifacts "
            f"link the files instead (pick another port with --docs-port or NEWSFLOW_DOCS_PORT)",
            file=sys.stderr,
            flush=True,
        )
        return None
    os.environ[report.DOCS_URL_ENV] = docs.url
    os.environ[report.DOCS_ROOT_ENV] = str(docs.folder)
    print(f"flows.app.serve: Data Docs of {folder} on {docs.url}", flush=True)
    return docs


def check_schedule(args) -> str | None:
    """None when the schedule options are valid, else a one-line reason."""
    if args.no_schedule:
        return None
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=args.cron, timezone=args.timezone)
    except ValidationError as exc:
        return "; ".join(err["msg"].removeprefix("Value error, ") for err in exc.errors())
    return None


def serve(args) -> int:
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        print(
            "flows.app.serve: PREFECT_API_URL is not set. Start a server and serve with `make serve` "
            "(python -m flows.app.serve up), or export PREFECT_API_URL=http://127.0.0.1:4200/api",
            file=sys.stderr,
        )
        return 2
    if problem := check_schedule(args):
        print(f"flows.app.serve: {problem}", file=sys.stderr)
        return 2
    cron = None if args.no_schedule else args.cron
    allow_serve_paths(args.source, args.warehouse)
    deployment = build_deployment(args.name, cron, args.timezone, args.source, args.warehouse, args.wait_seconds)
    print(
        f"serving curate/{args.name} on {PREFECT_API_URL.value()} "
        f"(schedule: {cron + ' ' + args.timezone if cron else 'none'}; parameters: "
        f"{json.dumps(deployment.parameters)})",
        flush=True,
    )
    docs = start_docs_server(args.warehouse, args.docs_port) if args.docs_port else None
    try:
        prefect_serve(deployment)  # blocks; Ctrl-C / SIGTERM pause the schedule and return
    finally:
        if docs is not None:
            docs.stop()
    return 0


# ---------------------------------------------------------------- process lifecycle (up / down)


def api_url(port: int) -> str:
    return f"http://{HOST}:{port}/api"


def healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url(port)}/health", timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _ours(pid: int, marker: str) -> bool:
    """Guard against a recycled pid: the process's command line must name what we started."""
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return _alive(pid) if not Path("/proc").is_dir() else False
    except OSError:
        return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _wait_gone(pid: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                return True
        elif not _alive(pid):
            return True
        time.sleep(0.2)
    return False


def _signal(pid: int, sig: int, group: bool) -> None:
    try:
        os.killpg(pid, sig) if group else os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_process(
    pid: int, first: int, timeout: float, group: bool, proc: subprocess.Popen | None = None, label: str = ""
) -> None:
    """`first` signal, wait; then SIGTERM, then SIGKILL (to the whole process group if `group`)."""
    steps = [(first, timeout)] + ([(signal.SIGTERM, 10.0)] if first != signal.SIGTERM else []) + [(signal.SIGKILL, 5.0)]
    for sig, wait in steps:
        if (proc.poll() is not None) if proc is not None else not _alive(pid):
            break
        if label:
            print(f"flows.app.serve: stopping {label} (pid {pid}, {signal.Signals(sig).name})", flush=True)
        _signal(pid, sig, group)
        if _wait_gone(pid, wait, proc):
            break
    if group:  # leftovers in the group (e.g. a flow-run subprocess)
        _signal(pid, signal.SIGKILL, True)


def up(args) -> int:
    state, home = Path(args.state_dir), Path(args.server_home)
    state.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    pid_up, pid_server, pid_serve = state / "up.pid", state / "server.pid", state / "serve.pid"
    if problem := check_schedule(args):
        print(f"flows.app.serve: {problem}", file=sys.stderr)
        return 2
    running = _read_pid(pid_up)
    if running and running != os.getpid() and _alive(running) and _ours(running, "flows.app.serve"):
        print(f"flows.app.serve: already running (pid {running}); `make stop` first", file=sys.stderr)
        return 1
    if healthy(args.port):
        print(
            f"flows.app.serve: something already answers on {api_url(args.port)}; `make stop` or pass --port",
            file=sys.stderr,
        )
        return 1

    stop_requested: list[str] = []

    def on_signal(signum, frame):
        stop_requested.append(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    pid_up.write_text(str(os.getpid()))

    bin_dir = Path(sys.executable).parent
    prefect_cmd = [str(bin_dir / "prefect")] if (bin_dir / "prefect").exists() else [sys.executable, "-m", "prefect"]
    server_env = _quiet_env(dict(os.environ))
    server_env["PREFECT_HOME"] = str(home.resolve())
    for key in ("PREFECT_API_URL", "PREFECT_UI_API_URL", "PREFECT_PROFILE"):
        server_env.pop(key, None)  # the server's UI must talk to itself, not to another API
    server_env["PREFECT_SERVER_UI_API_URL"] = api_url(args.port)  # else the UI calls port 4200
    server_env["PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT"] = "false"  # offline: no Cloud banners
    serve_env = _quiet_env(dict(os.environ))
    serve_env["PREFECT_API_URL"] = api_url(args.port)
    serve_env.setdefault("PREFECT_HOME", str(state.resolve()))  # never the user's ~/.prefect by accident
    log_path = state / "server.log"
    server = serve_proc = None
    code = 0
    try:
        with open(log_path, "ab") as log:
            server = subprocess.Popen(
                [*prefect_cmd, "server", "start", "--host", HOST, "--port", str(args.port), "--analytics-off"],
                env=server_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # no terminal Ctrl-C: the server must outlive serve's shutdown
            )
        pid_server.write_text(str(server.pid))
        print(
            f"flows.app.serve: starting Prefect server (pid {server.pid}, PREFECT_HOME={home}, log {log_path})",
            flush=True,
        )
        t0, deadline = time.monotonic(), time.monotonic() + args.health_timeout
        while not healthy(args.port):
            if stop_requested or (args.watch_pid and not _alive(args.watch_pid)):
                return 1
            if server.poll() is not None:
                print(
                    f"flows.app.serve: the server exited ({server.returncode}); last lines of {log_path}:\n"
                    + "\n".join(log_path.read_text(errors="replace").splitlines()[-20:]),
                    file=sys.stderr,
                )
                return 1
            if time.monotonic() > deadline:
                print(
                    f"flows.app.serve: the server was not healthy after {args.health_timeout:.0f} s (see {log_path})",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.5)
        print(
            f"flows.app.serve: server healthy after {time.monotonic() - t0:.1f} s; "
            f"UI http://{HOST}:{args.port}/  API {api_url(args.port)}",
            flush=True,
        )
        print(
            f"flows.app.serve: trigger a run from another shell with\n"
            f"  PREFECT_API_URL={api_url(args.port)} {bin_dir / 'prefect'} deployment run "
            f"curate/{args.name} -p batch_size=10 --watch",
            flush=True,
        )

        serve_cmd = [sys.executable, "-m", "flows.app.serve", "serve", *_serve_options(args)]
        serve_proc = subprocess.Popen(
            serve_cmd,
            env=serve_env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # no terminal Ctrl-C: we forward it ourselves, in order
        )
        pid_serve.write_text(str(serve_proc.pid))
        while not stop_requested:
            if args.watch_pid and not _alive(args.watch_pid):
                print(f"flows.app.serve: pid {args.watch_pid} is gone: stopping", flush=True)
                break
            if serve_proc.poll() is not None:
                print(f"flows.app.serve: serve exited ({serve_proc.returncode})", file=sys.stderr)
                code = serve_proc.returncode or 1
                break
            if server.poll() is not None:
                print(f"flows.app.serve: the server exited ({server.returncode}); see {log_path}", file=sys.stderr)
                code = 1
                break
            time.sleep(0.5)
    finally:
        if stop_requested:
            print(f"flows.app.serve: {stop_requested[0]}: stopping serve, then the server", flush=True)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # finish the shutdown even on a second Ctrl-C
        if serve_proc is not None:
            stop_process(serve_proc.pid, signal.SIGINT, SERVE_STOP_TIMEOUT, True, serve_proc, "serve")
        if server is not None:
            stop_process(server.pid, signal.SIGTERM, SERVER_STOP_TIMEOUT, True, server, "server")
        for path in (pid_serve, pid_server, pid_up):
            path.unlink(missing_ok=True)
        print("flows.app.serve: stopped", flush=True)
    return code


def down(args) -> int:
    """Stop what `up` started: ask the supervisor; then make sure serve, then the server, are gone."""
    state = Path(args.state_dir)
    found = False
    for name, marker, first, timeout, group in (
        ("up", "flows.app.serve", signal.SIGTERM, SERVE_STOP_TIMEOUT + SERVER_STOP_TIMEOUT + 20, False),
        ("serve", "flows.app.serve", signal.SIGINT, SERVE_STOP_TIMEOUT, True),
        ("server", "prefect", signal.SIGTERM, SERVER_STOP_TIMEOUT, True),
    ):
        path = state / f"{name}.pid"
        pid = _read_pid(path)
        if pid is None:
            continue
        if _alive(pid) and _ours(pid, marker):
            found = True
            stop_process(pid, first, timeout, group, label=name)
        path.unlink(missing_ok=True)
    print("flows.app.serve: stopped" if found else "flows.app.serve: nothing to stop")
    return 0


# ---------------------------------------------------------------- command line


def _serve_options(args) -> list[str]:
    opts = [
        "--name",
        args.name,
        "--timezone",
        args.timezone,
        "--source",
        str(Path(args.source).resolve()),
        "--warehouse",
        str(Path(args.warehouse).resolve()),
        "--wait-seconds",
        str(args.wait_seconds),
        "--docs-port",
        str(args.docs_port),
    ]
    return opts + (["--no-schedule"] if args.no_schedule else ["--cron", args.cron])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m flows.app.serve",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument("command", nargs="?", choices=["serve", "up", "down"], default="serve")
    p.add_argument("--name", default=DEPLOYMENT_NAME, help="deployment name (default: curate)")
    p.add_argument(
        "--cron",
        default=os.environ.get("NEWSFLOW_CRON") or DEFAULT_CRON,
        help='cron schedule (default: $NEWSFLOW_CRON or "0 * * * *", hourly)',
    )
    p.add_argument("--no-schedule", action="store_true", help="no schedule: runs only when triggered")
    p.add_argument(
        "--timezone",
        default=os.environ.get("NEWSFLOW_TIMEZONE") or "UTC",
        help="time zone of the cron schedule (default: $NEWSFLOW_TIMEZONE or UTC)",
    )
    p.add_argument("--source", default=str(SEEDS_DIR / "articles"), help="default `source` parameter")
    p.add_argument("--warehouse", default=str(DEFAULT_WAREHOUSE), help="default `warehouse` parameter")
    p.add_argument(
        "--wait-seconds",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        help="default `wait_seconds` (if the flow takes it): how long a run waits for the warehouse",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("NEWSFLOW_PORT") or DEFAULT_PORT),
        help="server port on 127.0.0.1 (up; default: $NEWSFLOW_PORT or 4200)",
    )
    p.add_argument(
        "--docs-port",
        type=int,
        default=int(os.environ.get("NEWSFLOW_DOCS_PORT") or DEFAULT_DOCS_PORT),
        help="Data Docs over HTTP on 127.0.0.1 while serving (default: $NEWSFLOW_DOCS_PORT or 4201; 0: off)",
    )
    p.add_argument("--server-home", default=str(SERVER_HOME), help="the server's PREFECT_HOME (up)")
    p.add_argument("--state-dir", default=str(STATE_DIR), help="pid files and server.log (up, down)")
    p.add_argument("--health-timeout", type=float, default=HEALTH_TIMEOUT, help=argparse.SUPPRESS)
    p.add_argument("--watch-pid", type=int, default=0, help=argparse.SUPPRESS)  # up: stop when it exits (tests)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "up":
        return up(args)
    if args.command == "down":
        return down(args)
    _quiet_env(os.environ)  # before Prefect reads its settings
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
