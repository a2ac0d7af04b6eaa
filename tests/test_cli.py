"""The `newsflow` command: exit codes, the run summary, and read-only SQL with exports."""

import json
import os
import subprocess
import sys

import polars as pl

from tests.conftest import FIXTURES

NEWSFLOW = [sys.executable, "-m", "flows.app.cli"]


def newsflow(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*NEWSFLOW, *args], capture_output=True, text=True, env=os.environ.copy(), timeout=300, **kw)


def test_missing_source_is_a_usage_error(tmp_path):
    r = newsflow("run", "--source", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert r.returncode == 2
    assert r.stderr.strip() == f"newsflow: source {str(tmp_path / 'nope')!r} does not exist"
    assert not (tmp_path / "w.duckdb").exists()


def test_a_warehouse_that_cannot_be_one_is_a_usage_error(tmp_path):
    source = str(FIXTURES / "frontmatter_de.md")
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    for warehouse, why in (
        (tmp_path, "is a folder, not a DuckDB file"),
        (text, "is not a DuckDB file"),
        (text / "w.duckdb", f"cannot be created: {str(text)!r} is a file"),
    ):
        r = newsflow("run", "--source", source, "--warehouse", str(warehouse))
        assert r.returncode == 2, r.stderr
        line = r.stderr.strip()
        assert line.startswith(f"newsflow: warehouse {str(warehouse)!r} {why}") and len(line.splitlines()) == 1, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no lock, owner or log file
    assert text.read_text() == "not a database"


def test_bad_threshold_says_which_and_what_exists(tmp_path):
    r = newsflow(
        "run",
        "--source",
        str(FIXTURES / "frontmatter_de.md"),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        "--threshold",
        "bogus=1",
        "--threshold",
        "low_confidence=5",
    )
    assert r.returncode == 2
    assert (
        "bogus: not a threshold" in r.stderr and "low_confidence: Input should be less than or equal to 1" in r.stderr
    )
    assert "thresholds: low_confidence, mixed_share" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "w.duckdb").exists()


def test_bad_language_says_which_codes_are_accepted(tmp_path):
    from flows.extract.langid import known_codes

    r = newsflow(
        "run", "--languages", "Italian", "--source", "seeds/articles", "--warehouse", str(tmp_path / "w.duckdb")
    )
    assert r.returncode == 2
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1, r.stderr  # refused before Prefect starts: no "loading Prefect" line
    assert line.startswith("newsflow: --languages: 'Italian' is not a language code fastText identifies"), line
    assert "(did you mean 'it'?)" in line
    codes = known_codes()
    assert line.endswith(f"accepted: the {len(codes)} ISO 639 codes fastText lid.176 writes: {', '.join(codes)}")
    assert not list(tmp_path.iterdir())  # no warehouse, no log file


def test_language_codes_are_folded_to_the_code_as_written():
    from flows.extract.langid import known_codes
    from flows.params import check_languages

    known = set(known_codes())
    assert check_languages(["IT", " en", "sr-latn", "it"], known) == ["en", "it", "sr-Latn"]
    for given, hint in ((["ita"], "'it'"), (["German"], "'de'"), (["it-IT"], "'it'")):
        try:
            check_languages(given, known)
        except ValueError as exc:
            assert f"did you mean {hint}?" in str(exc), exc
        else:
            raise AssertionError(f"{given} accepted")


def test_the_servers_refusal_of_a_bad_language_survives_the_prefect_cli():
    """`prefect deployment run -p languages='["Italian"]'` prints the server's refusal through Rich markup,
    which ate a pattern's `[a-z]` ("'Italian' does not match '^{2,3}$'"): the rule is now the list of codes,
    and it reaches the terminal whole."""
    import io

    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools import ValidationError, validate
    from rich.console import Console

    from flows.extract.langid import known_codes
    from flows.pipeline import curate

    schema = parameter_schema(curate.fn).model_dump()  # what the deployment registers with the server
    try:
        validate({"languages": ["Italian"]}, schema, raise_on_error=True)  # what the server runs on a new run
    except ValidationError as exc:
        message = str(exc)
    else:
        raise AssertionError("the schema accepts 'Italian'")
    assert message == (
        f"Validation failed for field 'languages[0]'. Failure reason: 'Italian' is not one of {list(known_codes())}"
    )
    out = io.StringIO()
    Console(file=out, width=100_000, color_system=None).print(message, style="red")  # Prefect's exit_with_error
    assert out.getvalue().strip() == message
    validate({"languages": ["it", "sr-Latn", "und"]}, schema, raise_on_error=True)


def test_bad_arguments_exit_2():
    assert newsflow("run").returncode == 2
    assert newsflow("frobnicate").returncode == 2


