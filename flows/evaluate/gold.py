"""The gold annotation format of an evaluation corpus, its loader and its integrity check.

A corpus is a folder with `articles/` (real articles as found, one text file each) and `gold/`
(one YAML file per story group: a story and its hard negatives). The format is documented in
seeds/eval/README.md; `python -m flows.evaluate.gold [CORPUS]` checks every file and exits 1 on the
first list of problems.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

ENTITY_TYPES = ("PER", "ORG", "LOC", "MISC")
CITATION_KINDS = ("outlet", "agency")
CONTRADICTION_KINDS = ("quantity", "date", "affiliation", "ranking", "statement")
# Units a gold quantity may have; currencies are ISO 4217 codes (three capitals).
UNITS = {
    "%",
    "count",
    "ordinal",
    "fraction",
    "magnitude",
    "year",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "km",
    "m",
    "cm",
    "mm",
    "mi",
    "ft",
    "km2",
    "m2",
    "ha",
    "mi2",
    "t",
    "kg",
    "g",
    "l",
    "m3",
    "km/h",
    "mph",
    "m/s",
    "°C",
    "°F",
    "W",
    "kW",
    "MW",
    "GW",
    "kWh",
    "MWh",
    "GWh",
    "TWh",
    "bbl",
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class GoldError(ValueError):
    pass


@dataclass
class Article:
    id: str
    file: Path
    story: str
    language: str
    url: str
    outlet: str
    published: str
    text: str
    group: str
    split: str
    citations: list[dict] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    quantities: list[dict] = field(default_factory=list)
    dates: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)


@dataclass
class Corpus:
    root: Path
    stories: dict[str, dict]
    articles: dict[str, Article]
    contradictions: list[dict]  # {"a": "article/claim", "b": ..., "kind", "note"}

    def claim(self, ref: str) -> dict:
        article, _, claim = ref.partition("/")
        return next(c for c in self.articles[article].claims if c["id"] == claim)


def read_article_text(path: Path) -> str:
    """The article's text exactly as stored (UTF-8); spans are substrings of it."""
    return path.read_bytes().decode("utf-8-sig")


