"""`newsflow` command line.

newsflow run --source PATH [--warehouse PATH] [--full-refresh] [--languages it,en] [--wait SECONDS]
             [--batch-size N] [--threshold NAME=VALUE ...] [--runner threads|dask] [--dask-address tcp://...]
    exit 0: published, or nothing changed since the last run; 1: the audit blocked publishing (curated
    tables unchanged); 2: usage error (e.g. the source does not exist); 3: the run could not complete
    (e.g. another run is writing the warehouse)
newsflow sql "SELECT ..." [--warehouse PATH] [--format table|csv|json|parquet] [--output FILE] [--wait SECONDS]
    waits up to --wait seconds (default 15) while a run holds the file; exit 3 if it is still held
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

EXIT_PUBLISHED, EXIT_BLOCKED, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
SQL_WAIT_SECONDS = 15.0  # `newsflow sql` waits this long for a writing run to let go of the file

EXAMPLE_SQL = (
    "SELECT a.language, c.source_name, c.attribution, c.text FROM curated.claims c "
    "JOIN curated.articles a USING (article_id) LIMIT 10"
)


def _prefect_defaults() -> None:
    """Offline, quiet Prefect unless the user configured otherwise (set before Prefect is imported)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


_ERR = None  # where newsflow's own lines go while a run sends everything else on stderr to its log file


def _fail(code: int, message: str) -> int:
    print(f"newsflow: {message}", file=_ERR or sys.stderr, flush=True)
    return code


