"""Overlapping runs on one warehouse, and a run killed mid-publish."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

from flows.pipeline import run_curate
from flows.warehouse import lock
from flows.warehouse.store import Warehouse
from tests.conftest import FIXTURES, ROOT, SEEDS
from tests.test_pipeline import assert_same, snapshot


def newsflow_run(home: str, *args: str) -> subprocess.Popen:
    """`newsflow run` in its own process with its own Prefect home (as two terminals or a schedule would)."""
    env = {**os.environ, "PREFECT_HOME": home}
    return subprocess.Popen(
        [sys.executable, "-m", "flows.app.cli", "run", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_lock(warehouse, process, seconds=120):
    deadline = time.monotonic() + seconds
    while lock.holder(warehouse) is None:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the first run never took the warehouse lock"
        time.sleep(0.05)


def test_second_run_fails_fast_with_a_clear_message_while_the_first_publishes(tmp_path, prefect_home):
    warehouse = tmp_path / "w.duckdb"
    first = newsflow_run(prefect_home(tmp_path / "prefect-a"), "--source", str(SEEDS), "--warehouse", str(warehouse))
    wait_for_lock(warehouse, first)
    second = newsflow_run(
        prefect_home(tmp_path / "prefect-b"),
        "--source",
        str(FIXTURES / "economy_en.txt"),
        "--warehouse",
        str(warehouse),
    )
    out_b, err_b = second.communicate(timeout=300)
    out_a, err_a = first.communicate(timeout=600)
    assert first.returncode == 0, err_a
    assert second.returncode == 3
    assert "is being written by run" in err_b and "did not start" in err_b
    assert "Traceback" not in err_b + out_b and "IOException" not in err_b
    # the winner's progress went to stderr as plain lines (not a terminal)
    assert "extract: 5/5 articles" in err_a and "publish: done" in err_a
    wh = Warehouse(warehouse)
    assert wh.query("SELECT count(*) AS n FROM curated.articles")["n"][0] == 5
    assert wh.query("SELECT count(*) AS n FROM curated.claims")["n"][0] > 50
    assert wh.query("SELECT status FROM audit.runs")["status"].to_list() == ["published"]


def test_second_run_queues_behind_the_first_when_asked_to_wait(tmp_path, prefect_home):
    """The first writer is held here so the overlap is certain; the run waits, then publishes."""
    warehouse = tmp_path / "w.duckdb"
    with lock.writer(warehouse, "first-run"):
        second = newsflow_run(
            prefect_home(tmp_path / "prefect-b"),
            "--source",
            str(sorted(SEEDS.glob("*.txt"))[0]),
            "--warehouse",
            str(warehouse),
            "--wait",
            "300",
        )
        seen = []
        for line in second.stderr:
            seen.append(line)
            if "waiting up to 300 s" in line:
                break
        assert any("being written by run first-run" in line for line in seen), seen
        assert second.poll() is None  # queued, not failed
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    wh = Warehouse(warehouse)
    assert wh.query("SELECT count(*) AS n FROM curated.articles")["n"][0] == 1
    assert wh.query("SELECT status FROM audit.runs")["status"].to_list() == ["published"]


def test_flow_reports_busy_without_touching_the_warehouse(prefect_backend, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    run_curate(source=str(SEEDS / "001_0f72ec4d703a37ee.txt"), warehouse=str(warehouse))
    before = snapshot(warehouse)
    with lock.writer(warehouse, "someone-else"):
        summary = run_curate(source=str(SEEDS), warehouse=str(warehouse), wait_seconds=0.5)
    assert summary["status"] == "busy"
    assert "being written by run someone-else" in summary["reason"] and "gave up after waiting" in summary["reason"]
    assert_same(before, snapshot(warehouse))


def test_run_killed_mid_publish_leaves_the_previous_version(seed_run, tmp_path):
    """SIGKILL inside the publish transaction, after curated.* was emptied and refilled: nothing is lost."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(seed_run[1], warehouse)
    before = snapshot(warehouse)
    Warehouse(warehouse).write_staging({"articles": before["articles"].head(1)})  # a smaller next version
    script = textwrap.dedent(f"""
        import sys, time
        from flows.warehouse.store import Warehouse
        original = Warehouse._publish
        def slow(con, run_id):
            counts = original(con, run_id)
            print("swapped", flush=True)
            time.sleep(600)
        Warehouse._publish = staticmethod(slow)
        Warehouse({str(warehouse)!r}).publish("killed-run", None)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "swapped"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert_same(before, snapshot(warehouse))


def test_lock_is_released_when_its_process_dies(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    script = (
        f"from flows.warehouse import lock\nwith lock.writer(__import__('pathlib').Path({str(warehouse)!r}), 'r1'):\n"
        f"    print('held', flush=True); __import__('time').sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    assert lock.holder(warehouse)["run_id"] == "r1"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert lock.holder(warehouse) is None
    with lock.writer(warehouse, "r2"):
        assert lock.holder(warehouse)["run_id"] == "r2"
