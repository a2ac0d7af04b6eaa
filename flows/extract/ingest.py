"""Read articles from files, folders, globs or JSONL into one Polars frame; unreadable input is quarantined.

Each article keeps the text exactly as read (`original_text`) and a cleaned `text` that every
offset in the warehouse points into. The article id is a hash of the cleaned text, so the same
text read twice (two files, or one file twice) is one article.
"""
from __future__ import annotations

import glob
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import ftfy
import polars as pl
import yaml

from flows.config import setting
from flows.lexicon.reference import cues

ARTICLE_FIELDS = ("url", "title", "outlet", "published", "author")

ARTICLE_SCHEMA = {
    "article_id": pl.String,
    "source_uri": pl.String,
    "all_uris": pl.List(pl.String),
    "url": pl.String,
    "title": pl.String,
    "outlet": pl.String,
    "author": pl.String,
    "published": pl.Date,
    "published_precision": pl.String,
    "text": pl.String,
    "original_text": pl.String,
    "body_start": pl.Int32,
    "char_count": pl.Int32,
    "content_key": pl.String,
}

QUARANTINE_SCHEMA = {"source_uri": pl.String, "reason": pl.String}


class SourceError(ValueError):
    """The source the user named cannot be read at all (a usage error, not bad data)."""


# Characters that carry no text: zero-width marks, BOM, soft hyphen, word joiner, bidi controls.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Every kind of space except newline and tab becomes a plain space.
_SPACES = re.compile(r"[^\S\n\t]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, normalization="NFC", explain=False)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_DATE_TOKEN = r"(\d{4}-\d{1,2}-\d{1,2}|\d{4}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4}|\d{4}/\d{1,2}/\d{1,2})"


@dataclass
class _Batch:
    rows: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)

    def reject(self, uri: str, reason: str) -> None:
        self.quarantine.append({"source_uri": uri, "reason": reason})


def resolve_source(source: str | Path) -> list[Path]:
    """Files named by a folder (recursive), a glob, a single file or a .jsonl file, sorted."""
    text = str(source)
    path = Path(text)
    if any(ch in text for ch in "*?["):
        files = [Path(p) for p in glob.glob(text, recursive=True)]
        files = [p for p in files if p.is_file()]
        if not files:
            raise SourceError(f"no files match {text!r}")
    elif path.is_dir():
        suffixes = set(setting("ingest", "text_suffixes")) | set(setting("ingest", "jsonl_suffixes"))
        files = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes]
        if not files:
            raise SourceError(f"folder {text!r} holds no {', '.join(sorted(suffixes))} files")
    elif path.is_file():
        files = [path]
    else:
        raise SourceError(f"source {text!r} does not exist")
    return sorted(files)


def clean_text(raw: str) -> str:
    """Repair mojibake, normalise to NFC, drop invisible and control characters, unify spaces and newlines."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = ftfy.fix_text(text, _FTFY)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text.replace("\t", " "))
    text = re.sub(r" +\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return unicodedata.normalize("NFC", text).strip()


def content_id(text: str) -> str:
    folded = " ".join(text.split()).casefold()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]


def content_key(row: dict) -> str:
    """Changes when anything extraction reads changes: the exact text, the original, the metadata."""
    parts = [str(row[name]) for name in ("text", "original_text", *ARTICLE_FIELDS, "published_precision", "body_start")]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


def parse_date(value) -> tuple[date | None, str | None]:
    """A publication date and its precision from YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or ISO datetimes."""
    if value is None:
        return None, None
    if isinstance(value, datetime):
        return value.date(), "day"
    if isinstance(value, date):
        return value, "day"
    s = str(value).strip()
    try:
        if m := re.fullmatch(r"(\d{4})", s):
            return date(int(m[1]), 1, 1), "year"
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
            return date(int(m[1]), int(m[2]), 1), "month"
        if m := re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", s):
            return date(int(m[1]), int(m[2]), int(m[3])), "day"
        if m := re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", s):
            return date(int(m[3]), int(m[2]), int(m[1])), "day"
        return datetime.fromisoformat(s.replace("Z", "+00:00")).date(), "day"
    except ValueError:
        return None, None


def _date_label_pattern() -> re.Pattern:
    labels = cues().filter(pl.col("kind") == "date_label")["cue"].unique().to_list()
    alternation = "|".join(re.escape(x) for x in sorted(labels, key=len, reverse=True))
    return re.compile(rf"\A\s*(?:(?:{alternation})\s*:?\s*)?{_DATE_TOKEN}(?=\s)", re.IGNORECASE)


def split_inline_metadata(text: str) -> tuple[int, date | None, str | None]:
    """Recognise a leading 'date 2023-10' style stamp: returns (body_start, published, precision)."""
    m = _date_label_pattern().match(text)
    if not m:
        return 0, None, None
    published, precision = parse_date(m.group(1))
    if published is None:
        return 0, None, None
    body_start = m.end()
    while body_start < len(text) and text[body_start].isspace():
        body_start += 1
    return body_start, published, precision


def _decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) or (None, reason)."""
    if b"\x00" in data:
        return None, "binary content (NUL bytes)"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start}"
    controls = len(_CONTROL.findall(text))
    if text and controls / len(text) > setting("ingest", "max_control_ratio"):
        return None, f"binary content ({controls} control characters)"
    return text, None


