"""`kill -9` at random moments over `newsflow run` (issue 10), and owner files that outlive their run.

Each kill: the warehouse opens, its curated tables are the previous published version or the new one,
no process of the run is left (its process group, and Prefect's API server the run started), and the
next run starts on whatever was left, without cleanup. The moments are drawn from a seeded RNG — a
stage (by its progress line on stderr, or the start of the process) and a delay into it — so a failure
names a reproducible kill. Two lanes (two warehouses) run side by side to keep the test short on 2
cores; each alternates between two small sources with --full-refresh, so consecutive runs change the
curated tables. The last run of each lane is not killed and must publish; those two runs are also the
reference versions every post-kill snapshot is checked against.
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from flows.warehouse import lock
from flows.warehouse.tables import STAGED_TABLES
from tests.conftest import ROOT, SEEDS

SEED = 20261201
KILLS_PER_LANE = 5
# Where a kill lands: after the progress line that opens a stage ("" = the process start: imports, the
# API server booting, the flow starting), a delay drawn up to the stage's usual length; with the time a
# sequential run on an idle 2-core machine takes to get there (to balance the lanes).
MOMENTS = {
    "": (12.0, 6),
    "ingest: started": (0.3, 20),
    "prepare: started": (0.5, 20),
    "plan: started": (0.3, 21),
    "extract: started": (2.0, 21),
    "stage: started": (0.3, 23),
    "record: started": (0.2, 23),
    "link: started": (1.2, 24),
    "audit: started": (15.0, 32),
    "publish: started": (0.4, 42),
    "publish: done": (1.0, 43),
}
RUN_TIMEOUT = 240


def plan(seed: int = SEED) -> list[list[tuple[str, float]]]:
    """Per lane, the kills in order: (stage line, delay). Ten of the eleven moments (one left out at random),
    the two around the publish transaction in different lanes, the rest dealt to balance the lanes' time;
    random delays; each lane in random order. Spares follow, for runs that end before their kill."""
    rng = random.Random(seed)
    rest = [m for m in MOMENTS if not m.startswith("publish")]
    rest.remove(rng.choice(rest))
    lanes: list[list[str]] = [["publish: started"], ["publish: done"]]
    rng.shuffle(lanes)
    for marker in sorted(rest, key=lambda m: -MOMENTS[m][1]):
        min(lanes, key=lambda lane: (len(lane) >= KILLS_PER_LANE, sum(MOMENTS[m][1] for m in lane))).append(marker)
    out = []
    for lane in lanes:
        rng.shuffle(lane)
        spares = [rng.choice(list(MOMENTS)) for _ in range(KILLS_PER_LANE)]
        out.append([(m, round(rng.uniform(0, MOMENTS[m][0]), 3)) for m in lane + spares])
    return out


def version(warehouse: Path):
    """An order-independent fingerprint of curated.*, or None when nothing was ever published."""
    if not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)  # the warehouse opens (fails the test if not)
    try:
        present = {
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'curated'").fetchall()
        }
        if not present:
            return None
        out = {}
        for name in STAGED_TABLES:
            n, h = con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM curated.{name} t").fetchall()[
                0
            ]
            out[name] = (int(n), str(h))
    finally:
        con.close()
    return out if any(n for n, _ in out.values()) else None


def processes_of(pid: int) -> list[str]:
    """Living processes in `pid`'s process group, or started by it as its API server (zombies are dead)."""
    left = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, _ppid, pgid = stat.rsplit(")", 1)[1].split()[:3]
        if state in ("Z", "X"):
            continue
        if int(pgid) == pid or f"--parent {pid} " in cmdline + " ":
            left.append(f"{entry} {state} {cmdline[:160]}")
    return left


class Run:
    """`newsflow run` in its own session, its stderr lines timestamped as they come."""

    def __init__(self, source: Path, warehouse: Path, home: Path):
        env = {**os.environ, "PREFECT_HOME": str(home)}
        env.pop("PREFECT_API_URL", None)  # the run starts its own API server, as a user's would
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.app.cli",
                "run",
                "--source",
                str(source),
                "--warehouse",
                str(warehouse),
                "--full-refresh",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started = time.monotonic()
        self.lines: list[tuple[float, str]] = []
        self.seen = threading.Condition()
        self.stdout = ""
        self.err_done = False
        threading.Thread(target=self._read_err, daemon=True).start()
        threading.Thread(target=self._read_out, daemon=True).start()

    def _read_err(self):
        for line in self.proc.stderr:
            with self.seen:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.seen.notify_all()
        with self.seen:
            self.err_done = True
            self.seen.notify_all()

    def _read_out(self):
        self.stdout = self.proc.stdout.read()

    def when(self, marker: str, timeout: float) -> float | None:
        """When `marker` appeared on stderr (the start for ""), or None if the run ended first."""
        if not marker:
            return self.started
        deadline = time.monotonic() + timeout
        with self.seen:
            while True:
                for t, line in self.lines:
                    if line.endswith(f"newsflow {marker}") or f"newsflow {marker} " in line:
                        return t
                if self.err_done:
                    return None
                assert time.monotonic() < deadline, f"no {marker!r} within {timeout} s: {self.text()}"
                self.seen.wait(0.2)

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


