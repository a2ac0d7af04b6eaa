-- Views users query. Re-created on every run (CREATE OR REPLACE), so editing this file is enough.

-- One row per published article with what was drawn from it. The publisher and the date are only known
-- from front matter (or a date stamp opening the text): a source line ("Source: Today IT", "Källor:
-- Financial Times och Security Affairs") names where the story came from, not who published it, so those
-- outlets are shown apart as `credits` and an unknown publisher or date says 'unknown', never a guess.
CREATE OR REPLACE VIEW curated.article_overview AS
SELECT a.article_id, a.title, a.title_source, a.language, a.language_confidence, a.language_flags,
       coalesce(a.outlet, 'unknown') AS outlet,
       (SELECT list(DISTINCT c.name ORDER BY c.name) FROM curated.citations c
          JOIN curated.mentions m ON m.article_id = c.article_id AND m.entity_id = c.entity_id
          JOIN curated.sentences s ON s.sentence_id = m.sentence_id
         WHERE c.article_id = a.article_id AND s.kind = 'source_line') AS credits,
       CASE a.published_precision
            WHEN 'day' THEN strftime(a.published, '%Y-%m-%d')
            WHEN 'month' THEN strftime(a.published, '%Y-%m')
            WHEN 'year' THEN strftime(a.published, '%Y')
            ELSE 'unknown' END AS published,
       a.published_source, a.source_uri,
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

-- The run whose tables are published now, and when any run last checked the warehouse: a later run that
-- found nothing new ('unchanged') or was blocked leaves the published state as it was, so "latest" means
-- that state, not the newest row of audit.runs (that one is audit.last_attempt).
CREATE OR REPLACE VIEW audit.last_attempt AS
SELECT * FROM audit.runs ORDER BY finished_at DESC LIMIT 1;

CREATE OR REPLACE VIEW audit.latest_run AS
SELECT p.*, l.run_id AS last_run_id, l.status AS last_status, l.reason AS last_reason,
       l.finished_at AS last_checked_at
FROM (SELECT * FROM audit.runs WHERE status = 'published' ORDER BY finished_at DESC LIMIT 1) p
CROSS JOIN audit.last_attempt l;

CREATE OR REPLACE VIEW audit.latest_results AS
SELECT r.* FROM audit.results r JOIN audit.latest_run l USING (run_id);

CREATE OR REPLACE VIEW audit.latest_quarantine AS
SELECT q.* FROM audit.quarantine q JOIN audit.latest_run l USING (run_id);

-- what the newest run of any kind found (why a blocked run was blocked)
CREATE OR REPLACE VIEW audit.last_attempt_results AS
SELECT r.* FROM audit.results r JOIN audit.last_attempt l USING (run_id);

-- One row per claim cluster: how widely the claim is told, and by how many independent origins.
-- An origin is who the claim rests on (its source entity): five outlets repeating "according to the FT"
-- are one origin.
CREATE OR REPLACE VIEW curated.claim_cluster_summary AS
SELECT k.cluster_id, k.story_id,
       count(*) AS claims,
       count(DISTINCT k.article_id) AS articles,
       count(DISTINCT k.language) AS n_languages,
       list(DISTINCT k.language ORDER BY k.language) AS languages,
       count(DISTINCT coalesce(c.source_entity_id, c.source_name)) AS origins,
       list(DISTINCT c.source_name ORDER BY c.source_name) AS sources,
       -- an article whose outlet nobody knows is named by its title, never by a file path
       list(DISTINCT coalesce(a.outlet, 'outlet unknown: ' || coalesce(a.title, a.article_id))
            ORDER BY coalesce(a.outlet, 'outlet unknown: ' || coalesce(a.title, a.article_id))) AS outlets,
       min(c.text) AS example
FROM curated.claim_clusters k
JOIN curated.claims c USING (claim_id)
JOIN curated.articles a ON a.article_id = k.article_id
GROUP BY k.cluster_id, k.story_id;

-- "claims told in three or more languages"
CREATE OR REPLACE VIEW curated.claims_in_three_or_more_languages AS
SELECT * FROM curated.claim_cluster_summary WHERE n_languages >= 3;

-- "claims whose only origin is one outlet or speaker", however many articles repeat them
CREATE OR REPLACE VIEW curated.single_origin_claims AS
SELECT * FROM curated.claim_cluster_summary WHERE origins = 1;

-- claims corroborated by two or more independent origins
CREATE OR REPLACE VIEW curated.corroborated_claims AS
SELECT * FROM curated.claim_cluster_summary WHERE origins >= 2;

-- "what does each language's coverage add that others lack": claims of a story in no cluster
CREATE OR REPLACE VIEW curated.claims_only_in_one_language AS
SELECT a.story_id, c.language, c.claim_id, c.source_name, c.text
FROM curated.claims c JOIN curated.articles a USING (article_id)
WHERE c.claim_id NOT IN (SELECT claim_id FROM curated.claim_clusters);

-- "where do sources disagree": each contradiction with both claims, their languages and sources
CREATE OR REPLACE VIEW curated.disagreements AS
SELECT x.kind, x.detail, e.name AS about,
       a.language AS language_a, a.source_name AS source_a, a.text AS claim_a,
       b.language AS language_b, b.source_name AS source_b, b.text AS claim_b,
       x.story_id, x.contradiction_id
FROM curated.contradictions x
JOIN curated.claims a ON a.claim_id = x.claim_id_a
JOIN curated.claims b ON b.claim_id = x.claim_id_b
LEFT JOIN curated.entities e ON e.entity_id = x.entity_id;
