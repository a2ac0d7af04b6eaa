"""Corpus-wide steps over staging.*: resolve entities and link claims and citations to them.

They run after staging and before the audit, so what they derive is audited with everything else.
"""
from __future__ import annotations

import polars as pl

from flows import entities
from flows.gazetteer import fold
from flows.warehouse import Warehouse


def resolve_entities(warehouse: Warehouse) -> dict[str, int]:
    mentions = warehouse.query("SELECT * FROM staging.mentions")
    edges = warehouse.query("SELECT * FROM staging.entity_edges")
    languages = dict(warehouse.query("SELECT article_id, language FROM staging.articles").iter_rows())
    ents, aliases, mentions, key_to_id = entities.resolve(mentions, edges, languages)

    alias_index: dict[str, str] = {}
    for eid, alias in aliases.select("entity_id", "alias").iter_rows():
        alias_index.setdefault(fold(alias), eid)
    for eid, name in ents.select("entity_id", "name").iter_rows():
        alias_index.setdefault(fold(name), eid)

    claims = warehouse.query("SELECT * FROM staging.claims")
    claims = claims.with_columns(
        pl.Series("source_entity_id", [
            entities.source_entity(name, lang, alias_index, key_to_id)
            for name, lang in claims.select("source_name", "language").iter_rows()
        ], pl.String)
    )
    # the entities each claim mentions: mentions inside the claim's span
    inside = (
        claims.select("claim_id", "sentence_id", "start_char", "end_char")
        .join(mentions.select("sentence_id", pl.col("start_char").alias("m_start"), "entity_id"), on="sentence_id")
        .filter(pl.col("m_start") >= pl.col("start_char"), pl.col("m_start") < pl.col("end_char"))
        .group_by("claim_id").agg(pl.col("entity_id").unique().sort().alias("entity_ids"))
    )
    claims = claims.drop("entity_ids").join(inside, on="claim_id", how="left")
    for table, id_col, out_col in (("quantities", "quantity_id", "quantity_ids"), ("dates", "date_id", "date_ids")):
        found = warehouse.query(f"SELECT sentence_id, start_char AS f_start, {id_col} FROM staging.{table}")
        linked = (
            claims.select("claim_id", "sentence_id", "start_char", "end_char").join(found, on="sentence_id")
            .filter(pl.col("f_start") >= pl.col("start_char"), pl.col("f_start") < pl.col("end_char"))
            .group_by("claim_id").agg(pl.col(id_col).sort().alias(out_col))
        )
        claims = claims.drop(out_col).join(linked, on="claim_id", how="left")

    citations = warehouse.query("SELECT * FROM staging.citations")
    citations = citations.with_columns(
        pl.Series("entity_id", [alias_index.get(fold(n)) for n in citations["name"]], pl.String)
    )
    warehouse.write_staging({
        "entities": ents, "entity_aliases": aliases, "mentions": mentions,
        "claims": claims, "citations": citations,
    })
    return {"entities": ents.height, "mentions": mentions.height}
