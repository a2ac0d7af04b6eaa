"""Are two warehouses' curated tables the same? `python -m tests.compare_warehouses A.duckdb B.duckdb`

For refactors that must not change behaviour: run the old and the new code on the same input into two
warehouses, then compare. Rows are compared as sets per table (order-independent), on the columns both
sides have; a table or column only one side has is reported. Exit 0 when identical, 1 otherwise.
"""

from __future__ import annotations

import sys

import duckdb


def tables(con) -> dict[str, list[str]]:
    rows = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'curated' "
        "ORDER BY table_name, column_index"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def compare(a: str, b: str) -> bool:
    ca, cb = duckdb.connect(a, read_only=True), duckdb.connect(b, read_only=True)
    try:
        ta, tb = tables(ca), tables(cb)
        same = set(ta) == set(tb)
        for name in sorted(set(ta) ^ set(tb)):
            print(f"curated.{name}: only in {'the first' if name in ta else 'the second'}")
        for name in sorted(set(ta) & set(tb)):
            columns = [c for c in ta[name] if c in tb[name]]
            query = f"SELECT {', '.join(columns)} FROM curated.{name}"
            rows_a = sorted(map(repr, ca.execute(query).fetchall()))
            rows_b = sorted(map(repr, cb.execute(query).fetchall()))
            ok = rows_a == rows_b and ta[name] == tb[name]
            same &= ok
            note = "" if ta[name] == tb[name] else f" (columns differ: {sorted(set(ta[name]) ^ set(tb[name]))})"
            print(
                f"curated.{name:16} {len(rows_a):6} vs {len(rows_b):6} rows  {'identical' if ok else 'DIFFERENT'}{note}"
            )
    finally:
        ca.close()
        cb.close()
    print("identical" if same else "different")
    return same


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[0])
    sys.exit(0 if compare(sys.argv[1], sys.argv[2]) else 1)
