"""Busy readers never fail a run (issue 10), and never see a partial version.

A BI-style poller reads the warehouse through a whole `newsflow run`: a read-only DuckDB connection every
0.5 s in this process, `newsflow sql "SELECT count(*) FROM curated.articles"` every 5 s, and one reader that
holds the file from the start of extraction until 12 s into staging. The run still publishes, its audit.runs row
is written, every reader saw either the previous complete version or the new one, and `newsflow sql`
waited for the writer instead of failing. (A writer waits for readers up to `[warehouse]
lock_wait_seconds`, 120 s; `newsflow sql` waits up to --wait, 15 s, for a writer.)
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import time

import duckdb

from tests.conftest import ROOT, SEEDS

POLL_SECONDS, SQL_EVERY_SECONDS, LONG_HOLD_SECONDS = 0.5, 5.0, 12.0


def newsflow(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "flows.app.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, **kw
    )


def version(con) -> tuple:
    """What one reader sees, in one connection: the articles and the size of the tables hanging off them."""
    ids = tuple(r[0] for r in con.execute("SELECT article_id FROM curated.articles ORDER BY article_id").fetchall())
    counts = con.execute("""SELECT (SELECT count(*) FROM curated.sentences), (SELECT count(*) FROM curated.claims),
                                   (SELECT count(*) FROM curated.mentions)""").fetchall()[0]
    return ids, counts


def is_lock_conflict(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def test_readers_polling_through_a_run_do_not_fail_it_and_see_whole_versions(tmp_path, prefect_home):
    seeds = sorted(SEEDS.glob("*.txt"))
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    for f in seeds[:2]:
        shutil.copy(f, first / f.name)
    shutil.copytree(first, second)
    for f in seeds[2:4]:
        shutil.copy(f, second / f.name)
    warehouse = tmp_path / "w.duckdb"
    env = {**os.environ, "PREFECT_HOME": prefect_home(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    r = newsflow("run", "--source", str(first), "--warehouse", str(warehouse), env=env)
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    old = version(con)
    con.close()

    seen: list[tuple] = []
    conflicts = [0]
    sql_results: list[tuple[int, str, str, float]] = []
    held = []
    stop = threading.Event()
    run = subprocess.Popen(
        [sys.executable, "-m", "flows.app.cli", "run", "--source", str(second), "--warehouse", str(warehouse)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def poll():
        while not stop.is_set():
            try:
                c = duckdb.connect(str(warehouse), read_only=True)
            except duckdb.IOException as exc:  # the writer has the file this instant: try again
                assert is_lock_conflict(exc), exc
                conflicts[0] += 1
            else:
                try:
                    seen.append(version(c))
                finally:
                    c.close()
            stop.wait(POLL_SECONDS)

    def sql():
        while not stop.is_set():
            t0 = time.monotonic()
            q = newsflow(
                "sql",
                "SELECT count(*) AS n FROM curated.articles",
                "--warehouse",
                str(warehouse),
                "--format",
                "csv",
                env=env,
            )
            sql_results.append((q.returncode, q.stdout, q.stderr, time.monotonic() - t0))
            stop.wait(SQL_EVERY_SECONDS)

    lines: list[str] = []
    marks = {"extract: started": threading.Event(), "stage: started": threading.Event()}

    def read_progress():
        for line in run.stderr:
            lines.append(line)
            for mark, event in marks.items():
                if f"newsflow {mark}" in line:
                    event.set()
        for event in marks.values():
            event.set()

    def hold_over_stage():
        """A reader that opens the file as extraction starts and keeps it LONG_HOLD_SECONDS into `stage` (the writer
        must wait for it: the issue's reader that made a run fail at stage)."""
        if not marks["extract: started"].wait(300):
            return
        c = duckdb.connect(str(warehouse), read_only=True)
        try:
            held.append(version(c))
            marks["stage: started"].wait(300)
            time.sleep(LONG_HOLD_SECONDS)
        finally:
            c.close()

    threads = [threading.Thread(target=f) for f in (read_progress, poll, sql, hold_over_stage)]
    for t in threads:
        t.start()
    try:
        out = run.stdout.read()
        code = run.wait(timeout=600)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    err = "".join(lines)
    assert code == 0, err
    match = re.search(r"^run (\S+): PUBLISHED", out, re.M)
    assert match, out
    run_id = match.group(1)

    con = duckdb.connect(str(warehouse), read_only=True)
    new = version(con)
    runs = con.execute("SELECT status FROM audit.runs WHERE run_id = ?", [run_id]).fetchall()
    con.close()
    assert new != old and len(new[0]) == 4
    assert runs == [("published",)]  # the run's row is there
    # the long reader really held the file while the run went on (and saw the old version)
    assert held and held[0] == old
    waited = re.search(r"newsflow stage: done in ([0-9.]+) s", err)
    assert waited and float(waited.group(1)) > LONG_HOLD_SECONDS - 2, err  # stage waited for it, then went on
    # every read saw one complete version, never a mix
    assert len(seen) > 20, (len(seen), conflicts)
    assert set(seen) <= {old, new}, set(seen) - {old, new}
    assert old in seen
    # `newsflow sql` waited for the writer (bounded) instead of failing, and saw 2 or 4 articles
    assert len(sql_results) >= 5
    for code_, stdout, stderr, _ in sql_results:
        assert code_ == 0, stderr
        assert stdout.split() in (["n", "2"], ["n", "4"]), stdout
    print(
        f"\nreaders: {len(seen)} polls ({conflicts[0]} found the writer holding the file), "
        f"{len(sql_results)} `newsflow sql` (slowest {max(s[3] for s in sql_results):.1f} s), "
        f"stage waited {waited.group(1)} s for the long reader"
    )


def test_newsflow_sql_waits_for_a_writer_then_answers_or_says_why_in_one_line(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA curated; CREATE TABLE curated.articles AS SELECT 1 AS x")
    con.close()
    script = (
        f"import duckdb, sys, time\ncon = duckdb.connect({str(warehouse)!r})\n"
        f"print('writing', flush=True)\ntime.sleep(float(sys.argv[1]))\ncon.close()\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, "4"], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        t0 = time.monotonic()
        r = newsflow(
            "sql",
            "SELECT count(*) AS n FROM curated.articles",
            "--warehouse",
            str(warehouse),
            "--format",
            "csv",
            "--wait",
            "30",
        )
        assert r.returncode == 0 and r.stdout.split() == ["n", "1"], r.stderr
        assert time.monotonic() - t0 > 2  # it waited for the writer rather than failing
    finally:
        writer.wait(timeout=30)
    writer = subprocess.Popen([sys.executable, "-c", script, "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        r = newsflow("sql", "SELECT 1", "--warehouse", str(warehouse), "--wait", "1")
        assert r.returncode == 3
        assert len(r.stderr.strip().splitlines()) == 1 and "held by another process" in r.stderr, r.stderr
    finally:
        writer.kill()
        writer.wait()