def _print_summary(s: dict) -> None:
    print(f"run {s['run_id']}: {s['status'].upper()}" + (f" ({s['reason']})" if s["reason"] else ""))
    print(
        f"  articles in: {s['articles_in']}   extracted (new or changed): {s['articles_extracted']}   "
        f"published: {s['articles_published']}   quarantined: {s['articles_quarantined']} "
        f"({s['inputs_rejected']} unreadable inputs)"
        + (f"   skipped (language): {s['articles_skipped']}" if s["articles_skipped"] else "")
    )
    print(f"  claims quarantined: {s['claims_quarantined']}")
    if s["corpus"]:
        print("  warehouse now holds: " + ", ".join(f"{n} {t}" for t, n in s["corpus"].items()))
    failed = s["failed_expectations"]
    print(f"  expectations: {s['expectations_evaluated']} evaluated, {len(failed)} failed")
    for f in failed:
        print(f"    - [{f['severity']}] {f['table_name']}: {f['description']} ({f['unexpected_count']} rows)")
    print("  timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in s["timings"].items()))
    if s["data_docs"]:
        print(f"  data docs: {s['data_docs']}")
    print(f'  try:  {_command()} sql "{EXAMPLE_SQL}" --warehouse {s["warehouse"]}')


def _command() -> str:
    """How the user can call newsflow again: `newsflow` when that is on PATH, else the script's path
    (after `make run` it is .venv/bin/newsflow, which is not on PATH)."""
    import shutil

    script = Path(sys.executable).with_name("newsflow")
    on_path = shutil.which("newsflow")
    if on_path and (not script.exists() or Path(on_path).resolve() == script.resolve()):
        return "newsflow"
    if script.exists():
        try:
            return str(script.relative_to(Path.cwd()))
        except ValueError:
            return str(script)
    return f"{Path(sys.executable).name} -m flows.app.cli"


def _thresholds(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--threshold {pair!r}: write NAME=VALUE")
        values[name.strip()] = value.strip()
    return values


def cmd_run(args) -> int:
    from flows import access
    from flows.extract.ingest import SourceError, resolve_source
    from flows.warehouse import lock
    from flows.warehouse.store import NotAWarehouse, check_target

    warehouse = Path(args.warehouse)
    try:
        if access.enforced(in_deployment=False):  # refuse before touching any file (the log file too)
            access.check(access.configured_roots(), args.source, str(warehouse), None)
        resolve_source(args.source)
        check_target(warehouse)
    except (SourceError, access.AccessRefused, NotAWarehouse) as exc:
        return _fail(EXIT_USAGE, str(exc).splitlines()[0])
    owner = lock.holder(warehouse)
    if owner is not None and args.wait <= 0:  # fail fast, before Prefect starts up
        return _fail(EXIT_FAILED, lock.refusal(warehouse, owner))
    from pydantic import ValidationError

    from flows.params import SETTING_OF, Thresholds

    try:
        thresholds = Thresholds(**_thresholds(args.threshold)) if args.threshold else None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: " + ("not a threshold" if e["type"] == "extra_forbidden" else e["msg"])
            for e in exc.errors()
        )
        return _fail(EXIT_USAGE, f"--threshold {problems} (thresholds: {', '.join(SETTING_OF)})")
    except ValueError as exc:
        return _fail(EXIT_USAGE, str(exc))
    languages = None
    if args.languages:  # before Prefect starts, like the other usage errors (loads the language ID model: ~1 s)
        from flows.extract.langid import known_codes
        from flows.params import check_languages

        try:
            languages = check_languages(args.languages.split(","), set(known_codes()))
        except ValueError as exc:
            return _fail(EXIT_USAGE, f"--languages: {exc}")
    # Prefect, its API server and the pipeline take several seconds to load: say so at once
    print(
        f"{time.strftime('%H:%M:%S')} newsflow start: loading Prefect and starting its API server",
        file=sys.stderr,
        flush=True,
    )
    _prefect_defaults()
    from flows.app import process

    global _ERR
    log_path = process.log_path_for(warehouse)
    # From here on stderr is the run's log file: Prefect's records and tracebacks, warnings and the
    # API server's output go there; progress, the summary's problems and the one failure line go to
    # `terminal` (the real stderr).
    redirect = process.stderr_to_log(log_path)
    try:
        terminal, log = redirect.__enter__()
    except OSError as exc:  # the warehouse's folder cannot be written: neither can the warehouse
        return _fail(EXIT_FAILED, f"cannot write the run's log file {log_path}: {exc.strerror or exc}")
    server = None
    try:
        _ERR = terminal
        server = process.start_api_server(log)  # boots on the other core while the pipeline imports
        return _run(args, warehouse, thresholds, languages, server, terminal, log_path)
    finally:
        _drain_prefect()
        if server is not None:
            server.stop()
        _ERR = None
        redirect.__exit__(None, None, None)


def _drain_prefect() -> None:
    """Send what Prefect still queues (logs, events) while its API is up, so nothing is left for exit hooks
    that would find the server gone ("Error logging to API")."""
    for name in ("prefect.logging.handlers:APILogWorker", "prefect.events.worker:EventsWorker"):
        module, _, cls = name.partition(":")
        worker = getattr(sys.modules.get(module), cls, None)
        if worker is None:
            continue
        try:
            worker.drain_all(timeout=5)
        except Exception:  # best effort: the run's outcome is already decided
            pass


def _run(args, warehouse: Path, thresholds, languages: list[str] | None, server, terminal, log_path: Path) -> int:
    from prefect.exceptions import ParameterTypeError

    from flows.app import process, progress
    from flows.app.runners import make_task_runner
    from flows.pipeline import curate, run_curate

    if server is not None:  # booting takes ~10 s, this ~7 s: the audit's import costs the run nothing here
        from flows.audit.run import import_gx

        import_gx()
    flow = curate
    if args.runner or args.dask_address:
        if args.runner == "threads" and args.dask_address:
            return _fail(EXIT_USAGE, "--dask-address needs --runner dask")
        try:
            flow = curate.with_options(task_runner=make_task_runner(args.runner or "dask", args.dask_address))
        except (RuntimeError, ValueError) as exc:
            return _fail(EXIT_USAGE, str(exc))
    reporter = progress.for_cli(terminal)
    try:
        with process.prefect_api(server, float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])):
            with reporter, progress.use(reporter):
                summary = run_curate(
                    flow,
                    source=args.source,
                    warehouse=str(warehouse),
                    full_refresh=args.full_refresh,
                    languages=languages,
                    thresholds=thresholds,
                    batch_size=args.batch_size,
                    wait_seconds=args.wait,
                )
    except ParameterTypeError as exc:  # a parameter Prefect's validation rejected
        return _fail(EXIT_USAGE, str(exc).splitlines()[0])
    except Exception as exc:  # the run failed: one line here; the traceback in the log file, the reason in audit.runs
        import traceback

        traceback.print_exception(exc, file=sys.stderr)  # that is the log file now
        first = str(exc).splitlines()[0] if str(exc) else ""
        return _fail(
            EXIT_FAILED,
            f"the run failed: {type(exc).__name__}: {first} "
            f"(nothing was published; the reason is in audit.runs, details in {log_path})",
        )
    if summary["status"] == "busy":
        return _fail(EXIT_FAILED, summary["reason"])
    if summary["status"] == "refused":
        return _fail(EXIT_USAGE, summary["reason"])
    _print_summary(summary)
    return EXIT_PUBLISHED if summary["status"] in ("published", "unchanged") else EXIT_BLOCKED


