"""Read articles from files, folders, globs or JSONL into one Polars frame; every input not read gets a reason.

No single input can stop a run: each file (and each JSONL line) is read, decoded and parsed on its own,
and anything that cannot be taken becomes a quarantine row (source_uri, reason) instead of an exception
— wrong suffix, a folder that cannot be listed, a link to a folder, a dangling link, a FIFO or device,
a permission error, a file outside the allowed roots, invalid UTF-8, binary content, oversized input or
metadata, an HTML page with no article text.

Each article keeps the text exactly as read (`original_text`) and a cleaned `text` that every offset in
the warehouse points into. The article id is a hash of the cleaned text, so the same text read twice
(two files, or one file twice) is one article. `source_uri` is the resolved absolute path (plus `#L<n>`
for a JSONL line), so the same file reached by two names is one input.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import ftfy
import polars as pl
import yaml

from flows.config import setting
from flows.lexicon.reference import cues
from flows.warehouse.tables import ARTICLES

ARTICLE_FIELDS = ("url", "title", "outlet", "published", "author")
INGEST_COLUMNS = (
    "article_id",
    "source_uri",
    "url",
    "title",
    "outlet",
    "author",
    "published",
    "published_precision",
    "published_source",
    "text",
    "original_text",
    "body_start",
    "char_count",
    "content_key",
)
# what ingest hands on: the articles contract's ingest columns plus every place the text was read from
ARTICLE_SCHEMA = {
    "article_id": pl.String,
    "source_uri": pl.String,
    "all_uris": pl.List(pl.String),
    **{c: ARTICLES.polars[c] for c in INGEST_COLUMNS if c not in ("article_id", "source_uri")},
}
QUARANTINE_SCHEMA = {"source_uri": pl.String, "reason": pl.String}


class SourceError(ValueError):
    """The source the user named cannot be read at all (a usage error, not bad data)."""


# Characters that carry no text: zero-width marks, BOM, soft hyphen, word joiner, bidi controls.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Every kind of space except newline and tab becomes a plain space.
_SPACES = re.compile(r"[^\S\n\t]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, normalization="NFC", explain=False)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_DATE_TOKEN = r"(\d{4}-\d{1,2}-\d{1,2}|\d{4}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4}|\d{4}/\d{1,2}/\d{1,2})"
_HTML_START = re.compile(r"\A\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"</?(?:p|div|span|a|br|h[1-6]|article|section|script|style|meta|link|li|ul|table)\b[^>]*>", re.IGNORECASE
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class _TooLarge(ValueError):
    pass


@dataclass
class Listing:
    """What a source names: the files to read, and the entries that will not be read (with reasons)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def skip(self, path: str | os.PathLike, reason: str) -> None:
        self.skipped.append({"source_uri": uri_of(path), "reason": reason})


@dataclass
class _Batch:
    rows: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)

    def reject(self, uri: str, reason: str) -> None:
        self.quarantine.append({"source_uri": uri, "reason": reason})


def uri_of(path: str | os.PathLike) -> str:
    """The resolved absolute path, as valid text even when the name is not UTF-8 (bytes shown as \\xNN)."""
    real = os.path.realpath(os.fsencode(path))
    return real.decode("utf-8", "backslashreplace")


def _suffixes() -> tuple[set[str], set[str], set[str]]:
    return (
        set(setting("ingest", "text_suffixes")),
        set(setting("ingest", "jsonl_suffixes")),
        set(setting("ingest", "html_suffixes")),
    )


def _accepts(path: Path) -> bool:
    text, jsonl, html = _suffixes()
    return path.suffix.lower() in text | jsonl | html