class Lane:
    def __init__(self, index: int, sources: tuple[Path, Path], tmp: Path, kills: list[tuple[str, float]], home: str):
        self.index, self.sources = index, sources
        self.warehouse = tmp / f"lane{index}" / "w.duckdb"
        self.home = home
        self.plan = kills
        self.events: list[dict] = []  # one per run: source, moment, outcome, version after

    def source(self, n: int) -> Path:
        return self.sources[(n + self.index) % 2]

    def kill_runs(self) -> None:
        kills, n = 0, 0
        while kills < KILLS_PER_LANE:
            assert n < len(self.plan), f"lane {self.index}: too many runs ended before their kill"
            marker, delay = self.plan[n]
            source = self.source(n)
            run = Run(source, self.warehouse, self.home)
            at = run.when(marker, RUN_TIMEOUT)
            if at is not None:
                time.sleep(max(0.0, at + delay - time.monotonic()))
            killed = run.proc.poll() is None
            if killed:
                os.kill(run.proc.pid, signal.SIGKILL)
            code = run.proc.wait(timeout=RUN_TIMEOUT)
            moment = f"{marker or 'process start'} + {delay:.2f} s (at {time.monotonic() - run.started:.1f} s)"
            if not killed:  # it finished before the kill: it must have published
                assert code == 0, f"lane {self.index} run {n} ({moment}) exited {code}:\n{run.text()}"
            else:
                kills += 1
                # until the kill the run went as normal: it did not fail on what the previous kill left
                assert "newsflow:" not in run.text(), f"lane {self.index} run {n} failed before its kill:\n{run.text()}"
            deadline = time.monotonic() + 10
            while (left := processes_of(run.proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.1)
            for line in left:  # leave nothing behind even when failing
                os.kill(int(line.split()[0]), signal.SIGKILL)
            assert not left, f"lane {self.index} run {n} killed at {moment} left processes behind: {left}"
            self.events.append(
                {
                    "run": n,
                    "source": source.name,
                    "moment": moment,
                    "killed": killed,
                    "version": version(self.warehouse),
                }
            )
            self._owner_pid_reused()
            n += 1
        self.next_run = n

    def _owner_pid_reused(self) -> None:
        """A killed run's owner file stays; make its pid a living process (a container restart reuses
        pids): the next run must still start, the lock being free."""
        owner = self.warehouse.with_name(self.warehouse.name + ".owner.json")
        if owner.exists():
            data = json.loads(owner.read_text())
            owner.write_text(json.dumps({**data, "pid": os.getppid()}))

    def last_run(self) -> tuple[str, dict]:
        """The run after the last kill, not killed: it must publish, without any cleanup."""
        source = self.sources[self.index]  # lane 0 ends on a, lane 1 on b
        run = Run(source, self.warehouse, self.home)
        code = run.proc.wait(timeout=RUN_TIMEOUT)
        time.sleep(0.5)
        assert code == 0, f"lane {self.index}: the run after the kills exited {code}:\n{run.text()}"
        assert "PUBLISHED" in run.stdout, run.stdout
        noise = [line for _, line in run.lines if not re.match(r"^\d\d:\d\d:\d\d newsflow [a-z]+: ", line)]
        assert not noise, noise  # stderr: progress only, whatever the previous kills left
        assert not processes_of(run.proc.pid), processes_of(run.proc.pid)
        return source.name, version(self.warehouse)


@pytest.fixture()
def two_sources(tmp_path):
    seeds = sorted(SEEDS.glob("*.txt"))
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, files in ((a, seeds[0:1]), (b, seeds[2:3])):
        folder.mkdir()
        for f in files:
            shutil.copy(f, folder / f.name)
    return a, b


def test_kill_9_at_random_moments_leaves_a_whole_version_and_nothing_running(tmp_path, two_sources, prefect_home):
    t0 = time.monotonic()
    lanes = [
        Lane(i, two_sources, tmp_path, kills, prefect_home(tmp_path / f"lane{i}" / "prefect"))
        for i, kills in enumerate(plan())
    ]
    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(lane.kill_runs) for lane in lanes]:
            future.result()
        finals = [f.result() for f in [pool.submit(lane.last_run) for lane in lanes]]
    versions = dict(finals)  # source name -> its published version (the lanes end on different sources)
    assert set(versions) == {p.name for p in two_sources} and versions["a"] != versions["b"]
    for lane in lanes:
        before = None
        for event in lane.events:
            after = event["version"]
            new = versions[event["source"]]
            where = f"lane {lane.index} run {event['run']} ({event['source']}, kill at {event['moment']})"
            if event["killed"]:
                assert after in (before, new), f"{where}: curated.* is neither the previous nor the new version"
            else:
                assert after == new, f"{where}: finished but did not publish its version"
            before = after
    kills = sum(e["killed"] for lane in lanes for e in lane.events)
    assert kills >= 10
    print(f"\n{kills} kills in {time.monotonic() - t0:.0f} s")
    for lane in lanes:
        for e in lane.events:
            state = (
                "new" if e["version"] == versions[e["source"]] else "nothing" if e["version"] is None else "previous"
            )
            print(
                f"  lane {lane.index} run {e['run']} {e['source']}: {'killed' if e['killed'] else 'ended'} at "
                f"{e['moment']} -> {state}"
            )