def test_run_publishes_then_blocks(tmp_path, monkeypatch, data_docs):
    warehouse = tmp_path / "w.duckdb"
    # what `make serve` sets for its runs: the CLI runs no Data Docs server, so it still prints the file
    monkeypatch.setenv("NEWSFLOW_DOCS_URL", "http://127.0.0.1:4201/")
    monkeypatch.setenv("NEWSFLOW_DOCS_ROOT", str(tmp_path / "w.duckdb.docs"))
    ok = newsflow("run", "--source", str(FIXTURES / "frontmatter_de.md"), "--warehouse", str(warehouse))
    assert ok.returncode == 0, ok.stderr
    assert "PUBLISHED" in ok.stdout and "articles in: 1" in ok.stdout and "newsflow sql" in ok.stdout
    assert f"  data docs: {(tmp_path / 'w.duckdb.docs').resolve().as_uri()}/" in ok.stdout
    assert "leaked" not in ok.stderr
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x00binary")
    blocked = newsflow("run", "--source", str(junk), "--warehouse", str(warehouse))
    assert blocked.returncode == 1
    assert "BLOCKED" in blocked.stdout and "no readable articles" in blocked.stdout
    assert "1 unreadable inputs" in blocked.stdout


def test_sql_formats(seed_run, tmp_path):
    warehouse = str(seed_run[1])
    q = "SELECT language, count(*) AS n FROM curated.sentences GROUP BY language ORDER BY n DESC"
    table = newsflow("sql", q, "--warehouse", warehouse)
    assert table.returncode == 0 and "language" in table.stdout and "rows)" in table.stdout
    csv = newsflow(
        "sql", "SELECT language FROM curated.articles ORDER BY language", "--warehouse", warehouse, "--format", "csv"
    )
    assert csv.stdout.split() == ["language", "en", "it", "pl", "sv", "vi"]
    js = newsflow("sql", "SELECT count(*) AS n FROM curated.articles", "--warehouse", warehouse, "--format", "json")
    assert json.loads(js.stdout) == [{"n": 5}]
    out = tmp_path / "claims.parquet"
    pq = newsflow(
        "sql", "SELECT * FROM curated.claims", "--warehouse", warehouse, "--format", "parquet", "--output", str(out)
    )
    assert pq.returncode == 0
    assert pl.read_parquet(out).height == seed_run[0]["claims"]


def test_sql_is_read_only_and_reports_errors(seed_run, tmp_path):
    warehouse = str(seed_run[1])
    w = newsflow("sql", "DELETE FROM curated.claims", "--warehouse", warehouse)
    assert w.returncode == 2 and "read-only" in w.stderr.lower()
    bad = newsflow("sql", "SELECT * FROM curated.nope", "--warehouse", warehouse)
    assert bad.returncode == 2 and bad.stderr.startswith("newsflow: query failed")
    missing = newsflow("sql", "SELECT 1", "--warehouse", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2 and "run `newsflow run` first" in missing.stderr


def test_a_run_that_fails_exits_3_in_one_line_and_is_logged(prefect_backend, tmp_path, monkeypatch, capsys):
    from flows.app import cli
    from flows.link import corpus as linking
    from flows.warehouse.store import Warehouse

    def broken(staged):
        raise RuntimeError("disk full")

    monkeypatch.setattr(linking, "link", broken)
    warehouse = tmp_path / "w.duckdb"
    code = cli.main(["run", "--source", str(FIXTURES / "frontmatter_de.md"), "--warehouse", str(warehouse)])
    assert code == 3
    assert "newsflow: the run failed: RuntimeError: disk full" in capsys.readouterr().err
    wh = Warehouse(warehouse)
    assert wh.query("SELECT status, reason FROM audit.runs").rows() == [("failed", "RuntimeError: disk full")]
    assert wh.query("SELECT count(*) AS n FROM curated.articles")["n"][0] == 0


def _digest(path) -> str:
    import hashlib

    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_sql_cannot_write_files_attach_or_reach_out(seed_run, tmp_path):
    """`newsflow sql` runs on a read-only connection with external access disabled: no statement can write
    a file, attach another database, load an extension or read a file; the warehouse stays byte-identical."""
    warehouse = str(seed_run[1])
    before = _digest(warehouse)
    other = tmp_path / "other.duckdb"
    import duckdb

    con = duckdb.connect(str(other))
    con.execute("CREATE SCHEMA curated; CREATE TABLE curated.articles AS SELECT 1 AS x")
    con.close()
    other_before = _digest(other)
    escapes = [
        f"COPY (SELECT 1 AS x) TO '{warehouse}'",
        f"COPY (SELECT 1 AS x) TO '{tmp_path / 'out.csv'}'",
        f"ATTACH '{other}' AS o (READ_WRITE); DROP TABLE o.curated.articles",
        f"ATTACH '{other}' AS o",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT * FROM read_text('/etc/os-release')",
        f"EXPORT DATABASE '{tmp_path / 'dump'}'",
        "SET enable_external_access = true",
        "CREATE TABLE curated.x AS SELECT 1",
    ]
    for sql in escapes:
        r = newsflow("sql", sql, "--warehouse", warehouse)
        assert r.returncode == 2, (sql, r.stdout, r.stderr)
        assert r.stderr.startswith("newsflow: query failed") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert _digest(warehouse) == before
    assert _digest(other) == other_before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "dump").exists()
    # --output is still the way to write results
    out = tmp_path / "n.csv"
    ok = newsflow(
        "sql",
        "SELECT count(*) AS n FROM curated.articles",
        "--warehouse",
        warehouse,
        "--format",
        "csv",
        "--output",
        str(out),
    )
    assert ok.returncode == 0 and out.read_text().split() == ["n", "5"]
