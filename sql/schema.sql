-- newsflow warehouse schema.
--
-- Layers (jaffle_shop style):
--   staging.*  written by each run, then audited by Great Expectations (created as empty copies of curated.*)
--   curated.*  what users query; changed only by publish, in one transaction, after the audit passed
--   audit.*    run log, expectation results and quarantined rows, appended by every run
--   ref.*      reference data loaded from seeds/ (valid language codes, known outlets)
--   cache.*    per-article extraction of the last published run, before quarantine, and which inputs the
--              warehouse covers: the next run extracts only new or changed articles (see flows/incremental.py)
--
-- Every statement is idempotent: the schema is applied on every connection that writes.
-- Curated rows carry no run ids or timestamps, so the same input always gives identical curated tables.

CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS curated;
CREATE SCHEMA IF NOT EXISTS audit;
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS cache;

-- What the cached extraction was made with ('extract_key') and what the last published run saw ('run_key').
CREATE TABLE IF NOT EXISTS cache.state (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- Input articles the last published run left out because of its `languages`: not extracted again
-- while the filter still leaves them out.
CREATE TABLE IF NOT EXISTS cache.skipped (
    article_id VARCHAR,
    language   VARCHAR
);

CREATE TABLE IF NOT EXISTS curated.articles (
    article_id          VARCHAR,   -- sha256 of the whitespace-folded clean text (first 16 hex digits)
    source_uri          VARCHAR,   -- first place this text was read from (file path, or path#line for JSONL)
    url                 VARCHAR,   -- from front matter / JSONL, when given
    title               VARCHAR,   -- front matter title, else the headline sentence
    outlet              VARCHAR,   -- publishing outlet, from front matter / JSONL
    author              VARCHAR,
    published           DATE,      -- first day of the known period when precision is month or year
    published_precision VARCHAR,   -- 'day' | 'month' | 'year' | NULL when unknown
    language            VARCHAR,   -- ISO 639-1 code (639-3 where a language has no 639-1 code); 'und' if unknown
    language_confidence DOUBLE,    -- fastText lid.176 probability of `language`, in [0, 1]
    secondary_language  VARCHAR,   -- most common other language among confident sentences, if any
    language_flags      VARCHAR[], -- 'low_confidence', 'mixed_language', 'no_lexicon'
    text                VARCHAR,   -- cleaned text; every *_char offset in the warehouse points into it
    original_text       VARCHAR,   -- the text exactly as read (after decoding), front matter removed
    body_start          INTEGER,   -- offset where the body starts (after inline metadata such as "date 2023-10")
    char_count          INTEGER,
    story_id            VARCHAR,   -- the story it belongs to (curated.stories)
    content_key         VARCHAR    -- hash of text, original text and metadata: a changed article gets a new key
);

CREATE TABLE IF NOT EXISTS curated.article_sources (
    article_id VARCHAR,
    source_uri VARCHAR             -- every place the same text was read from
);

CREATE TABLE IF NOT EXISTS curated.sentences (
    sentence_id         VARCHAR,   -- article_id || '-s' || position
    article_id          VARCHAR,
    paragraph           INTEGER,   -- 0-based block index (a block is text between newlines)
    position            INTEGER,   -- 0-based order in the article
    kind                VARCHAR,   -- headline | subheading | body | caption | source_line | teaser | other
    text                VARCHAR,
    start_char          INTEGER,   -- text = substring(articles.text, start_char + 1, end_char - start_char)
    end_char            INTEGER,
    language            VARCHAR,
    language_confidence DOUBLE
);

CREATE TABLE IF NOT EXISTS curated.citations (
    citation_id VARCHAR,           -- article_id || '-' || a short hash of name
    article_id VARCHAR,
    name       VARCHAR,            -- canonical outlet / agency name
    kind       VARCHAR,            -- 'outlet' | 'agency' | 'unknown' (named in a source line, not in the gazetteer)
    how        VARCHAR,            -- strongest evidence: source_line | according_to | reported | mention
    surface    VARCHAR,            -- the text as written in the article (first occurrence)
    sentence_id VARCHAR,           -- first sentence that cites it
    evidence_count INTEGER,        -- how many times the article cites it
    entity_id  VARCHAR             -- the outlet as an entity (curated.entities)
);

CREATE TABLE IF NOT EXISTS curated.claims (
    claim_id       VARCHAR,        -- sentence_id || '-c' || n
    article_id     VARCHAR,
    sentence_id    VARCHAR,
    text           VARCHAR,
    language       VARCHAR,        -- the sentence's language
    source_name    VARCHAR,        -- who the claim is attributed to (speaker, outlet or agency)
    source_kind    VARCHAR,        -- 'outlet' | 'agency' | 'speaker'
    attribution    VARCHAR,        -- quote | reported | according_to | source_line | inherited
    cue            VARCHAR,        -- the lexicon cue that established the attribution ('' when inherited)
    start_char     INTEGER,
    end_char       INTEGER,
    source_entity_id VARCHAR,      -- the entity the source names (curated.entities)
    entity_ids     VARCHAR[],      -- entities mentioned in the claim
    quantity_ids   VARCHAR[],      -- quantities stated in the claim
    date_ids       VARCHAR[]       -- dates stated in the claim
);

CREATE TABLE IF NOT EXISTS curated.entities (
    entity_id   VARCHAR,           -- 'E' || a hash of the entity's stable key (ISO code, GeoNames id, or name)
    name        VARCHAR,           -- canonical name: the known (English) name, else the commonest surface
    type        VARCHAR,           -- PER | ORG | LOC | MISC
    subtype     VARCHAR,           -- country | region | city | outlet | agency | alias | '' (learned from the corpus)
    external_id VARCHAR,           -- ISO 3166 / CLDR region code, GeoNames id, or ''
    mentions    INTEGER,
    articles    INTEGER,
    languages   VARCHAR[]          -- languages of the articles that mention it
);

CREATE TABLE IF NOT EXISTS curated.entity_aliases (
    entity_id VARCHAR,
    alias     VARCHAR,             -- a surface form seen in the corpus
    language  VARCHAR,             -- the language of the article it was seen in
    mentions  INTEGER
);

CREATE TABLE IF NOT EXISTS curated.mentions (
    mention_id  VARCHAR,           -- sentence_id || '-m' || n
    article_id  VARCHAR,
    sentence_id VARCHAR,
    entity_key  VARCHAR,           -- candidate key before resolution (LOC:BE, ORG:outlet:..., NAME:...)
    entity_id   VARCHAR,
    surface     VARCHAR,           -- = substring(articles.text, start_char + 1, end_char - start_char)
    start_char  INTEGER,
    end_char    INTEGER,
    how         VARCHAR,           -- gazetteer | lemma | demonym | fuzzy | name | acronym | source
    type_hint   VARCHAR,
    language    VARCHAR
);

CREATE TABLE IF NOT EXISTS curated.quantities (
    quantity_id VARCHAR,           -- sentence_id || '-q' || n
    article_id  VARCHAR,
    sentence_id VARCHAR,
    surface     VARCHAR,           -- "100milioni di euro", "3,7 tỷ euro", "30,000 square meter"
    value       DOUBLE,            -- normalised: scale words applied (100000000, 3700000000, 30000)
    unit        VARCHAR,           -- ISO 4217 code | % | m2 | km2 | t | kg | km | count | ordinal | fraction
    dimension   VARCHAR,           -- currency | percent | area | mass | length | count | ordinal | fraction
    counted     VARCHAR,           -- for counts: the thing counted
    start_char  INTEGER,
    end_char    INTEGER
);

CREATE TABLE IF NOT EXISTS curated.dates (
    date_id     VARCHAR,           -- sentence_id || '-d' || n
    article_id  VARCHAR,
    sentence_id VARCHAR,
    surface     VARCHAR,           -- "tháng 7/2023", "last July", "pięć lat temu"
    value       DATE,              -- first day of the period; NULL for a relative date with no anchor
    precision   VARCHAR,           -- year | month | day
    relative    BOOLEAN,           -- resolved against the publication date
    anchor      VARCHAR,           -- absolute | published | unanchored
    start_char  INTEGER,
    end_char    INTEGER
);

CREATE TABLE IF NOT EXISTS curated.entity_edges (
    article_id VARCHAR,            -- evidence, per article, that two candidate keys are one entity
    key_a      VARCHAR,
    key_b      VARCHAR,
    reason     VARCHAR             -- acronym | surname | lemma
);

CREATE TABLE IF NOT EXISTS audit.runs (
    run_id               VARCHAR,
    started_at           TIMESTAMP,
    finished_at          TIMESTAMP,
    source               VARCHAR,
    status               VARCHAR,   -- 'published' | 'unchanged' | 'blocked' | 'failed' (a run that found another
                                    -- run writing the warehouse never starts, so it is not logged here)
    reason               VARCHAR,
    articles_in          INTEGER,   -- readable, distinct articles in the source
    articles_extracted   INTEGER,   -- of which new or changed (the rest reused the cache)
    articles_skipped     INTEGER,   -- in a language the run did not select
    articles_published   INTEGER,
    articles_quarantined INTEGER,   -- unreadable inputs + articles removed by the audit
    sentences            INTEGER,
    claims               INTEGER,
    citations            INTEGER,
    expectations_evaluated INTEGER,
    expectations_failed  INTEGER,
    critical_failed      INTEGER,
    timings              JSON       -- seconds per stage
);

CREATE TABLE IF NOT EXISTS audit.results (
    run_id           VARCHAR,
    suite            VARCHAR,
    table_name       VARCHAR,
    expectation      VARCHAR,       -- GX expectation type
    description      VARCHAR,       -- the suite's own words for it
    severity         VARCHAR,       -- 'critical' blocks publishing; 'quarantine' removes the failing rows
    success          BOOLEAN,
    unexpected_count INTEGER,
    detail           JSON
);

CREATE TABLE IF NOT EXISTS audit.quarantine (
    run_id       VARCHAR,
    stage        VARCHAR,           -- 'ingest' (unreadable input) | 'audit' (failed a row-level expectation)
    table_name   VARCHAR,
    record_id    VARCHAR,
    article_id   VARCHAR,
    source_uri   VARCHAR,
    reason       VARCHAR,
    expectation  VARCHAR,
    payload      JSON
);

CREATE TABLE IF NOT EXISTS ref.languages (
    code VARCHAR,                   -- a code fastText lid.176 can emit, normalised like articles.language
    name VARCHAR
);

CREATE TABLE IF NOT EXISTS curated.stories (
    story_id        VARCHAR,       -- 'S' || a hash of its earliest article id
    label           VARCHAR,       -- the title of its earliest article
    articles        INTEGER,
    languages       VARCHAR[],
    first_published DATE,
    top_entities    VARCHAR[]      -- the entities most of its articles mention
);

CREATE TABLE IF NOT EXISTS curated.claim_clusters (
    cluster_id VARCHAR,            -- 'C' || a hash of its first claim id: one row per claim in the cluster
    claim_id   VARCHAR,
    article_id VARCHAR,
    story_id   VARCHAR,
    language   VARCHAR,
    anchors    VARCHAR[]           -- shared anchors: Q:<unit>:<value>, D:<precision>:<date>, E:<entity_id>
);

CREATE TABLE IF NOT EXISTS curated.contradictions (
    contradiction_id VARCHAR,
    claim_id_a       VARCHAR,
    claim_id_b       VARCHAR,
    kind             VARCHAR,      -- affiliation | quantity | date | ranking
    detail           VARCHAR,      -- what differs, in the articles' own words
    entity_id        VARCHAR,      -- the entity the claims disagree about, when there is one
    story_id         VARCHAR
);

-- Columns added after the first release: warehouses built earlier gain them here.
ALTER TABLE curated.articles ADD COLUMN IF NOT EXISTS story_id VARCHAR;
ALTER TABLE curated.articles ADD COLUMN IF NOT EXISTS content_key VARCHAR;
ALTER TABLE curated.citations ADD COLUMN IF NOT EXISTS entity_id VARCHAR;
ALTER TABLE curated.claims ADD COLUMN IF NOT EXISTS source_entity_id VARCHAR;
ALTER TABLE curated.claims ADD COLUMN IF NOT EXISTS entity_ids VARCHAR[];
ALTER TABLE curated.claims ADD COLUMN IF NOT EXISTS quantity_ids VARCHAR[];
ALTER TABLE curated.claims ADD COLUMN IF NOT EXISTS date_ids VARCHAR[];
ALTER TABLE audit.runs ADD COLUMN IF NOT EXISTS articles_extracted INTEGER;
ALTER TABLE audit.runs ADD COLUMN IF NOT EXISTS articles_skipped INTEGER;
