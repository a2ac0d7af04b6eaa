"""`make eval`: run the real pipeline on the annotated corpora and print the scorecard.

  python -m flows.evaluate [--corpus seeds/eval] [--split dev,test,seeds] [--json FILE] [--keep DIR]

The dev/test corpus (seeds/eval/articles) and the seeds (seeds/articles) are each run into a throwaway
warehouse with the project's own configuration, exactly as `newsflow run` would; each split is then
scored against its gold (flows/evaluate/score.py) overall, for non-Latin scripts and per language.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from flows.config import PROJECT_ROOT

LINKING = [
    ("lang", "language"),
    ("story P", "story pair precision"),
    ("story R", "story pair recall"),
    ("story F1", "story F1"),
    ("B3 F1", "story bcubed F1"),
    ("clus P", "cluster pair precision"),
    ("clus R", "cluster pair recall"),
    ("xl clus R", "cross-language cluster pair recall"),
    ("contra P", "contradiction precision"),
    ("contra R", "contradiction recall"),
    ("ent link", "cross-language entity link"),
]
EXTRACTION = [
    ("claims R", "claim recall"),
    ("attrib", "attribution"),
    ("attrib (found)", "attribution (found claims)"),
    ("cite R", "citation recall"),
    ("cite P", "citation precision"),
    ("ent R", "entity recall"),
    ("ent P", "entity precision"),
    ("qty R", "quantity recall"),
    ("qty P", "quantity precision"),
    ("date R", "date recall"),
    ("date P", "date precision"),
]


def _f1(p, r):
    return None if p is None or r is None or p + r == 0 else 2 * p * r / (p + r)


def card(scores) -> dict:
    """{group: {metric: value}} with F1s derived, plus counts."""
    groups = sorted(
        {g for per in scores.tallies.values() for g in per} | {g for per in scores.counts.values() for g in per},
        key=lambda g: (g != "all", g != "non-latin", g),
    )
    out = {}
    for g in groups:
        row = {m: per[g].value for m, per in scores.tallies.items() if g in per}
        row["story F1"] = _f1(row.get("story pair precision"), row.get("story pair recall"))
        row["story bcubed F1"] = _f1(row.get("story bcubed precision"), row.get("story bcubed recall"))
        row["cluster F1"] = _f1(row.get("cluster pair precision"), row.get("cluster pair recall"))
        for name, per in scores.counts.items():
            if g in per:
                row[name] = per[g]
        out[g] = row
    return out


def table(rows: dict, columns) -> str:
    head = ["group", "arts", *[c for c, _ in columns]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g, row in rows.items():
        cells = [g, str(row.get("articles", ""))]
        cells += ["–" if row.get(m) is None else f"{row[m]:.2f}" for _, m in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_pipeline(source: Path, warehouse: Path) -> dict:
    from flows.pipeline import run_curate

    return run_curate(source=str(source), warehouse=str(warehouse), full_refresh=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(PROJECT_ROOT / "seeds" / "eval"))
    parser.add_argument("--split", default="dev,test,seeds", help="comma-separated: dev, test, seeds")
    parser.add_argument("--json", default=str(PROJECT_ROOT / "warehouse" / "eval" / "scorecard.json"))
    parser.add_argument("--keep", help="write the warehouses here instead of a temporary folder")
    args = parser.parse_args(argv)
    from flows.app.cli import _prefect_defaults

    _prefect_defaults()  # offline and quiet, as `newsflow run`

    from flows.evaluate.gold import GoldError, load
    from flows.evaluate.score import score
    from flows.warehouse.store import Warehouse

    corpus_dir = Path(args.corpus)
    try:
        corpus = load(corpus_dir)
    except GoldError as exc:
        print(f"the gold does not check:\n{exc}", file=sys.stderr)
        return 1
    wanted = [s.strip() for s in args.split.split(",") if s.strip()]
    sources = {"seeds": PROJECT_ROOT / "seeds" / "articles"}
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="newsflow-eval-"))
    work.mkdir(parents=True, exist_ok=True)
    result = {"corpus": str(corpus_dir), "splits": {}}
    runs = {}
    for split in wanted:
        source = sources.get(split, corpus_dir / "articles")
        if source not in runs:
            warehouse = work / f"{'seeds' if split == 'seeds' else 'eval'}.duckdb"
            t0 = time.perf_counter()
            summary = run_pipeline(source, warehouse)
            runs[source] = (warehouse, summary, time.perf_counter() - t0)
            print(
                f"ran the pipeline on {source} ({summary['articles_in']} articles, {summary['status']}) "
                f"in {runs[source][2]:.0f} s",
                file=sys.stderr,
            )
        warehouse, summary, seconds = runs[source]
        if summary["status"] not in ("published", "unchanged"):
            print(f"\n## {split}: not scored: the run ended {summary['status']} ({summary['reason']})")
            result["splits"][split] = {"run": {"status": summary["status"], "reason": summary["reason"]}}
            continue
        rows = card(score(corpus, Warehouse(warehouse), {split}))
        result["splits"][split] = {
            "run": {"status": summary["status"], "seconds": round(seconds, 1), "timings": summary["timings"]},
            "scores": rows,
        }
        n = sum(1 for a in corpus.articles.values() if a.split == split)
        print(
            f"\n## {split}: {n} articles, {len({a.language for a in corpus.articles.values() if a.split == split})}"
            f" languages (unsourced claims published: {rows.get('all', {}).get('unsourced claims published', 0)})\n"
        )
        print("Linking\n\n" + table(rows, LINKING) + "\n\nExtraction\n\n" + table(rows, EXTRACTION))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    print(f"\nscorecard written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    import atexit

    code = main()
    atexit._run_exitfuncs()  # stops Prefect's ephemeral API server
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown (duckdb's spurious "leaked" notices after GX)