def _as_date_text(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def load(root: Path, only: list[str] | None = None) -> Corpus:
    """Every gold file under root/gold (or only the named ones), checked; GoldError lists all problems."""
    problems: list[str] = []
    stories: dict[str, dict] = {}
    articles: dict[str, Article] = {}
    contradictions: list[dict] = []
    files = sorted(p for p in (root / "gold").glob("*.yaml") if not only or p.name in only or p.stem in only)
    if not files:
        raise GoldError(f"no gold files in {root / 'gold'}")
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML ({exc})")
            continue
        _check_group(root, path.name, data, stories, articles, contradictions, problems)
    for c in contradictions:
        for side in ("a", "b"):
            ref = c.get(side, "")
            article, _, claim = str(ref).partition("/")
            if article not in articles or claim not in {x["id"] for x in articles[article].claims}:
                problems.append(f"contradiction {c}: {side} = {ref!r} is not an article/claim id")
    if problems:
        raise GoldError("\n".join(problems))
    return Corpus(root, stories, articles, contradictions)


def _check_group(root: Path, name: str, data, stories, articles, contradictions, problems) -> None:
    def bad(message: str) -> None:
        problems.append(f"{name}: {message}")

    if not isinstance(data, dict):
        return bad("top level must be a mapping")
    group, split = data.get("group"), data.get("split")
    if not group or not _ID.match(str(group)):
        bad(f"group {group!r}: a lower-case id")
    if split not in ("dev", "test", "seeds"):
        bad(f"split {split!r}: dev, test or seeds")
    own_stories = set()
    for story in data.get("stories") or []:
        sid = story.get("id")
        if not sid or not _ID.match(str(sid)):
            bad(f"story id {sid!r}: a lower-case id")
            continue
        if sid in stories:
            bad(f"story {sid} declared twice")
        if not story.get("title"):
            bad(f"story {sid}: needs a title")
        if story.get("date") is None or not _DATE.match(_as_date_text(story.get("date"))):
            bad(f"story {sid}: date {story.get('date')!r} is not YYYY[-MM[-DD]]")
        stories[sid] = {**story, "date": _as_date_text(story.get("date")), "group": group}
        own_stories.add(sid)
    for story in data.get("stories") or []:
        neg = story.get("hard_negative_of")
        if neg is not None and neg not in own_stories:
            bad(f"story {story.get('id')}: hard_negative_of {neg!r} is not a story of this file")
    for entry in data.get("articles") or []:
        _check_article(root, name, group, split, entry, own_stories, articles, bad)
    for c in data.get("contradictions") or []:
        if not isinstance(c, dict) or c.get("kind") not in CONTRADICTION_KINDS:
            bad(f"contradiction {c!r}: needs a, b and kind in {CONTRADICTION_KINDS}")
            continue
        contradictions.append(c)


def _check_article(root, name, group, split, entry, own_stories, articles, bad) -> None:
    aid = entry.get("id")
    if not aid or not _ID.match(str(aid)):
        return bad(f"article id {aid!r}: a lower-case id")
    if aid in articles:
        return bad(f"article {aid} appears twice")
    where = f"article {aid}"
    path = root / "articles" / str(entry.get("file", ""))
    if not entry.get("file") or not path.is_file():
        return bad(f"{where}: file {entry.get('file')!r} not found under articles/")
    text = read_article_text(path)
    for key in ("story", "language", "url", "outlet", "published"):
        if not entry.get(key):
            bad(f"{where}: needs {key}")
    if entry.get("story") not in own_stories:
        bad(f"{where}: story {entry.get('story')!r} is not a story of this file")
    if not re.fullmatch(r"[a-z]{2,3}", str(entry.get("language", ""))):
        bad(f"{where}: language {entry.get('language')!r} is not an ISO 639 code")
    published = _as_date_text(entry.get("published", ""))
    if not _DATE.match(published):
        bad(f"{where}: published {published!r} is not YYYY[-MM[-DD]]")

    def verbatim(surface, what: str) -> None:
        if not isinstance(surface, str) or not surface.strip():
            bad(f"{where}: {what} has an empty surface")
        elif surface not in text:
            bad(f"{where}: {what} {surface!r} is not a verbatim substring of {entry['file']}")

    for c in entry.get("citations") or []:
        if not c.get("name") or c.get("kind") not in CITATION_KINDS:
            bad(f"{where}: citation {c!r} needs name and kind in {CITATION_KINDS}")
        verbatim(c.get("surface"), "citation")
    for e in entry.get("entities") or []:
        if not e.get("name") or e.get("type") not in ENTITY_TYPES:
            bad(f"{where}: entity {e!r} needs name and type in {ENTITY_TYPES}")
        surfaces = e.get("surfaces") or []
        if not surfaces:
            bad(f"{where}: entity {e.get('name')!r} has no surfaces")
        for s in surfaces:
            verbatim(s, f"entity {e.get('name')!r} surface")
    for q in entry.get("quantities") or []:
        verbatim(q.get("surface"), "quantity")
        if not isinstance(q.get("value"), (int, float)) or isinstance(q.get("value"), bool):
            bad(f"{where}: quantity {q.get('surface')!r} value {q.get('value')!r} is not a number")
        unit = q.get("unit")
        if not (unit in UNITS or (isinstance(unit, str) and _CURRENCY.match(unit))):
            bad(f"{where}: quantity {q.get('surface')!r} unit {unit!r} is not a known unit or ISO 4217 code")
    for d in entry.get("dates") or []:
        verbatim(d.get("surface"), "date")
        if not _DATE.match(_as_date_text(d.get("value", ""))):
            bad(f"{where}: date {d.get('surface')!r} value {d.get('value')!r} is not YYYY[-MM[-DD]]")
        d["value"] = _as_date_text(d.get("value"))
    claim_ids = set()
    for c in entry.get("claims") or []:
        cid = c.get("id")
        if not cid or not _ID.match(str(cid)) or cid in claim_ids:
            bad(f"{where}: claim id {cid!r} missing, malformed or repeated")
        claim_ids.add(cid)
        verbatim(c.get("span"), f"claim {cid}")
        if "source" not in c:
            bad(f"{where}: claim {cid} needs source (a name, or null for the outlet's own voice)")
        if c.get("cue") is not None:
            verbatim(c.get("cue"), f"claim {cid} cue")
        if c.get("source_span") is not None:
            verbatim(c.get("source_span"), f"claim {cid} source_span")
    articles[aid] = Article(
        id=aid,
        file=path,
        story=entry.get("story"),
        language=entry.get("language"),
        url=entry.get("url"),
        outlet=entry.get("outlet"),
        published=published,
        text=text,
        group=group,
        split=split,
        citations=entry.get("citations") or [],
        entities=entry.get("entities") or [],
        quantities=entry.get("quantities") or [],
        dates=entry.get("dates") or [],
        claims=entry.get("claims") or [],
    )


def main(argv: list[str]) -> int:
    """python -m flows.evaluate.gold [CORPUS_DIR] [GOLD_FILE ...]"""
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "seeds" / "eval"
    try:
        corpus = load(root, argv[1:] or None)
    except GoldError as exc:
        print(exc, file=sys.stderr)
        return 1
    langs = sorted({a.language for a in corpus.articles.values()})
    claims = sum(len(a.claims) for a in corpus.articles.values())
    print(
        f"ok: {len(corpus.articles)} articles, {len(corpus.stories)} stories, {len(langs)} languages "
        f"({', '.join(langs)}), {claims} claims, {len(corpus.contradictions)} contradictions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
