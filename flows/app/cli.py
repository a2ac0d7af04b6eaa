"""`newsflow` command line.

  newsflow run --source PATH [--warehouse PATH] [--full-refresh] [--languages it,en] [--wait SECONDS]
               [--batch-size N] [--threshold NAME=VALUE ...] [--runner threads|dask] [--dask-address tcp://...]
      exit 0: published, or nothing changed since the last run; 1: the audit blocked publishing (curated
      tables unchanged); 2: usage error (e.g. the source does not exist); 3: the run could not complete
      (e.g. another run is writing the warehouse)
  newsflow sql "SELECT ..." [--warehouse PATH] [--format table|csv|json|parquet] [--output FILE]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_PUBLISHED, EXIT_BLOCKED, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3

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


def _fail(code: int, message: str) -> int:
    print(f"newsflow: {message}", file=sys.stderr)
    return code


def _print_summary(s: dict) -> None:
    print(f"run {s['run_id']}: {s['status'].upper()}" + (f" ({s['reason']})" if s["reason"] else ""))
    print(f"  articles in: {s['articles_in']}   extracted (new or changed): {s['articles_extracted']}   "
          f"published: {s['articles_published']}   quarantined: {s['articles_quarantined']} "
          f"({s['inputs_rejected']} unreadable inputs)" + (f"   skipped (language): {s['articles_skipped']}"
                                                           if s["articles_skipped"] else ""))
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
    print(f"  try:  newsflow sql \"{EXAMPLE_SQL}\" --warehouse {s['warehouse']}")


def _thresholds(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--threshold {pair!r}: write NAME=VALUE")
        values[name.strip()] = value.strip()
    return values


def cmd_run(args) -> int:
    from flows.extract.ingest import SourceError, resolve_source
    from flows.warehouse import lock

    try:
        resolve_source(args.source)
    except SourceError as exc:
        return _fail(EXIT_USAGE, str(exc))
    warehouse = Path(args.warehouse)
    owner = lock.holder(warehouse)
    if owner is not None and args.wait <= 0:  # fail fast, before Prefect starts up
        return _fail(EXIT_FAILED, lock.refusal(warehouse, owner))
    from pydantic import ValidationError

    from flows.params import SETTING_OF, Thresholds

    try:
        thresholds = Thresholds(**_thresholds(args.threshold)) if args.threshold else None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: "
                             + ("not a threshold" if e["type"] == "extra_forbidden" else e["msg"]) for e in exc.errors())
        return _fail(EXIT_USAGE, f"--threshold {problems} (thresholds: {', '.join(SETTING_OF)})")
    except ValueError as exc:
        return _fail(EXIT_USAGE, str(exc))
    _prefect_defaults()
    from prefect.exceptions import ParameterTypeError

    from flows.app import progress
    from flows.pipeline import curate, run_curate
    from flows.app.runners import make_task_runner

    flow = curate
    if args.runner or args.dask_address:
        if args.runner == "threads" and args.dask_address:
            return _fail(EXIT_USAGE, "--dask-address needs --runner dask")
        try:
            flow = curate.with_options(task_runner=make_task_runner(args.runner or "dask", args.dask_address))
        except (RuntimeError, ValueError) as exc:
            return _fail(EXIT_USAGE, str(exc))
    languages = None
    if args.languages:
        from flows.extract.langid import known_codes
        from flows.params import check_languages

        try:
            languages = check_languages(args.languages.split(","), set(known_codes()))
        except ValueError as exc:
            return _fail(EXIT_USAGE, f"--languages: {exc}")
    reporter = progress.for_cli()
    try:
        with reporter, progress.use(reporter):
            summary = run_curate(flow, source=args.source, warehouse=str(warehouse), full_refresh=args.full_refresh,
                                 languages=languages, thresholds=thresholds, batch_size=args.batch_size,
                                 wait_seconds=args.wait)
    except ParameterTypeError as exc:  # a parameter Prefect's validation rejected
        return _fail(EXIT_USAGE, str(exc).splitlines()[0])
    except Exception as exc:  # the run failed: one line here; details in the run log and audit.runs
        return _fail(EXIT_FAILED, f"the run failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
                                  f"(nothing was published; see audit.runs and the log above)")
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

    from flows.warehouse.store import SANDBOX

    path = Path(args.warehouse)
    if not path.exists():
        return _fail(EXIT_USAGE, f"no warehouse at {path}; run `newsflow run` first")
    if args.format == "parquet" and not args.output:
        return _fail(EXIT_USAGE, "--format parquet needs --output FILE (Parquet is binary)")
    try:
        con = duckdb.connect(str(path), read_only=True, config=dict(SANDBOX))
    except duckdb.Error as exc:
        return _fail(EXIT_FAILED, f"cannot open {path}: {str(exc).splitlines()[0]}")
    try:
        try:
            relation = con.sql(args.query)
            if relation is None:  # a statement with no result set
                print("ok")
                return 0
            frame = relation.pl()
        except duckdb.Error as exc:
            return _fail(EXIT_USAGE, f"query failed: {str(exc).splitlines()[0]}")
    finally:
        con.close()
    if args.format == "table":
        import polars as pl

        with pl.Config(tbl_rows=args.max_rows, fmt_str_lengths=args.max_width, tbl_width_chars=200,
                       tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
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

    parser = argparse.ArgumentParser(prog="newsflow", description="Curate multilingual news into audited DuckDB tables.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the curate flow on a source")
    run.add_argument("--source", required=True, help="a folder, a glob, a single file, or a .jsonl file")
    run.add_argument("--warehouse", default=str(DEFAULT_WAREHOUSE), help="DuckDB file to write (default: %(default)s)")
    run.add_argument("--full-refresh", action="store_true",
                     help="extract every article again and keep only this source's articles")
    run.add_argument("--languages", help="comma-separated ISO 639 codes to keep (e.g. it,en); others are skipped")
    run.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                     help="if another run is writing the warehouse, queue behind it this long (default: fail now)")
    run.add_argument("--batch-size", type=int, help="articles per extraction task (default: seeds/config.toml)")
    run.add_argument("--threshold", action="append", default=[], metavar="NAME=VALUE",
                     help="override a threshold for this run, e.g. story_min_overlap=0.5 (see flows/params.py)")
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