def _classify(listing: Listing, path: Path, roots=None) -> None:
    """Add `path` to the files to read, or to the skipped entries with the reason."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return listing.skip(path, f"unreadable: {exc.strerror or exc}")
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(path)
        except OSError:
            return listing.skip(path, "dangling symbolic link")
        if stat.S_ISDIR(st.st_mode):
            return listing.skip(path, "symbolic link to a folder: not followed")
    if stat.S_ISDIR(st.st_mode):
        return listing.skip(path, "a folder (only the files of a folder source are read)")
    if not stat.S_ISREG(st.st_mode):
        return listing.skip(path, f"not a regular file ({_file_kind(st.st_mode)})")
    if not _accepts(path):
        text, jsonl, html = _suffixes()
        return listing.skip(
            path,
            f"not an article file: suffix {path.suffix or '(none)'!r} is not one of "
            f"{', '.join(sorted(text | jsonl | html))}",
        )
    if roots is not None and not roots.allows("source", path):
        return listing.skip(path, "outside the folders runs may read (a link pointing elsewhere)")
    listing.files.append(path)


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "special file"


def resolve_source(source: str | Path, roots=None) -> Listing:
    """The files a folder (recursive), a glob, a single file or a .jsonl file names, sorted, with what is skipped.

    SourceError only when the source names nothing at all (it does not exist, a glob matches nothing,
    a folder is empty): everything else that cannot be read is listed in `skipped` with its reason.
    """
    text = str(source)
    path = Path(text)
    listing = Listing()
    if glob.has_magic(text):
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            raise SourceError(f"no files match {text!r}")
        for match in matches:
            if not os.path.isdir(match) or os.path.islink(match):
                _classify(listing, Path(match), roots)
    elif path.is_dir():

        def unreadable(exc: OSError) -> None:
            listing.skip(exc.filename, f"unreadable folder: {exc.strerror or exc}")

        seen = 0
        for folder, dirs, files in os.walk(path, onerror=unreadable, followlinks=False):
            for name in sorted(dirs):
                if os.path.islink(os.path.join(folder, name)):
                    listing.skip(os.path.join(folder, name), "symbolic link to a folder: not followed")
            for name in sorted(files):
                seen += 1
                _classify(listing, Path(folder) / name, roots)
        if not seen and not listing.skipped:
            raise SourceError(f"folder {text!r} is empty")
    elif os.path.lexists(path):
        _classify(listing, path, roots)
    else:
        raise SourceError(f"source {text!r} does not exist")
    listing.files.sort()
    return listing


def clean_text(raw: str) -> str:
    """Repair mojibake, normalise to NFC, drop invisible and control characters, unify spaces and newlines."""
    text = _SURROGATE.sub("\ufffd", raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
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
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def parse_date(value) -> tuple[date | None, str | None]:
    """A publication date and its precision from YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or ISO datetimes."""
    if value is None:
        return None, None
    if isinstance(value, datetime):
        return value.date(), "day"
    if isinstance(value, date):
        return value, "day"
    s = str(value).strip()[:64]
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
    except (ValueError, OverflowError):
        return None, None


def _date_label_pattern() -> re.Pattern:
    labels = cues().filter(pl.col("kind") == "date_label")["cue"].unique().to_list()
    alternation = "|".join(re.escape(x) for x in sorted(labels, key=len, reverse=True))
    return re.compile(rf"\A\s*(?:(?:{alternation})\s*:?\s*)?{_DATE_TOKEN}(?=\s)", re.IGNORECASE)


def split_inline_metadata(text: str) -> tuple[int, date | None, str | None]:
    """Recognise a leading 'date 2023-10' style stamp: returns (body_start, published, precision)."""
    m = _date_label_pattern().match(text[:200])
    if not m:
        return 0, None, None
    published, precision = parse_date(m.group(1))
    if published is None:
        return 0, None, None
    body_start = m.end()
    while body_start < len(text) and text[body_start].isspace():
        body_start += 1
    return body_start, published, precision


def decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) or (None, reason). A byte-order mark says UTF-8, UTF-16 or UTF-32; otherwise UTF-8."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                return None, f"invalid {codec.upper().removesuffix('-SIG')} at byte {exc.start}"
            break
    else:
        if b"\x00" in data:
            return None, "binary content (NUL bytes)"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, f"invalid UTF-8 at byte {exc.start}"
    if "\x00" in text:
        return None, "binary content (NUL characters)"
    controls = len(_CONTROL.findall(text))
    if text and controls / len(text) > setting("ingest", "max_control_ratio"):
        return None, f"binary content ({controls} control characters)"
    return text, None


def _yaml_budget(block: str) -> None:
    """_TooLarge when front matter nests too deep or expands (through YAML aliases) past the node budget."""
    max_depth, max_nodes = setting("ingest", "max_metadata_depth"), setting("ingest", "max_metadata_nodes")
    anchors: dict[str, int] = {}
    stack: list[list] = []
    total = 0

    def add(n: int) -> None:
        nonlocal total
        if stack:
            stack[-1][1] += n
        else:
            total += n
        if total + sum(s[1] for s in stack) > max_nodes:
            raise _TooLarge(f"metadata_too_large: front matter expands to more than {max_nodes} values")

    for event in yaml.parse(block, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append([event.anchor, 1])
            if len(stack) > max_depth:
                raise _TooLarge(f"metadata_too_large: front matter nested deeper than {max_depth}")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, n = stack.pop()
            if anchor:
                anchors[anchor] = n
            add(n)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                anchors[event.anchor] = 1
            add(1)
        elif isinstance(event, yaml.AliasEvent):
            add(anchors.get(event.anchor, 1))


def _front_matter(text: str) -> tuple[dict, str]:
    """(metadata, body). A block that is not YAML mapping stays text; an oversized one raises _TooLarge."""
    m = _FRONT_MATTER.match(text[: setting("ingest", "max_metadata_bytes") + 16])
    if not m:
        if _FRONT_MATTER.match(text):
            raise _TooLarge(f"metadata_too_large: front matter over {setting('ingest', 'max_metadata_bytes')} bytes")
        return {}, text
    block = m.group(1)
    try:
        _yaml_budget(block)
        meta = yaml.safe_load(block) or {}
    except _TooLarge:
        raise
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return {}, text  # not front matter after all: keep it as text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[m.end() :]


def _field(meta: dict, name: str) -> str | None:
    value = meta.get(name)
    if value is None or isinstance(value, (dict, list)):
        return None
    value = _SURROGATE.sub("\ufffd", str(value)).strip()
    if len(value) > setting("ingest", "max_field_chars"):
        raise _TooLarge(
            f"metadata_too_large: {name} has {len(value)} characters (limit {setting('ingest', 'max_field_chars')})"
        )
    return value or None


def looks_like_html(text: str) -> bool:
    head = text[:4000]
    if _HTML_START.match(head):
        return True
    tags = _HTML_TAG.findall(head)
    return len(tags) >= 5 and sum(map(len, tags)) > 0.05 * len(head)


def _from_html(text: str) -> tuple[str | None, dict]:
    """The main text of an HTML page (trafilatura, offline) and what it knows of title, date, author, url."""
    import trafilatura  # only for HTML input: seconds to import

    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, include_tables=False)
    if doc is None or not (doc.text or "").strip():
        return None, {}
    meta = {"title": doc.title, "published": doc.date, "author": doc.author, "url": doc.url, "outlet": doc.sitename}
    body = doc.text if not doc.title or doc.text.startswith(doc.title) else f"{doc.title}\n\n{doc.text}"
    return body, {k: v for k, v in meta.items() if v}


def _add_article(batch: _Batch, uri: str, body: str, meta: dict) -> None:
    try:
        fields = {name: _field(meta, name) for name in ("url", "title", "outlet", "author")}
    except _TooLarge as exc:
        return batch.reject(uri, str(exc))
    text = clean_text(body)
    if len(text) < setting("ingest", "min_chars"):
        return batch.reject(uri, f"empty: {len(text)} characters of text after cleaning")
    if len(text) > setting("ingest", "max_chars"):
        return batch.reject(uri, f"oversized: {len(text)} characters of text (limit {setting('ingest', 'max_chars')})")
    body_start, inline_date, inline_precision = split_inline_metadata(text)
    published, precision = parse_date(meta.get("published"))
    published_source = "metadata" if published is not None else None
    if published is None:
        published, precision = inline_date, inline_precision
        published_source = "text" if published is not None else None
    row = {
        "article_id": content_id(text),
        "source_uri": uri,
        **fields,
        "published": published,
        "published_precision": precision,
        "published_source": published_source,
        "text": text,
        "original_text": _SURROGATE.sub("\ufffd", body),
        "body_start": body_start,
        "char_count": len(text),
    }
    batch.rows.append({**row, "content_key": content_key(row)})


def _read_text(batch: _Batch, uri: str, data: bytes, html_suffix: bool) -> None:
    text, reason = decode(data)
    if reason:
        return batch.reject(uri, reason)
    try:
        meta, body = _front_matter(text)
    except _TooLarge as exc:
        return batch.reject(uri, str(exc))
    if html_suffix or looks_like_html(body):
        extracted, html_meta = _from_html(body)
        if extracted is None:
            return batch.reject(uri, "an HTML page with no article text")
        meta, body = {**html_meta, **meta}, extracted
    _add_article(batch, uri, body, meta)


def _jsonl_lines(data: bytes):
    """(line number, bytes or str) split on newline only: U+2028, U+0085 and friends stay inside a line."""
    for bom, codec in _BOMS:
        if data.startswith(bom) and codec != "utf-8-sig":
            try:
                yield from enumerate(data.decode(codec).split("\n"), start=1)
            except UnicodeDecodeError as exc:
                yield 1, exc
            return
    yield from enumerate(data.removeprefix(codecs.BOM_UTF8).split(b"\n"), start=1)


def _read_jsonl(batch: _Batch, uri: str, data: bytes) -> None:
    max_bytes = setting("ingest", "max_bytes")
    for number, line in _jsonl_lines(data):
        where = f"{uri}#L{number}"
        if isinstance(line, UnicodeDecodeError):
            return batch.reject(uri, f"invalid UTF-16/32 at byte {line.start}")
        if isinstance(line, bytes):
            if not line.strip():
                continue
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                batch.reject(where, f"invalid UTF-8 at byte {exc.start} of the line")
                continue
        if not line.strip():
            continue
        if len(line.encode("utf-8", "surrogatepass")) > max_bytes:
            batch.reject(where, f"oversized: line over {max_bytes} bytes")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            batch.reject(where, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            batch.reject(where, "invalid JSON: nested too deeply")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            batch.reject(where, "JSON line has no string field 'text'")
            continue
        _add_article(batch, where, record["text"], {k: record.get(k) for k in ARTICLE_FIELDS})


def _read_bytes(path: Path, limit: int | None) -> tuple[bytes | None, str | None]:
    """The file's bytes, opened without blocking (a FIFO swapped in cannot hang the run) and checked on the
    opened descriptor, so what is read is the regular file that was checked."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, f"not a regular file ({_file_kind(st.st_mode)})"
        if limit is not None and st.st_size > limit:
            return None, f"oversized: {st.st_size} bytes (limit {limit})"
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                return None, f"oversized: over {limit} bytes"
        return b"".join(chunks), None
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    finally:
        os.close(fd)