def _front_matter(text: str) -> tuple[dict, str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError:
        return {}, text  # not front matter after all: keep it as text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[m.end():]


def _add_article(batch: _Batch, uri: str, body: str, meta: dict) -> None:
    text = clean_text(body)
    if len(text) < setting("ingest", "min_chars"):
        batch.reject(uri, f"empty: {len(text)} characters of text after cleaning")
        return
    body_start, inline_date, inline_precision = split_inline_metadata(text)
    published, precision = parse_date(meta.get("published"))
    if published is None:
        published, precision = inline_date, inline_precision
    def field_(name):
        value = meta.get(name)
        return None if value is None else str(value).strip() or None
    row = {
        "article_id": content_id(text),
        "source_uri": uri,
        "url": field_("url"),
        "title": field_("title"),
        "outlet": field_("outlet"),
        "author": field_("author"),
        "published": published,
        "published_precision": precision,
        "text": text,
        "original_text": body,
        "body_start": body_start,
        "char_count": len(text),
    }
    batch.rows.append({**row, "content_key": content_key(row)})


def _read_text_file(batch: _Batch, path: Path, data: bytes) -> None:
    text, reason = _decode(data)
    if reason:
        batch.reject(str(path), reason)
        return
    meta, body = _front_matter(text)
    _add_article(batch, str(path), body, meta)


def _read_jsonl(batch: _Batch, path: Path, data: bytes) -> None:
    text, reason = _decode(data)
    if reason:
        batch.reject(str(path), reason)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        uri = f"{path}#L{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            batch.reject(uri, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            batch.reject(uri, "JSON line has no string field 'text'")
            continue
        if len(record["text"].encode("utf-8")) > setting("ingest", "max_bytes"):
            batch.reject(uri, f"oversized: text over {setting('ingest', 'max_bytes')} bytes")
            continue
        _add_article(batch, uri, record["text"], {k: record.get(k) for k in ARTICLE_FIELDS})


def read_files(paths: list[Path]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(articles, quarantine): distinct articles with every URI they were read from, and rejected inputs."""
    batch = _Batch()
    max_bytes = setting("ingest", "max_bytes")
    jsonl = set(setting("ingest", "jsonl_suffixes"))
    for path in paths:
        try:
            size = path.stat().st_size
            if size > max_bytes and path.suffix.lower() not in jsonl:
                batch.reject(str(path), f"oversized: {size} bytes (limit {max_bytes})")
                continue
            data = path.read_bytes()
        except OSError as exc:
            batch.reject(str(path), f"unreadable: {exc.strerror or exc}")
            continue
        (_read_jsonl if path.suffix.lower() in jsonl else _read_text_file)(batch, path, data)
    return _distinct(batch.rows), pl.DataFrame(batch.quarantine, schema=QUARANTINE_SCHEMA)


def _distinct(rows: list[dict]) -> pl.DataFrame:
    schema = {k: v for k, v in ARTICLE_SCHEMA.items() if k != "all_uris"}
    frame = pl.DataFrame(rows, schema=schema).sort("source_uri")
    uris = frame.group_by("article_id").agg(pl.col("source_uri").alias("all_uris"))
    first = frame.unique("article_id", keep="first", maintain_order=True)
    return first.join(uris, on="article_id").select(list(ARTICLE_SCHEMA)).sort("article_id")
