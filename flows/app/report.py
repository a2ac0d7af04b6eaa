"""What a run tells its users in the Prefect UI: a markdown summary and tables, as artifacts.

Keys are stable, so each run adds a new version of the same three artifacts and the UI shows their
history. Tables are capped (the full lists stay queryable in audit.quarantine / audit.results).

Data Docs: a browser refuses to open a file:// link from the UI's page, so while `make serve` runs,
serve publishes the deployment warehouse's `<warehouse>.docs/` folder over HTTP on 127.0.0.1 and tells
the runs it starts where (DOCS_URL_ENV, DOCS_ROOT_ENV); their artifacts then link there. Elsewhere (the
CLI, a run writing another warehouse) the link stays file://.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import polars as pl

SUMMARY_KEY = "newsflow-summary"
FAILED_KEY = "newsflow-failed-expectations"
QUARANTINE_KEY = "newsflow-quarantine"
DATA_DOCS_KEY = "newsflow-data-docs"
PROGRESS_KEY = "newsflow-extract-progress"
TABLE_ROWS = 500
DOCS_URL_ENV = "NEWSFLOW_DOCS_URL"  # set by serve for its runs: http://127.0.0.1:<port>/
DOCS_ROOT_ENV = "NEWSFLOW_DOCS_ROOT"  # ... and the folder that URL serves (<warehouse>.docs)


def data_docs_link(index: str | None) -> str | None:
    """Where a person opens this run's Data Docs: the served URL when serve publishes the folder the
    site is in, else the file:// URI as written."""
    base, root = os.environ.get(DOCS_URL_ENV, ""), os.environ.get(DOCS_ROOT_ENV, "")
    if not index or not base or not root or not index.startswith("file://"):
        return index
    path = Path(unquote(urlparse(index).path)).resolve()
    served = Path(root).resolve()
    if not path.is_relative_to(served):  # a run writing another warehouse: not served
        return index
    return base.rstrip("/") + "/" + quote(path.relative_to(served).as_posix())


def _cell(value) -> str:
    """Table cells may not contain a pipe or a line break."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(summary: dict, languages: dict[str, int], quarantined: pl.DataFrame, data_docs: str | None = None) -> str:
    s = summary
    lines = [
        f"# newsflow run: {s['status']}",
        "",
        f"{s['reason']}" if s["reason"] else "",
        "",
        *(
            [f"**[Great Expectations Data Docs of this run]({data_docs})** (every expectation and its result)", ""]
            if data_docs
            else []
        ),
        "| run | |",
        "|---|---|",
        f"| source | `{s['source']}` |",
        f"| warehouse | `{s['warehouse']}` |",
        f"| articles in source | {s['articles_in']} |",
        f"| extracted this run (new or changed) | {s['articles_extracted']} |",
        f"| published | {s['articles_published']} |",
        f"| quarantined (unreadable inputs + articles the audit held back) | {s['articles_quarantined']} |",
        f"| of which unreadable inputs | {s['inputs_rejected']} |",
        f"| skipped (language not selected) | {s['articles_skipped']} |",
        f"| claims quarantined | {s['claims_quarantined']} |",
        f"| expectations evaluated / failed | {s['expectations_evaluated']} / {len(s['failed_expectations'])} |",
        "",
    ]
    if languages:
        lines += ["## Curated articles by language", "", "| language | articles |", "|---|---|"]
        lines += [f"| {lang} | {n} |" for lang, n in sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))] + [""]
    if s["corpus"]:
        lines += ["## Curated tables", "", "| table | rows |", "|---|---|"]
        lines += [f"| {t} | {n} |" for t, n in s["corpus"].items()] + [""]
    if s["failed_expectations"]:
        lines += ["## Failed expectations", "", "| severity | table | expectation | rows |", "|---|---|---|---|"]
        lines += [
            f"| {f['severity']} | {f['table_name']} | {_cell(f['description'])} | {f['unexpected_count']} |"
            for f in s["failed_expectations"]
        ] + [""]
    if quarantined.height:
        why = quarantined.group_by("table_name", "reason").len().sort("len", "table_name", descending=[True, False])
        lines += ["## Held back, and why", "", "| table | reason | rows |", "|---|---|---|"]
        lines += [f"| {t} | {_cell(r)} | {n} |" for t, r, n in why.iter_rows()] + [""]
    if s["timings"]:
        lines += ["## Timings (s)", "", " · ".join(f"{k} {v:.1f}" for k, v in s["timings"].items())]
    return "\n".join(lines)


def publish_artifacts(
    summary: dict, languages: dict[str, int], quarantined: pl.DataFrame, data_docs: str | None
) -> None:
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    data_docs = data_docs_link(data_docs)
    create_markdown_artifact(
        markdown(summary, languages, quarantined, data_docs),
        key=SUMMARY_KEY,
        description=f"newsflow run {summary['run_id']}: {summary['status']}",
    )
    failed = summary["failed_expectations"] or [
        {"severity": "", "table_name": "", "description": "none failed", "unexpected_count": 0}
    ]
    create_table_artifact(failed, key=FAILED_KEY, description="expectations that failed in this run")
    rows = quarantined.select("table_name", "record_id", "source_uri", "reason").head(TABLE_ROWS)
    create_table_artifact(
        rows.to_dicts() or [{"table_name": "", "record_id": "", "source_uri": "", "reason": "nothing quarantined"}],
        key=QUARANTINE_KEY,
        description=f"rows held back by this run ({quarantined.height}; first {TABLE_ROWS} shown)",
    )
    if data_docs:
        create_link_artifact(
            data_docs,
            link_text="Great Expectations Data Docs"
            + ("" if data_docs.startswith("http") else " (a local file: open it in a browser on this machine)"),
            key=DATA_DOCS_KEY,
            description="validation results of this run, rendered offline",
        )