def read_files(paths, roots=None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(articles, quarantine): distinct articles with every URI they were read from, and inputs not taken.

    `paths` is a Listing (from resolve_source) or a list of paths; `roots` (flows/access.py), when given,
    keeps files that resolve outside the allowed folders out.
    """
    listing = paths if isinstance(paths, Listing) else Listing()
    if not isinstance(paths, Listing):
        for path in paths:
            _classify(listing, Path(path), roots)
    batch = _Batch(quarantine=list(listing.skipped))
    _, jsonl, html = _suffixes()
    for path in listing.files:
        uri = uri_of(path)
        is_jsonl = path.suffix.lower() in jsonl
        data, reason = _read_bytes(path, None if is_jsonl else setting("ingest", "max_bytes"))
        if reason:
            batch.reject(uri, reason)
            continue
        try:
            if is_jsonl:
                _read_jsonl(batch, uri, data)
            else:
                _read_text(batch, uri, data, path.suffix.lower() in html)
        except Exception as exc:  # last line of defence: one input never stops the run
            batch.reject(
                uri, f"could not be read: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            )
    return _distinct(batch.rows), pl.DataFrame(batch.quarantine, schema=QUARANTINE_SCHEMA)


def read_source(source: str | Path, roots=None) -> tuple[pl.DataFrame, pl.DataFrame]:
    return read_files(resolve_source(source, roots), roots)


def _distinct(rows: list[dict]) -> pl.DataFrame:
    schema = {k: v for k, v in ARTICLE_SCHEMA.items() if k != "all_uris"}
    frame = pl.DataFrame(rows, schema=schema).sort("source_uri")
    uris = frame.group_by("article_id").agg(pl.col("source_uri").alias("all_uris"))
    first = frame.unique("article_id", keep="first", maintain_order=True)
    return first.join(uris, on="article_id").select(list(ARTICLE_SCHEMA)).sort("article_id")
