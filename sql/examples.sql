-- Example queries. Run any of them with:  newsflow sql "<query>"  (or open warehouse/news.duckdb in duckdb)

-- 1. What was published, per article: its title, publisher and date ('unknown' when no front matter or
--    date stamp gives them), the outlets its source line credits, and what was drawn from it
SELECT title, language, outlet, published, credits, sentences, claims, cites
FROM curated.article_overview ORDER BY language;

-- 2. Every claim with who it is attributed to, and how
SELECT a.language, c.source_name, c.attribution, c.cue, c.text
FROM curated.claims c JOIN curated.articles a USING (article_id)
ORDER BY a.language, c.claim_id;

-- 3. Which outlets the coverage rests on, across languages
SELECT * FROM curated.outlets_cited ORDER BY articles DESC;

-- 4. Claims attributed to a named speaker rather than an outlet
SELECT source_name, text FROM curated.claims WHERE source_kind = 'speaker';

-- 5. How the sentences of each article were classified
SELECT a.language, s.kind, count(*) AS sentences
FROM curated.sentences s JOIN curated.articles a USING (article_id)
GROUP BY ALL ORDER BY ALL;

-- 6. Articles flagged by language identification (low confidence, mixed language, no lexicon)
SELECT source_uri, language, language_confidence, secondary_language, language_flags
FROM curated.articles WHERE len(language_flags) > 0;

-- 7. The run whose tables are published (and when a run last checked), what failed, rows held back
SELECT run_id, status, articles_in, articles_published, claims, last_status, last_checked_at FROM audit.latest_run;
SELECT table_name, description, severity, unexpected_count FROM audit.latest_results WHERE NOT success;
SELECT table_name, record_id, source_uri, reason FROM audit.latest_quarantine;

-- 8. Stories across languages, and the claims told in three or more languages
SELECT label, articles, languages, top_entities FROM curated.stories ORDER BY articles DESC;
SELECT languages, origins, sources, example FROM curated.claims_in_three_or_more_languages;

-- 9. Claims that rest on a single origin however many outlets repeat them, and where sources disagree
SELECT languages, sources, example FROM curated.single_origin_claims ORDER BY articles DESC;
SELECT kind, about, detail FROM curated.disagreements;
