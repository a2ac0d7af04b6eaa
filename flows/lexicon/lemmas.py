"""Lemmas and dictionary look-ups (simplemma), read from an on-disk index instead of decoded into memory.

simplemma ships each language's dictionary as an LZMA-compressed, front-coded stream and decodes the whole
of it into a Python dict on first use: 0.5-9 s and up to ~300 MB per language (Polish is the largest), paid
again by every process (each `newsflow run`, each test worker). Here each language is decoded once into a
SQLite file (word -> lemma, a primary-key B-tree) beside the installed package data, in
`<venv>/var/newsflow/lemmas/simplemma-<version>/<lang>.sqlite`, and looked up there: a process opens it in
milliseconds, its memory does not grow with the dictionary, and a look-up costs a few microseconds. The
file is derived data (deleting it is harmless: the next use rebuilds it). Where that folder cannot be
written, the dictionary is decoded into memory as simplemma does.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy, DictionaryLookupStrategy
from simplemma.strategies.dictionaries import DefaultDictionaryFactory, DictionaryFactory

INDEX_DIR = Path(os.environ.get("NEWSFLOW_LEMMA_INDEX") or Path(sys.prefix) / "var" / "newsflow" / "lemmas")


class IndexedDictionary(Mapping[str, str]):
    """One language's simplemma dictionary as a read-only SQLite table; a connection per thread."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"{self.path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def get(self, key: str, default=None):
        row = self._con().execute("SELECT lemma FROM lemmas WHERE word = ?", (key,)).fetchone()
        return row[0] if row is not None else default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (word for (word,) in self._con().execute("SELECT word FROM lemmas"))

    def __len__(self) -> int:
        return self._con().execute("SELECT count(*) FROM lemmas").fetchone()[0]


def _build(path: Path, decoded: Mapping[str, str]) -> None:
    """Write `decoded` to `path` atomically (a concurrent builder of the same language only wastes work)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".sqlite")
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            con.execute("CREATE TABLE lemmas (word TEXT PRIMARY KEY, lemma TEXT NOT NULL) WITHOUT ROWID")
            # sorted keys fill the B-tree in order; executemany streams the pairs (a one-time build)
            con.executemany("INSERT INTO lemmas VALUES (?, ?)", sorted(decoded.items()))
            con.commit()
        finally:
            con.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class IndexedDictionaryFactory(DictionaryFactory):
    """simplemma's DictionaryFactory over the per-language SQLite files (built on first use)."""

    def __init__(self, folder: Path = INDEX_DIR):
        self.folder = folder / f"simplemma-{version('simplemma')}"
        self._memory = DefaultDictionaryFactory(cache_max_size=0)  # decodes; kept only where the folder is read-only
        self._lock = threading.Lock()
        self._open: dict[str, Mapping[str, str]] = {}

    def get_dictionary(self, lang: str) -> Mapping[str, str]:
        found = self._open.get(lang)
        if found is not None:
            return found
        with self._lock:
            if lang not in self._open:
                self._open[lang] = self._load(lang)
        return self._open[lang]

    def _load(self, lang: str) -> Mapping[str, str]:
        path = self.folder / f"{lang}.sqlite"
        if not path.exists():
            decoded = self._memory.get_dictionary(lang)  # raises ValueError for a language simplemma lacks
            try:
                _build(path, decoded)
            except OSError:
                return decoded
        return IndexedDictionary(path)


_FACTORY = IndexedDictionaryFactory()
_LEMMATIZER = Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=_FACTORY))
_LOOKUP = DictionaryLookupStrategy(_FACTORY)


@lru_cache(maxsize=200_000)
def lemma(word: str, language: str) -> str:
    """The lemma of `word`, or `word` itself in a language simplemma does not cover."""
    try:
        return _LEMMATIZER.lemmatize(word, language)
    except (ValueError, KeyError):
        return word


@lru_cache(maxsize=200_000)
def is_known(word: str, language: str) -> bool:
    """Whether `word` is in the language's dictionary (an ordinary word, not a name)."""
    try:
        return _LOOKUP.get_lemma(word, language) is not None
    except (ValueError, KeyError):
        return False