def cmd_sql(args) -> int:
    """Run the user's SQL on a connection that can neither write the warehouse nor reach any other file or
    the network (read-only, external access disabled, configuration locked); --output is the one way to
    write, done here."""
    import duckdb

    from flows.warehouse.lock import WarehouseBusy
    from flows.warehouse.store import Warehouse

    path = Path(args.warehouse)
    if not path.exists():
        return _fail(EXIT_USAGE, f"no warehouse at {path}; run `newsflow run` first")
    if args.format == "parquet" and not args.output:
        return _fail(EXIT_USAGE, "--format parquet needs --output FILE (Parquet is binary)")
    try:
        # a run writing the file holds it for a moment at a time: wait for it (bounded) instead of failing
        with Warehouse(path).connect(read_only=True, sandbox=True, wait_seconds=args.wait) as con:
            try:
                relation = con.sql(args.query)
                if relation is None:  # a statement with no result set
                    print("ok")
                    return 0
                frame = relation.pl()
            except duckdb.Error as exc:
                return _fail(EXIT_USAGE, f"query failed: {str(exc).splitlines()[0]}")
    except WarehouseBusy as exc:
        return _fail(EXIT_FAILED, str(exc))
    except duckdb.Error as exc:
        return _fail(EXIT_FAILED, f"cannot open {path}: {str(exc).splitlines()[0]}")
    if args.format == "table":
        import polars as pl

        with pl.Config(
            tbl_rows=args.max_rows,
            fmt_str_lengths=args.max_width,
            tbl_width_chars=200,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
        ):
            text = str(frame)
        text += f"\n({frame.height} rows)"
        if args.output:
            Path(args.output).write_text(text + "\n")
        else:
            print(text)
        return 0
    if args.format == "csv":
        out = frame.write_csv(args.output) if args.output else frame.write_csv()
    elif args.format == "json":
        out = frame.write_json(args.output) if args.output else frame.write_json()
    else:
        frame.write_parquet(args.output)
        out = None
    if out is not None:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from flows.config import DEFAULT_WAREHOUSE

    parser = argparse.ArgumentParser(
        prog="newsflow", description="Curate multilingual news into audited DuckDB tables."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the curate flow on a source")
    run.add_argument("--source", required=True, help="a folder, a glob, a single file, or a .jsonl file")
    run.add_argument("--warehouse", default=str(DEFAULT_WAREHOUSE), help="DuckDB file to write (default: %(default)s)")
    run.add_argument(
        "--full-refresh", action="store_true", help="extract every article again and keep only this source's articles"
    )
    run.add_argument("--languages", help="comma-separated ISO 639 codes to keep (e.g. it,en); others are skipped")
    run.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="if another run is writing the warehouse, queue behind it this long (default: fail now)",
    )
    run.add_argument("--batch-size", type=int, help="articles per extraction task (default: seeds/config.toml)")
    run.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a threshold for this run, e.g. story_threshold=0.9 (see flows/params.py)",
    )
    run.add_argument("--runner", choices=["threads", "dask"], help="task runner for the heavy tasks")
    run.add_argument("--dask-address", help="scheduler address of an existing Dask cluster (implies --runner dask)")
    run.set_defaults(func=cmd_run)
    sql = sub.add_parser("sql", help="run a read-only SQL query on the warehouse")
    sql.add_argument("query")
    sql.add_argument("--warehouse", default=str(DEFAULT_WAREHOUSE))
    sql.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    sql.add_argument("--output", help="write to FILE instead of standard output")
    sql.add_argument("--max-rows", type=int, default=50, help="rows shown in table format")
    sql.add_argument("--max-width", type=int, default=60, help="characters shown per text cell")
    sql.add_argument(
        "--wait",
        type=float,
        default=SQL_WAIT_SECONDS,
        metavar="SECONDS",
        help="while a run is writing the warehouse, wait this long for it (default: %(default)g)",
    )
    sql.set_defaults(func=cmd_sql)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits with 2 on usage errors
    return args.func(args)


def entrypoint() -> None:
    import atexit

    code = main()
    # Run the exit hooks (they stop Prefect's ephemeral API server), then skip the rest of interpreter
    # teardown: duckdb's bindings print spurious "nanobind: leaked" notices once GX has introspected
    # the database. Every file is closed by now.
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entrypoint()
