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
--
-- curated.*, staging.* and the per-article cache.* tables are declared once, in flows/warehouse/tables.py
-- (columns, documentation, keys and constraints); `newsflow sql "DESCRIBE curated.claims"` shows them and
-- README.md lists them. This file holds the tables that are never published.

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
-- Which contract (flows/warehouse/tables.py) each curated.* / cache.* table was built from: a table
-- built by an older release is rebuilt to the current contract on the next run.
CREATE TABLE IF NOT EXISTS cache.contracts (
    table_name VARCHAR PRIMARY KEY,
    signature  VARCHAR
);

-- Multilingual embeddings by text (flows/link/embeddings.py: model, role and text hashed into the key):
-- a run embeds only text no earlier run embedded. Derived data: safe to delete, it is rebuilt.
CREATE TABLE IF NOT EXISTS cache.embeddings (
    key    VARCHAR PRIMARY KEY,
    vector FLOAT[384]
);

CREATE TABLE IF NOT EXISTS cache.skipped (
    article_id VARCHAR,
    language   VARCHAR
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




-- Columns added after the first release: warehouses built earlier gain them here.
ALTER TABLE audit.runs ADD COLUMN IF NOT EXISTS articles_extracted INTEGER;
ALTER TABLE audit.runs ADD COLUMN IF NOT EXISTS articles_skipped INTEGER;
