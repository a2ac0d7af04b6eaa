"""The served deployment end to end: a real Prefect server, `python -m flows.app.serve up`, runs through the API.

One stack per module (`python -m flows.app.serve up` on a free 127.0.0.1 port, its own PREFECT_HOME and
state dir, as a subprocess), stopped with `python -m flows.app.serve down` even when a test fails. These tests
talk to it with a Prefect client bound to its URL; they never use the in-process `prefect_backend`
harness and do not touch the settings it runs under.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "articles"
ARTIFACT_KEYS = {
    "newsflow-summary": "markdown",
    "newsflow-failed-expectations": "table",
    "newsflow-quarantine": "table",
}
STARTUP_TIMEOUT = 180  # server healthy (~15 s) + serve registered (~5 s), generous for a busy machine
RUN_TIMEOUT = 300  # one run over two articles: ~45 s on 2 cores


@dataclass
class Stack:
    url: str  # http://127.0.0.1:PORT/api
    proc: subprocess.Popen  # the `up` supervisor
    state: Path  # pid files, server.log
    log: Path  # the supervisor's and serve's output
    base: Path
    source: Path  # the deployment's default source (two seed articles)
    warehouse: Path  # the deployment's default warehouse (never written by these tests)
    cron: str
    pids: dict[str, int]
    docs_port: int  # Data Docs over HTTP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _client(url: str):
    """A Prefect client bound to this server only (not to PREFECT_API_URL or the test harness)."""
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api=url)


def _env(base: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_API_", "PREFECT_UI_", "PREFECT_PROFILE", "PREFECT_SERVER_DATABASE"))
        and k != "NEWSFLOW_CONFIG"  # the shipped configuration: served runs render Data Docs
    }
    env.update(
        PREFECT_HOME=str(base / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_LOGGING_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def _down(state: Path, base: Path, timeout: float = 150) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.app.serve", "down", "--state-dir", str(state)],
        cwd=ROOT,
        env=_env(base),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    base = tmp_path_factory.mktemp("served")
    source = base / "articles"
    source.mkdir()
    for path in sorted(SEEDS.iterdir())[:2]:
        shutil.copy(path, source / path.name)
    state, log = base / "state", base / "up.log"
    port, docs_port = _free_port(), _free_port()
    url = f"http://127.0.0.1:{port}/api"
    # hourly, 30 minutes from now: the scheduler must create runs at once, none becomes due during the tests
    cron = f"{(datetime.now(UTC).minute + 30) % 60} * * * *"
    cmd = [
        sys.executable,
        "-m",
        "flows.app.serve",
        "up",
        "--port",
        str(port),
        "--state-dir",
        str(state),
        "--server-home",
        str(base / "server-home"),
        "--source",
        str(source),
        "--warehouse",
        str(base / "default.duckdb"),
        "--cron",
        cron,
        "--docs-port",
        str(docs_port),
        "--watch-pid",
        str(os.getpid()),
    ]  # stops by itself should pytest be killed before teardown
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=_env(base),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pids: dict[str, int] = {"up": proc.pid}
    t0 = time.monotonic()
    try:
        from prefect.client.schemas.objects import DeploymentStatus

        deadline = t0 + STARTUP_TIMEOUT
        while True:  # the server answers, and serve has registered the deployment and polls for runs
            assert proc.poll() is None, f"`flows.app.serve up` exited ({proc.returncode}):\n{_tail(log)}"
            assert time.monotonic() < deadline, f"not served after {STARTUP_TIMEOUT} s:\n{_tail(log)}"
            if _healthy(url):
                try:
                    with _client(url) as client:
                        if client.read_deployment_by_name("curate/curate").status == DeploymentStatus.READY:
                            break
                except Exception:  # ObjectNotFound until serve registers it
                    pass
            time.sleep(1)
        for name in ("server", "serve"):
            pids[name] = int((state / f"{name}.pid").read_text())
        print(f"stack up in {time.monotonic() - t0:.1f} s")
        yield Stack(url, proc, state, log, base, source, base / "default.duckdb", cron, pids, docs_port)
    finally:
        try:
            _down(state, base)
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        finally:  # last resort: nothing outlives the module
            for name in ("serve", "server"):
                if name in pids and not _gone(pids[name]):
                    try:
                        os.killpg(pids[name], signal.SIGKILL)
                    except OSError:
                        pass
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture()
def client(stack):
    with _client(stack.url) as c:
        yield c


def test_deployment_has_typed_schema_defaults_and_concurrency(stack, client):
    dep = client.read_deployment_by_name("curate/curate")
    props = dep.parameter_openapi_schema["properties"]
    assert {
        "source",
        "warehouse",
        "full_refresh",
        "languages",
        "thresholds",
        "batch_size",
        "expectations",
        "wait_seconds",
    } <= set(props)
    assert props["full_refresh"]["type"] == "boolean"
    assert {"type": "integer"} in [{k: v for k, v in s.items() if k == "type"} for s in props["batch_size"]["anyOf"]]
    assert dep.enforce_parameter_schema
    assert dep.parameters == {"source": str(stack.source), "warehouse": str(stack.warehouse), "wait_seconds": 900.0}
    assert dep.description and {"newsflow", "curate"} <= set(dep.tags)
    assert dep.entrypoint == "flows.pipeline.curate"
    assert dep.global_concurrency_limit is not None and dep.global_concurrency_limit.limit == 1
    assert dep.concurrency_options.collision_strategy == "ENQUEUE"
    assert not dep.paused
    assert [s.schedule.cron for s in dep.schedules if s.active] == [stack.cron]


def test_cron_schedule_creates_runs(stack, client):
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    only_scheduled = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])))
    ours = DeploymentFilter(name=DeploymentFilterName(any_=["curate"]))
    deadline = time.monotonic() + 60  # the scheduler picks up a new deployment within ~5 s
    while not (
        runs := [
            r for r in client.read_flow_runs(flow_run_filter=only_scheduled, deployment_filter=ours) if r.auto_scheduled
        ]
    ):
        assert time.monotonic() < deadline, "the scheduler created no runs for curate/curate"
        time.sleep(2)
    minute = int(stack.cron.split()[0])
    now = datetime.now(UTC)
    assert len(runs) >= 3  # the scheduler keeps at least min_runs ahead
    for run in runs:
        assert run.expected_start_time > now
        assert run.expected_start_time.minute == minute and run.expected_start_time.second == 0
        assert run.parameters["source"] == str(stack.source)  # the deployment's defaults


def test_invalid_parameters_are_rejected(stack, client):
    from prefect.exceptions import PrefectHTTPStatusError

    dep = client.read_deployment_by_name("curate/curate")
    bad = [
        ({"batch_size": "lots"}, "batch_size", "'lots' is not valid"),
        ({"full_refresh": "maybe"}, "full_refresh", "'maybe' is not of type 'boolean'"),
        ({"batch_size": -3}, "batch_size", "less than the minimum"),
        ({"thresholds": {"low_confidence": 2}}, "thresholds.low_confidence", "greater than the maximum"),
        ({"languages": "it"}, "languages", "is not valid"),
        ({"languages": ["Italian"]}, "languages[0]", "'Italian' is not one of ['af', 'am', "),
        ({"languages": ["xx"]}, "languages[0]", "'xx' is not one of ['af', 'am', "),
    ]
    for params, field, reason in bad:
        with pytest.raises(PrefectHTTPStatusError) as err:
            client.create_flow_run_from_deployment(dep.id, parameters=params)
        detail = err.value.response.json()["detail"]
        assert err.value.response.status_code == 409, detail
        assert f"Validation failed for field '{field}'" in detail and reason in detail, detail
    # Prefect's own CLI prints the refusal through Rich markup: the list of codes must reach the terminal whole
    cli = subprocess.run(
        [str(Path(sys.executable).with_name("prefect")), "deployment", "run", "curate/curate"]
        + ["-p", 'languages=["Italian"]'],
        env={**_env(stack.base), "PREFECT_API_URL": stack.url, "COLUMNS": "100000"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "'Italian' is not one of ['af', 'am', " in cli.stdout and "'it', " in cli.stdout, cli.stdout
    assert "'yue', 'zh']" in cli.stdout, cli.stdout


def test_run_with_parameters_through_the_api_completes(stack, client):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.warehouse.store import Warehouse

    dep = client.read_deployment_by_name("curate/curate")
    warehouse = stack.base / "api-run.duckdb"
    params = {
        "source": str(stack.source),
        "warehouse": str(warehouse),
        "batch_size": 1,
        "full_refresh": True,
        "wait_seconds": 30.0,
    }
    t0 = time.monotonic()
    run = client.create_flow_run_from_deployment(dep.id, parameters=params)
    while not (run := client.read_flow_run(run.id)).state.is_final():
        assert time.monotonic() - t0 < RUN_TIMEOUT, f"run still {run.state.name}:\n{_tail(stack.log)}"
        time.sleep(2)
    print(f"run {run.name} {run.state.name} after {time.monotonic() - t0:.1f} s")
    assert run.state.is_completed(), f"{run.state.name}: {run.state.message}\n{_tail(stack.log, 80)}"
    assert run.parameters == params
    assert run.deployment_id == dep.id

    for attempt in range(20):  # the run's process may hold the DuckDB file for a moment after it reports
        try:
            counts = (
                Warehouse(warehouse)
                .query(
                    "SELECT (SELECT count(*) FROM curated.articles) AS articles, "
                    "(SELECT count(*) FROM curated.sentences) AS sentences"
                )
                .row(0, named=True)
            )
            break
        except Exception:
            if attempt == 19:
                raise
            time.sleep(0.5)
    assert counts["articles"] == 2 and counts["sentences"] > 0
    assert not stack.warehouse.exists()  # the deployment's default warehouse was not used

    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
    )
    found = {a.key: a.type for a in artifacts if a.key}
    for key, kind in ARTIFACT_KEYS.items():
        assert found.get(key) == kind, f"artifact {key!r} ({kind}) missing for run {run.name}: {found}"


def test_parameters_outside_the_allowed_folders_are_refused(stack, client):
    """Anyone who can press Run may only use the configured roots plus the folders serve started with; a
    path parameter that names nothing, or the wrong kind of thing, is refused the same way: one line, no
    task (so no retry), no traceback."""
    dep = client.read_deployment_by_name("curate/curate")
    elsewhere = Path(tempfile.gettempdir()) / f"elsewhere-{os.getpid()}"
    folder = stack.base / "a-folder.duckdb"  # inside the allowed folders, but not a file
    folder.mkdir()
    cases = [
        # (each refused run is a flow run of its own, ~20 s, queued behind the others: one per way a run is
        # refused here; the expectations folder, a missing source, a path that climbs out with ../ or a link
        # take the same two checks: tests/test_access.py, tests/test_cli.py)
        ({"source": "/etc"}, "source '/etc' is outside the folders runs may read"),
        ({"warehouse": str(elsewhere / "x.duckdb")}, "is outside the folders runs may write"),
        ({"warehouse": str(folder)}, "is a folder, not a DuckDB file"),  # failed prepare, log-run and retries
    ]
    log_start = stack.log.stat().st_size
    runs = [(client.create_flow_run_from_deployment(dep.id, parameters=p), why) for p, why in cases]
    t0 = time.monotonic()
    for run, why in runs:
        while not (run := client.read_flow_run(run.id)).state.is_final():
            assert time.monotonic() - t0 < RUN_TIMEOUT * 2, f"run still {run.state.name}:\n{_tail(stack.log)}"
            time.sleep(1)
        assert run.state.is_failed(), (run.parameters, run.state.name, run.state.message)
        assert why in run.state.message and len(run.state.message.splitlines()) == 1, run.state.message
        tasks = client.read_task_runs(
            flow_run_filter=__import__("prefect.client.schemas.filters", fromlist=["x"]).FlowRunFilter(
                id={"any_": [run.id]}
            )
        )
        assert tasks == [], f"a refused run ran tasks: {[t.name for t in tasks]}"
    assert not elsewhere.exists()
    assert list(folder.iterdir()) == [] and not list(stack.base.glob("a-folder.duckdb.*"))  # no lock, no log
    with open(stack.log, "rb") as fh:  # refusals log one line each, never a traceback
        fh.seek(log_start)
        new = fh.read().decode(errors="replace")
    assert "Traceback" not in new, new[new.index("Traceback") - 2000 : new.index("Traceback") + 3000]


def _wait_final(client, run, timeout: float, log: Path):
    t0 = time.monotonic()
    while not (run := client.read_flow_run(run.id)).state.is_final():
        assert time.monotonic() - t0 < timeout, f"run still {run.state.name}:\n{_tail(log)}"
        time.sleep(2)
    return run


def test_served_runs_link_data_docs_over_http(stack, client):
    """A run of the deployment's warehouse links its Data Docs at the served URL, from the link artifact and
    the summary; the page and every asset it loads come back over HTTP."""
    import re
    import urllib.parse

    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    dep = client.read_deployment_by_name("curate/curate")
    run = client.create_flow_run_from_deployment(dep.id, parameters={"batch_size": 10})  # the default warehouse
    run = _wait_final(client, run, RUN_TIMEOUT, stack.log)
    assert run.state.is_completed(), f"{run.state.name}: {run.state.message}\n{_tail(stack.log, 80)}"
    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
    )
    found = {a.key: a for a in artifacts if a.key}
    base = f"http://127.0.0.1:{stack.docs_port}/"
    link = re.search(r"\((http://[^)]+)\)", found["newsflow-data-docs"].data)
    assert link, found["newsflow-data-docs"].data
    url = link.group(1)
    sites = sorted((stack.base / "default.duckdb.docs").iterdir())
    assert url == f"{base}{sites[-1].name}/index.html", (url, sites)
    assert f"]({url})" in found["newsflow-summary"].data  # the summary links them too
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")
        page = resp.read().decode()
    assets = {urllib.parse.urljoin(url, ref) for ref in re.findall(r'(?:href|src)="(static/[^"#?]+)"', page)}
    assert len(assets) >= 5, page[:2000]
    for asset in assets:
        with urllib.request.urlopen(asset, timeout=10) as resp:
            assert resp.status == 200, asset


def _raw_get(port: int, path: str, method: str = "GET", host: str | None = None) -> tuple[int, bytes]:
    """One request with the path sent as written (no client-side normalisation of `..`)."""
    import http.client

    con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        con.putrequest(method, path, skip_host=host is not None)
        if host is not None:
            con.putheader("Host", host)
        con.putheader("Content-Length", "0")
        con.endheaders()
        resp = con.getresponse()
        return resp.status, resp.read()
    finally:
        con.close()


def test_docs_server_serves_only_its_folder_read_only(tmp_path, monkeypatch):
    from flows.app import report, serve

    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"not for the browser")
    site = tmp_path / "w.duckdb.docs" / "20260101T000000-run"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<html>docs of the run</html>")
    (site / "leak").symlink_to(warehouse)  # a link inside that points outside
    for name in (report.DOCS_URL_ENV, report.DOCS_ROOT_ENV):
        monkeypatch.delenv(name, raising=False)
    port = _free_port()
    docs = serve.start_docs_server(warehouse, port)
    assert docs is not None
    try:
        assert docs.httpd.server_address == ("127.0.0.1", port)  # loopback only
        assert docs.url == f"http://127.0.0.1:{port}/"
        assert os.environ[report.DOCS_URL_ENV] == docs.url  # what the runs serve starts read
        assert os.environ[report.DOCS_ROOT_ENV] == str((tmp_path / "w.duckdb.docs").resolve())
        status, body = _raw_get(port, "/20260101T000000-run/index.html")
        assert status == 200 and body == b"<html>docs of the run</html>"
        assert _raw_get(port, "/")[0] == 200  # the list of runs' sites
        for path in (
            "/../w.duckdb",
            "/%2e%2e/w.duckdb",
            "/20260101T000000-run/../../w.duckdb",
            "/20260101T000000-run/%2E%2E/%2E%2E/w.duckdb",
            "/20260101T000000-run/leak",
            "//etc/passwd",
            "/nope.html",
        ):
            status, body = _raw_get(port, path)
            assert status == 404 and b"not for the browser" not in body, (path, status)
        for method in ("POST", "PUT", "DELETE"):
            assert _raw_get(port, "/20260101T000000-run/index.html", method)[0] == 501, method
        assert (site / "index.html").read_text() == "<html>docs of the run</html>"
        assert _raw_get(port, "/20260101T000000-run/index.html", host="evil.example")[0] == 403  # DNS rebinding
        assert _raw_get(port, "/20260101T000000-run/index.html", host=f"localhost:{port}")[0] == 200
        # the port is taken: serve carries on, and the runs link the files
        monkeypatch.delenv(report.DOCS_URL_ENV)
        assert serve.start_docs_server(warehouse, port) is None
        assert report.DOCS_URL_ENV not in os.environ
    finally:
        docs.stop()
    with pytest.raises(OSError):
        _raw_get(port, "/")


def test_data_docs_link_is_served_only_for_the_served_folder(tmp_path, monkeypatch):
    import polars as pl

    from flows.app import report

    served = tmp_path / "news.duckdb.docs"
    index = (served / "20260101T000000-run" / "index.html").as_uri()
    other = (tmp_path / "other.duckdb.docs" / "20260101T000000-run" / "index.html").as_uri()
    monkeypatch.delenv(report.DOCS_URL_ENV, raising=False)
    assert report.data_docs_link(index) == index  # the CLI: no server, the file
    monkeypatch.setenv(report.DOCS_URL_ENV, "http://127.0.0.1:4201/")
    monkeypatch.setenv(report.DOCS_ROOT_ENV, str(served))
    assert report.data_docs_link(index) == "http://127.0.0.1:4201/20260101T000000-run/index.html"
    assert report.data_docs_link(other) == other  # a run writing another warehouse: not served
    assert report.data_docs_link(None) is None
    text = report.markdown({**_summary(), "data_docs": index}, {}, pl.DataFrame(), report.data_docs_link(index))
    assert "](http://127.0.0.1:4201/20260101T000000-run/index.html)" in text


def _summary() -> dict:
    from flows.app.runlog import RunSummary

    return RunSummary(run_id="r", status="published", source="s", warehouse="w").to_dict()


def test_down_stops_serve_then_server(stack):
    t0 = time.monotonic()
    result = _down(stack.state, stack.base)
    took = time.monotonic() - t0
    assert result.returncode == 0, result.stderr
    assert stack.proc.wait(timeout=30) == 0, _tail(stack.log)
    assert all(_gone(pid) for pid in stack.pids.values()), stack.pids
    assert not _healthy(stack.url)
    assert not list(stack.state.glob("*.pid"))
    log = stack.log.read_text(errors="replace")
    # serve paused its schedule (it needs the server for that), then the server stopped
    assert log.index("All deployments have been paused") < log.index("stopping server")
    assert took < 60, f"down took {took:.1f} s"
    again = _down(stack.state, stack.base, timeout=30)
    assert again.returncode == 0 and "nothing to stop" in again.stdout
