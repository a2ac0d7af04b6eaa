-- Views users query. Re-created on every run (CREATE OR REPLACE), so editing this file is enough.

-- One row per published article with what was drawn from it.
CREATE OR REPLACE VIEW curated.article_overview AS
SELECT a.article_id, a.title, a.language, a.language_confidence, a.language_flags, a.published,
       a.source_uri,
       (SELECT count(*) FROM curated.sentences s WHERE s.article_id = a.article_id) AS sentences,
       (SELECT count(*) FROM curated.claims c WHERE c.article_id = a.article_id) AS claims,
       (SELECT list(name ORDER BY name) FROM curated.citations c WHERE c.article_id = a.article_id) AS cites
FROM curated.articles a;

-- Who the published claims rest on, across languages.
CREATE OR REPLACE VIEW curated.claims_by_source AS
SELECT source_name, source_kind, count(*) AS claims, count(DISTINCT article_id) AS articles,
       list(DISTINCT language ORDER BY language) AS languages
FROM curated.claims
GROUP BY source_name, source_kind;

-- Outlets cited, by how many articles and in how many languages.
CREATE OR REPLACE VIEW curated.outlets_cited AS
SELECT c.name, c.kind, count(DISTINCT c.article_id) AS articles,
       list(DISTINCT a.language ORDER BY a.language) AS languages
FROM curated.citations c JOIN curated.articles a USING (article_id)
GROUP BY c.name, c.kind;

CREATE OR REPLACE VIEW audit.latest_run AS
SELECT * FROM audit.runs ORDER BY finished_at DESC LIMIT 1;

CREATE OR REPLACE VIEW audit.latest_results AS
SELECT r.* FROM audit.results r JOIN audit.latest_run l USING (run_id);

CREATE OR REPLACE VIEW audit.latest_quarantine AS
SELECT q.* FROM audit.quarantine q JOIN audit.latest_run l USING (run_id);