def test_an_owner_file_whose_pid_is_alive_but_holds_no_lock_blocks_nobody(tmp_path):
    """The lock is the truth: an owner file left by a killed run names a pid that another process now has."""
    warehouse = tmp_path / "w.duckdb"
    owner = warehouse.with_name("w.duckdb.owner.json")
    warehouse.with_name("w.duckdb.lock").touch()
    owner.write_text(
        json.dumps(
            {
                "run_id": "killed-run",
                "pid": os.getppid(),
                "host": os.uname().nodename,
                "since": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    assert lock.holder(warehouse) is None
    assert not owner.exists()  # recognised as stale and removed
    owner.write_text(json.dumps({"run_id": "killed-run", "pid": os.getpid(), "host": os.uname().nodename}))
    with lock.writer(warehouse, "next-run"):  # does not wait, and is not refused
        assert lock.holder(warehouse)["run_id"] == "next-run"
        # while the lock is really held, a second writer is refused with the holder's name
        with pytest.raises(lock.RunInProgress, match="being written by run next-run"):
            with lock.writer(warehouse, "third-run"):
                pass
    assert lock.holder(warehouse) is None


def test_probing_the_lock_does_not_make_a_starting_run_fail(tmp_path):
    """holder() takes the lock for an instant when an owner file exists; a writer that does not wait still
    gets it (it allows PROBE_GRACE_SECONDS for such a probe)."""
    warehouse = tmp_path / "w.duckdb"
    owner = warehouse.with_name("w.duckdb.owner.json")
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            owner.write_text(json.dumps({"run_id": "ghost", "pid": os.getpid()}))
            lock.holder(warehouse)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        for i in range(50):
            with lock.writer(warehouse, f"run-{i}"):
                pass
    finally:
        stop.set()
        prober.join()


def test_a_failed_run_prints_one_line_and_leaves_the_details_in_its_log_file(tmp_path, prefect_home):
    """Subprocess level (the real entry point, stderr a pipe): apart from the timestamped progress lines,
    stderr holds exactly one line; Prefect's tracebacks go to <warehouse>.log; audit.runs has the reason."""
    source = tmp_path / "a"
    source.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], source)
    warehouse = tmp_path / "w.duckdb"
    script = (
        "import sys\nfrom flows.link import corpus\n"
        "def broken(staged):\n    raise RuntimeError('disk full')\n"
        "corpus.link = broken\nfrom flows.app import cli\n"
        f"sys.argv = ['newsflow', 'run', '--source', {str(source)!r}, '--warehouse', {str(warehouse)!r}]\n"
        "cli.entrypoint()\n"
    )
    env = {**os.environ, "PREFECT_HOME": prefect_home(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=RUN_TIMEOUT)
    assert proc.returncode == 3, err
    progress = re.compile(r"^\d\d:\d\d:\d\d newsflow [a-z]+: ")
    others = [line for line in err.splitlines() if not progress.match(line)]
    log = warehouse.with_name("w.duckdb.log")
    assert others == [
        f"newsflow: the run failed: RuntimeError: disk full (nothing was published; the reason is in "
        f"audit.runs, details in {log})"
    ], err
    assert "link: failed after" in err and out == ""
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError: disk full" in text
    assert not processes_of(proc.pid)  # and its API server stopped with it
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT status, reason FROM audit.runs").fetchall() == [("failed", "RuntimeError: disk full")]
    con.close()
