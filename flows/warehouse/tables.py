"""The one declaration of every curated table: columns, types, keys, constraints and what hangs off what.

The DDL of curated.* (with its constraints), of staging.* and cache.* (without: they must hold the bad
rows the audit is there to catch), the Polars schema producers build their frames with, the row key a
quarantine row names, and the publish order all follow from here. sql/schema.sql holds only the tables
that are not published (audit.*, ref.*, cache.state). Adding a curated table is: a `Table` here, the code
that produces its frame, and its suite in expectations/.

Pure data: importing this module costs nothing (no DuckDB).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

POLARS_TYPES = {
    "VARCHAR": pl.String,
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "DOUBLE": pl.Float64,
    "DATE": pl.Date,
    "BOOLEAN": pl.Boolean,
    "VARCHAR[]": pl.List(pl.String),
    "TIMESTAMP": pl.Datetime("us"),
    "JSON": pl.String,
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str = ""
    required: bool = False  # NOT NULL in curated.*


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    order: str  # physical order in curated.* (stable output)
    quarantine_key: str = ""  # the column a quarantine row names (default: the primary key)
    parents: tuple[tuple[str, str], ...] = ()  # (parent table, column): a row leaves with its parent
    per_article: bool = True  # rows belong to one article (kept or replaced with it)
    checks: tuple[str, ...] = ()  # CHECK constraints of curated.*
    unique: tuple[tuple[str, ...], ...] = ()  # UNIQUE constraints besides the primary key

    @property
    def key(self) -> str:
        return self.quarantine_key or self.primary_key[0]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> set[str]:
        return {c.name for c in self.columns if c.required} | set(self.primary_key)

    @property
    def polars(self) -> dict[str, pl.DataType]:
        return {c.name: POLARS_TYPES[c.type] for c in self.columns}

    def frame(self, rows: list[dict], columns: list[str] | None = None) -> pl.DataFrame:
        """A frame of (some of) this table's columns, in declaration order."""
        names = columns or self.column_names
        unknown = [n for n in names if n not in self.polars]
        if unknown:
            raise KeyError(f"{self.name} has no column(s) {unknown}")
        return pl.DataFrame(rows, schema={n: self.polars[n] for n in self.column_names if n in names})

    def ddl(self, qualified: str, constrained: bool) -> str:
        """CREATE TABLE for `qualified` (schema.name); constraints only where `constrained`."""
        lines = []
        for c in self.columns:
            not_null = " NOT NULL" if constrained and c.name in self.required else ""
            lines.append(f"    {c.name} {c.type}{not_null}")
        if constrained:
            lines.append(f"    PRIMARY KEY ({', '.join(self.primary_key)})")
            lines += [f"    UNIQUE ({', '.join(u)})" for u in self.unique]
            lines += [f"    CHECK ({check})" for check in self.checks]
        return f"CREATE TABLE {qualified} (\n" + ",\n".join(lines) + "\n)"

    def staged(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` as staging holds it: every column of the table in declaration order, NULL where the frame
        has none (what `Warehouse.read_staging` returns after the frame was inserted)."""
        self.check_frame(frame)
        return frame.select(
            [
                pl.col(n).cast(t) if n in frame.columns else pl.lit(None, dtype=t).alias(n)
                for n, t in self.polars.items()
            ]
        )

    def check_frame(self, frame: pl.DataFrame) -> None:
        """A frame loaded into this table must not carry columns the table lacks or miss ones it needs."""
        extra = [c for c in frame.columns if c not in self.polars]
        missing = sorted(self.required - set(frame.columns))
        if extra or missing:
            raise ValueError(
                f"frame for {self.name}: "
                + "; ".join(
                    ([f"columns the table does not have: {extra}"] if extra else [])
                    + ([f"required columns missing: {missing}"] if missing else [])
                )
            )


def _c(name: str, type_: str, doc: str = "", required: bool = False) -> Column:
    return Column(name, type_, doc, required)


ARTICLES = Table(
    "articles",
    "one row per article (distinct by clean text)",
    (
        _c("article_id", "VARCHAR", "sha256 of the whitespace-folded clean text (first 16 hex digits)"),
        _c(
            "source_uri",
            "VARCHAR",
            "first place this text was read from (absolute path, or path#Lline for JSONL)",
            True,
        ),
        _c("url", "VARCHAR", "from front matter / JSONL, when given"),
        _c("title", "VARCHAR", "front matter title, else the headline sentence, else the lead (clipped)"),
        _c("title_source", "VARCHAR", "where the title came from: 'metadata' | 'headline' | 'lead' | NULL"),
        _c("outlet", "VARCHAR", "publishing outlet, from front matter / JSONL"),
        _c("author", "VARCHAR"),
        _c("published", "DATE", "first day of the known period when precision is month or year"),
        _c("published_precision", "VARCHAR", "'day' | 'month' | 'year' | NULL when unknown"),
        _c("published_source", "VARCHAR", "'metadata' | 'text' (a date stamp opening the text) | NULL when unknown"),
        _c("language", "VARCHAR", "ISO 639-1 code (639-3 where a language has no 639-1 code); 'und' if unknown", True),
        _c("language_confidence", "DOUBLE", "fastText lid.176 probability of `language`, in [0, 1]"),
        _c("secondary_language", "VARCHAR", "most common other language among confident sentences, if any"),
        _c("language_flags", "VARCHAR[]", "'low_confidence', 'mixed_language', 'no_lexicon'"),
        _c("text", "VARCHAR", "cleaned text; every *_char offset in the warehouse points into it", True),
        _c("original_text", "VARCHAR", "the text exactly as read (after decoding), front matter removed"),
        _c("body_start", "INTEGER", "offset where the body starts (after inline metadata such as 'date 2023-10')"),
        _c("char_count", "INTEGER", "length of text", True),
        _c("story_id", "VARCHAR", "the story it belongs to (curated.stories)"),
        _c(
            "content_key", "VARCHAR", "hash of text, original text and metadata: a changed article gets a new key", True
        ),
    ),
    primary_key=("article_id",),
    order="article_id",
    checks=("char_count = length(text)", "language_confidence BETWEEN 0 AND 1"),
)

ARTICLE_SOURCES = Table(
    "article_sources",
    "every place an article's text was read from",
    (_c("article_id", "VARCHAR"), _c("source_uri", "VARCHAR", "absolute path, or path#Lline for JSONL")),
    primary_key=("article_id", "source_uri"),
    order="article_id, source_uri",
    quarantine_key="article_id",
    parents=(("articles", "article_id"),),
)

SENTENCES = Table(
    "sentences",
    "one row per sentence, with offsets into articles.text",
    (
        _c("sentence_id", "VARCHAR", "article_id || '-s' || position"),
        _c("article_id", "VARCHAR", required=True),
        _c("paragraph", "INTEGER", "0-based block index (a block is text between newlines)"),
        _c("position", "INTEGER", "0-based order in the article", True),
        _c("kind", "VARCHAR", "headline | subheading | body | caption | source_line | teaser | other", True),
        _c("text", "VARCHAR", "= substring(articles.text, start_char + 1, end_char - start_char)", True),
        _c("start_char", "INTEGER", required=True),
        _c("end_char", "INTEGER", required=True),
        _c("language", "VARCHAR"),
        _c("language_confidence", "DOUBLE"),
    ),
    primary_key=("sentence_id",),
    order="article_id, position",
    parents=(("articles", "article_id"),),
    checks=("start_char <= end_char",),
)

CITATIONS = Table(
    "citations",
    "one row per outlet or agency an article cites",
    (
        _c("citation_id", "VARCHAR", "article_id || '-' || a short hash of name"),
        _c("article_id", "VARCHAR", required=True),
        _c("name", "VARCHAR", "canonical outlet / agency name", True),
        _c("kind", "VARCHAR", "'outlet' | 'agency' | 'unknown' (named in a source line, not in the gazetteer)"),
        _c("how", "VARCHAR", "strongest evidence: source_line | according_to | reported | mention"),
        _c("surface", "VARCHAR", "the text as written in the article (first occurrence)"),
        _c("sentence_id", "VARCHAR", "first sentence that cites it"),
        _c("evidence_count", "INTEGER", "how many times the article cites it"),
        _c("entity_id", "VARCHAR", "the outlet as an entity (curated.entities)"),
    ),
    primary_key=("citation_id",),
    order="article_id, name",
    parents=(("articles", "article_id"),),
    unique=(("article_id", "name"),),
)

CLAIMS = Table(
    "claims",
    "one row per claim: what an article asserts, and who it is attributed to",
    (
        _c("claim_id", "VARCHAR", "sentence_id || '-c' || n"),
        _c("article_id", "VARCHAR", required=True),
        _c("sentence_id", "VARCHAR", required=True),
        _c("text", "VARCHAR", required=True),
        _c("language", "VARCHAR", "the sentence's language"),
        _c("source_name", "VARCHAR", "who the claim is attributed to (speaker, outlet or agency)", True),
        _c("source_kind", "VARCHAR", "'outlet' | 'agency' | 'speaker' | 'description' (who, unnamed: 'officials')"),
        _c(
            "attribution",
            "VARCHAR",
            "quote | reported | according_to (the claim names its source) | inherited "
            "(goes on with the previous speaker, or takes the next sentence's: 'Про це повідомило …') | own_voice "
            "(the outlet's own) | source_line "
            "(outlet unknown: the origin its source line names)",
            True,
        ),
        _c("cue", "VARCHAR", "the lexicon cue that established the attribution ('' when none)"),
        _c(
            "source_surface", "VARCHAR", "the words naming the source as written ('the e-commerce giant'), when written"
        ),
        _c("source_start", "INTEGER", "offsets of source_surface in articles.text"),
        _c("source_end", "INTEGER"),
        _c("cue_start", "INTEGER", "offsets of the cue in articles.text"),
        _c("cue_end", "INTEGER"),
        _c("start_char", "INTEGER", "the claim's span: the sentence, or the clause of it that carries the claim"),
        _c("end_char", "INTEGER"),
        _c("source_entity_id", "VARCHAR", "the entity the source names (curated.entities)"),
        _c("entity_ids", "VARCHAR[]", "entities mentioned in the claim"),
        _c("quantity_ids", "VARCHAR[]", "quantities stated in the claim"),
        _c("date_ids", "VARCHAR[]", "dates stated in the claim"),
    ),
    primary_key=("claim_id",),
    order="claim_id",
    parents=(("sentences", "sentence_id"),),
    checks=(
        "attribution IN ('quote', 'reported', 'according_to', 'inherited', 'own_voice', 'source_line')",
        "length(trim(source_name)) > 0",
    ),
)

ENTITIES = Table(
    "entities",
    "one row per real-world thing named in the corpus",
    (
        _c("entity_id", "VARCHAR", "'E' || a hash of the entity's stable key (ISO code, GeoNames id, or name)"),
        _c("name", "VARCHAR", "canonical name: the known (English) name, else the commonest surface", True),
        _c("type", "VARCHAR", "PER | ORG | LOC | MISC", True),
        _c("subtype", "VARCHAR", "country | region | city | outlet | agency | alias | '' (learned from the corpus)"),
        _c("external_id", "VARCHAR", "ISO 3166 / CLDR region code, GeoNames id, or ''"),
        _c("mentions", "INTEGER"),
        _c("articles", "INTEGER"),
        _c("languages", "VARCHAR[]", "languages of the articles that mention it"),
    ),
    primary_key=("entity_id",),
    order="entity_id",
    per_article=False,
    checks=("type IN ('PER', 'ORG', 'LOC', 'MISC')",),
)

ENTITY_ALIASES = Table(
    "entity_aliases",
    "one row per surface form of an entity per language",
    (
        _c("entity_id", "VARCHAR"),
        _c("alias", "VARCHAR", "a surface form seen in the corpus"),
        _c("language", "VARCHAR", "the language of the article it was seen in"),
        _c("mentions", "INTEGER"),
    ),
    primary_key=("entity_id", "alias", "language"),
    order="entity_id, alias, language",
    quarantine_key="entity_id",
    parents=(("entities", "entity_id"),),
    per_article=False,
)

MENTIONS = Table(
    "mentions",
    "one row per mention of an entity in a sentence",
    (
        _c("mention_id", "VARCHAR", "sentence_id || '-m' || n"),
        _c("article_id", "VARCHAR", required=True),
        _c("sentence_id", "VARCHAR", required=True),
        _c("entity_key", "VARCHAR", "candidate key before resolution (LOC:BE, ORG:outlet:..., NAME:...)"),
        _c("entity_id", "VARCHAR"),
        _c("surface", "VARCHAR", "= substring(articles.text, start_char + 1, end_char - start_char)", True),
        _c("start_char", "INTEGER", required=True),
        _c("end_char", "INTEGER", required=True),
        _c(
            "how",
            "VARCHAR",
            "gazetteer | lemma | demonym | fuzzy | name | common_words (capitalised common nouns, kept when "
            "repeated) | acronym | source",
        ),
        _c("type_hint", "VARCHAR"),
        _c("language", "VARCHAR"),
    ),
    primary_key=("mention_id",),
    order="article_id, start_char, mention_id",
    parents=(("sentences", "sentence_id"), ("entities", "entity_id")),
)

ENTITY_EDGES = Table(
    "entity_edges",
    "evidence, per article, that two candidate keys are one entity",
    (
        _c("article_id", "VARCHAR"),
        _c("key_a", "VARCHAR"),
        _c("key_b", "VARCHAR"),
        _c("reason", "VARCHAR", "acronym | surname | lemma"),
    ),
    primary_key=("article_id", "key_a", "key_b", "reason"),
    order="article_id, key_a, key_b",
    quarantine_key="article_id",
    parents=(("articles", "article_id"),),
)

QUANTITIES = Table(
    "quantities",
    "one row per quantity stated in a sentence",
    (
        _c("quantity_id", "VARCHAR", "sentence_id || '-q' || n"),
        _c("article_id", "VARCHAR", required=True),
        _c("sentence_id", "VARCHAR", required=True),
        _c("surface", "VARCHAR", "'100milioni di euro', '3,7 tỷ euro', '30,000 square meter'", True),
        _c("value", "DOUBLE", "normalised: scale words applied (100000000, 3700000000, 30000)", True),
        _c(
            "unit",
            "VARCHAR",
            "ISO 4217 code | % | m2 | km2 | ha | t | kg | km | m | count | ordinal | fraction | "
            "year | month | week | day | hour",
            True,
        ),
        _c(
            "dimension",
            "VARCHAR",
            "currency | percent | area | mass | length | measure | count | ordinal | fraction | duration",
        ),
        _c("counted", "VARCHAR", "for counts: the thing counted"),
        _c("start_char", "INTEGER"),
        _c("end_char", "INTEGER"),
    ),
    primary_key=("quantity_id",),
    order="article_id, start_char, quantity_id",
    parents=(("sentences", "sentence_id"),),
    checks=("isfinite(value)",),
)

DATES = Table(
    "dates",
    "one row per date expression in a sentence",
    (
        _c("date_id", "VARCHAR", "sentence_id || '-d' || n"),
        _c("article_id", "VARCHAR", required=True),
        _c("sentence_id", "VARCHAR", required=True),
        _c("surface", "VARCHAR", "'tháng 7/2023', 'last July', 'pięć lat temu'", True),
        _c("value", "DATE", "first day of the period; NULL for a relative date with no anchor"),
        _c("precision", "VARCHAR", "year | month | day", True),
        _c("relative", "BOOLEAN", "resolved against the publication date"),
        _c("anchor", "VARCHAR", "absolute | published | told (from a day the article stated earlier) | unanchored"),
        _c("start_char", "INTEGER"),
        _c("end_char", "INTEGER"),
    ),
    primary_key=("date_id",),
    order="article_id, start_char, date_id",
    parents=(("sentences", "sentence_id"),),
    checks=("precision IN ('year', 'month', 'day')",),
)

STORIES = Table(
    "stories",
    "one row per story: the same event across articles and languages",
    (
        _c("story_id", "VARCHAR", "'S' || a hash of its earliest article id"),
        _c("label", "VARCHAR", "the title of its earliest article"),
        _c("articles", "INTEGER"),
        _c("languages", "VARCHAR[]"),
        _c("first_published", "DATE"),
        _c("top_entities", "VARCHAR[]", "the entities most of its articles mention"),
    ),
    primary_key=("story_id",),
    order="story_id",
    per_article=False,
)

CLAIM_CLUSTERS = Table(
    "claim_clusters",
    "one row per claim in a cluster of claims stating the same fact",
    (
        _c("cluster_id", "VARCHAR", "'C' || a hash of its first claim id", True),
        _c("claim_id", "VARCHAR"),
        _c("article_id", "VARCHAR"),
        _c("story_id", "VARCHAR"),
        _c("language", "VARCHAR"),
        _c("anchors", "VARCHAR[]", "shared anchors: Q:<unit>:<value>, D:<precision>:<date>, E:<entity_id>"),
    ),
    primary_key=("claim_id",),
    order="cluster_id, claim_id",
    parents=(("claims", "claim_id"),),
    per_article=False,
)

CONTRADICTIONS = Table(
    "contradictions",
    "one row per disagreement between two claims",
    (
        _c("contradiction_id", "VARCHAR"),
        _c("claim_id_a", "VARCHAR", required=True),
        _c("claim_id_b", "VARCHAR", required=True),
        _c("kind", "VARCHAR", "affiliation | quantity | date | ranking", True),
        _c("detail", "VARCHAR", "what differs, in the articles' own words", True),
        _c("entity_id", "VARCHAR", "the entity the claims disagree about, when there is one"),
        _c("story_id", "VARCHAR"),
    ),
    primary_key=("contradiction_id",),
    order="contradiction_id",
    per_article=False,
)

OUTLETS = Table(
    "outlets",
    "one row per outlet or agency the corpus knows: as a publisher (articles.outlet) or as a source",
    (
        _c("outlet", "VARCHAR", "canonical name (known aliases resolved: 'FT' -> Financial Times)"),
        _c("kind", "VARCHAR", "outlet | agency | unknown", True),
        _c("published_articles", "INTEGER", "articles it published (articles.outlet)", True),
        _c("citing_articles", "INTEGER", "articles that cite it (curated.citations)", True),
        _c("languages", "VARCHAR[]", "languages of the articles it published or was cited in"),
        _c("entity_id", "VARCHAR", "the outlet as an entity (curated.entities), when it is one"),
    ),
    primary_key=("outlet",),
    order="outlet",
    per_article=False,
    checks=("published_articles + citing_articles > 0",),
)

# In dependency order: parents before children.
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        ARTICLES,
        ARTICLE_SOURCES,
        SENTENCES,
        CITATIONS,
        ENTITIES,
        ENTITY_ALIASES,
        MENTIONS,
        ENTITY_EDGES,
        QUANTITIES,
        DATES,
        CLAIMS,
        STORIES,
        CLAIM_CLUSTERS,
        CONTRADICTIONS,
        OUTLETS,
    )
}
STAGED_TABLES = tuple(TABLES)
# Extraction output kept in cache.* so unchanged articles are not extracted again.
CACHED_TABLES = tuple(name for name, table in TABLES.items() if table.per_article)
