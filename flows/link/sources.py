"""Who a descriptive or pronominal source is: "the Chinese e-commerce giant denies…" -> Alibaba.

A claim whose source phrase is a description ("the company", "l'azienda", "il docente", "the minister")
or a pronoun ("he", "lei", "он") names no one by itself. It resolves to the most recent entity of a
compatible type mentioned before the claim in the same article: the type comes from the descriptor
lexicon (`descriptor_per` / `descriptor_org` / `descriptor_loc` in seeds/languages/<code>/cues.csv); a
pronoun resolves to the previous speaker, or failing one to the most recent person. The claim keeps
the words as written in `source_surface` and gets the resolved name and entity.
"""

from __future__ import annotations

from bisect import bisect_left

import polars as pl

from flows.lexicon.names import descriptor_type


def resolve(claims: pl.DataFrame, mentions: pl.DataFrame, entities: pl.DataFrame) -> pl.DataFrame:
    """Claims with descriptive and pronominal sources resolved to an earlier entity of their article."""
    if claims.is_empty():
        return claims
    types = dict(entities.select("entity_id", "type").iter_rows())
    subtypes = dict(entities.select("entity_id", "subtype").iter_rows())
    names = dict(entities.select("entity_id", "name").iter_rows())
    by_article: dict[str, tuple[list[int], list[str]]] = {}
    for (aid,), part in (
        mentions.filter(pl.col("entity_id").is_not_null())
        .sort("start_char")
        .partition_by("article_id", as_dict=True)
        .items()
    ):
        by_article[aid] = (part["start_char"].to_list(), part["entity_id"].to_list())
    last_speaker: dict[str, str] = {}
    out_name, _out_entity = [], []
    for row in claims.sort("article_id", "start_char").iter_rows(named=True):
        name, entity = row["source_name"], row["source_entity_id"]
        kind = (
            descriptor_type(row["source_surface"] or "", row["language"] or "")
            if row["source_kind"] == "speaker" and row["attribution"] in ("reported", "quote", "according_to")
            else None
        )
        if kind:
            found = _antecedent(
                by_article.get(row["article_id"]),
                row["source_start"] or row["start_char"],
                kind,
                types,
                subtypes,
                last_speaker.get(row["article_id"]),
            )
            if found is not None:
                name, entity = names[found], found
        if entity is not None and types.get(entity) in ("PER", "ORG"):
            last_speaker[row["article_id"]] = entity
        out_name.append((row["claim_id"], name, entity))
    resolved = pl.DataFrame(
        out_name, schema={"claim_id": pl.String, "source_name": pl.String, "source_entity_id": pl.String}, orient="row"
    )
    return (
        claims.drop("source_name", "source_entity_id").join(resolved, on="claim_id", how="left").select(claims.columns)
    )


def _antecedent(found, position: int, kind: str, types: dict, subtypes: dict, speaker: str | None) -> str | None:
    if kind == "PRON" and speaker is not None and types.get(speaker) == "PER":
        return speaker
    if found is None:
        return None
    starts, ids = found
    want = "PER" if kind == "PRON" else kind
    for i in range(bisect_left(starts, position) - 1, -1, -1):
        eid = ids[i]
        if types.get(eid) == want and subtypes.get(eid) not in ("outlet", "agency", "region"):
            return eid
    return None
