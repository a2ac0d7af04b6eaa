"""Every row-level expectation of a suite, compiled to a DuckDB query that finds ALL its failing rows.

Great Expectations reports a sample of the rows an expectation flags (`partial_unexpected_list`, capped
`unexpected_index_list` / `unexpected_rows`), so a quarantine built from its lists leaks under real data.
The audit therefore decides which rows to hold back here, in the warehouse, on a sandboxed read-only
connection; GX still validates every expectation (results, Data Docs), and its unexpected count must
equal the count found here — a disagreement is a critical failure that blocks the run.

The compiled predicates follow GX's semantics: column-map expectations ignore NULLs (except the
null checks themselves); `unique` flags every row whose value occurs more than once.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.audit.suites import batch_sql, key_of

# kwargs each compilable expectation may carry (others change GX's meaning in ways not compiled here)
_COMMON = {"column", "mostly", "meta", "notes", "description", "catch_exceptions", "result_format"}
COMPILABLE = {
    "expect_column_values_to_not_be_null": _COMMON,
    "expect_column_values_to_be_null": _COMMON,
    "expect_column_values_to_be_unique": _COMMON,
    "expect_compound_columns_to_be_unique": {"column_list", *_COMMON},
    "expect_column_values_to_be_in_set": {"value_set", *_COMMON},
    "expect_column_values_to_not_be_in_set": {"value_set", *_COMMON},
    "expect_column_values_to_be_between": {"min_value", "max_value", "strict_min", "strict_max", *_COMMON},
    "expect_column_value_lengths_to_be_between": {"min_value", "max_value", "strict_min", "strict_max", *_COMMON},
    "expect_column_values_to_match_regex": {"regex", *_COMMON},
    "expect_column_values_to_not_match_regex": {"regex", *_COMMON},
    "unexpected_rows_expectation": {"unexpected_rows_query", "description", "meta", "notes", "result_format"},
}


def why_not_compilable(expectation: dict) -> str | None:
    """None when the audit can find every failing row of this expectation, else why not."""
    kind, kwargs = expectation.get("type"), expectation.get("kwargs") or {}
    if kind not in COMPILABLE:
        return f"type {kind!r} is not one of {', '.join(sorted(COMPILABLE))}"
    extra = sorted(set(kwargs) - COMPILABLE[kind])
    if extra:
        return f"unsupported argument(s) {extra}"
    if kwargs.get("mostly", 1) != 1:
        return "`mostly` below 1 would publish failing rows"
    if kind.startswith("expect_column") and "column" not in kwargs and "column_list" not in kwargs:
        return "needs `column`"
    return None


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def failing_rows_sql(expectation: dict, table: str) -> tuple[str, list] | None:
    """(SQL selecting the failing rows of staging.<table>, parameters), or None for a table-level check."""
    kind, kw = expectation["type"], expectation.get("kwargs") or {}
    if kind not in COMPILABLE:
        return None
    t = f"staging.{table}"
    if kind == "unexpected_rows_expectation":
        return f"SELECT * FROM ({batch_sql(kw['unexpected_rows_query'], table)}) q", []
    if kind == "expect_compound_columns_to_be_unique":
        cols = ", ".join(_ident(c) for c in kw["column_list"])
        all_null = " AND ".join(f"{_ident(c)} IS NULL" for c in kw["column_list"])
        return (
            f"SELECT * FROM {t} WHERE NOT ({all_null}) AND ({cols}) IN "
            f"(SELECT {cols} FROM {t} GROUP BY ALL HAVING count(*) > 1)"
        ), []
    col = _ident(kw["column"])
    if kind == "expect_column_values_to_not_be_null":
        return f"SELECT * FROM {t} WHERE {col} IS NULL", []
    if kind == "expect_column_values_to_be_null":
        return f"SELECT * FROM {t} WHERE {col} IS NOT NULL", []
    if kind == "expect_column_values_to_be_unique":
        return (
            f"SELECT * FROM {t} WHERE {col} IS NOT NULL AND {col} IN "
            f"(SELECT {col} FROM {t} WHERE {col} IS NOT NULL GROUP BY ALL HAVING count(*) > 1)"
        ), []
    if kind in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        negate = "NOT " if kind.endswith("to_be_in_set") else ""
        return f"SELECT * FROM {t} WHERE {col} IS NOT NULL AND {negate}list_contains(?, {col})", [list(kw["value_set"])]
    if kind in ("expect_column_values_to_be_between", "expect_column_value_lengths_to_be_between"):
        value = f"length({col})" if "lengths" in kind else col
        bounds, params = [], []
        if kw.get("min_value") is not None:
            bounds.append(f"{value} {'>' if kw.get('strict_min') else '>='} ?")
            params.append(kw["min_value"])
        if kw.get("max_value") is not None:
            bounds.append(f"{value} {'<' if kw.get('strict_max') else '<='} ?")
            params.append(kw["max_value"])
        inside = " AND ".join(bounds) or "true"
        return f"SELECT * FROM {t} WHERE {col} IS NOT NULL AND NOT ({inside})", params
    if kind in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
        negate = "" if "not_match" in kind else "NOT "
        return f"SELECT * FROM {t} WHERE {col} IS NOT NULL AND {negate}regexp_matches({col}, ?)", [kw["regex"]]
    return None


@dataclass
class Found:
    """What the warehouse says an expectation flags."""

    count: int  # failing rows (what GX's unexpected_count must equal)
    keys: list[str]  # distinct row keys of the failing rows
    keyless: int  # failing rows whose key is NULL (they cannot be held back by key)
    error: str | None = None


def evaluate(con, suites: list[dict]) -> dict[tuple[str, int], Found]:
    """{(suite name, expectation index): Found} for every compilable expectation, on `con` (read-only)."""
    out: dict[tuple[str, int], Found] = {}
    for data in suites:
        table, key = data["meta"]["table"], key_of(data)
        for i, exp in enumerate(data.get("expectations") or []):
            compiled = failing_rows_sql(exp, table)
            if compiled is None:
                continue
            sql, params = compiled
            try:
                con.execute(f"CREATE OR REPLACE TEMP TABLE failing AS {sql}", params)
                cols = [r[0] for r in con.execute("DESCRIBE failing").fetchall()]
                key_col = _ident(key if key in cols else cols[0])
                count, keyless = con.execute(
                    f"SELECT count(*), count(*) FILTER (WHERE {key_col} IS NULL) FROM failing"
                ).fetchall()[0]
                keys = (
                    con.sql(
                        f"SELECT DISTINCT CAST({key_col} AS VARCHAR) AS k FROM failing "
                        f"WHERE {key_col} IS NOT NULL ORDER BY k"
                    )
                    .pl()["k"]
                    .to_list()
                )
                out[(data["name"], i)] = Found(int(count), keys, int(keyless))
            except Exception as exc:  # a suite query that fails here fails the audit, it is never skipped
                out[(data["name"], i)] = Found(0, [], 0, error=str(exc).splitlines()[0])
    con.execute("DROP TABLE IF EXISTS failing")
    return out
