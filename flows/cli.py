"""`newsflow` command line.

  newsflow run --source PATH --warehouse PATH [--full-refresh]
      exit 0: published; 1: the audit blocked publishing (curated tables unchanged);
      2: usage error (e.g. the source does not exist); 3: the run could not complete
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
    print(f"  articles in: {s['articles_in']}   published: {s['articles_published']}   "
          f"quarantined: {s['articles_quarantined']} ({s['inputs_rejected']} unreadable inputs)")
    print(f"  claims quarantined: {s['claims_quarantined']}")
    if s["corpus"]:
        print("  warehouse now holds: " + ", ".join(f"{n} {t}" for t, n in s["corpus"].items()))
    failed = s["failed_expectations"]
    print(f"  expectations: {s['expectations_evaluated']} evaluated, {len(failed)} failed")
    for f in failed:
        print(f"    - [{f['severity']}] {f['table_name']}: {f['description']} ({f['unexpected_count']} rows)")
    print("  timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in s["timings"].items()))
    print(f"  try:  newsflow sql \"{EXAMPLE_SQL}\" --warehouse {s['warehouse']}")


def cmd_run(args) -> int:
    from flows.ingest import SourceError, resolve_source

    try:
        resolve_source(args.source)
    except SourceError as exc:
        return _fail(EXIT_USAGE, str(exc))
    _prefect_defaults()
    from flows.pipeline import curate
    from flows.warehouse import WarehouseBusy

    try:
        summary = curate(source=args.source, warehouse=str(Path(args.warehouse)), full_refresh=args.full_refresh)
    except WarehouseBusy as exc:
        return _fail(EXIT_FAILED, str(exc))
    _print_summary(summary)
    return EXIT_PUBLISHED if summary["status"] == "published" else EXIT_BLOCKED


def cmd_sql(args) -> int:
    import duckdb

    path = Path(args.warehouse)
    if not path.exists():
        return _fail(EXIT_USAGE, f"no warehouse at {path}; run `newsflow run` first")
    if args.format == "parquet" and not args.output:
        return _fail(EXIT_USAGE, "--format parquet needs --output FILE (Parquet is binary)")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return _fail(EXIT_FAILED, f"cannot open {path}: {exc}")
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
    run.add_argument("--full-refresh", action="store_true", help="rebuild the curated tables from this source only")
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
