-- How a shard chunk leaves the staging table (healthbook.cards.shards._FILL): the old form
-- (line IN (SELECT … LIMIT n)), the key range, and a plain SELECT, each on 20,000 of 200,000
-- staged rows of one shard. Everything is rolled back. bench/RESULTS.md, "Eleventh session".
--   psql -h 127.0.0.1 -p 55446 -U postgres -q -f bench/cards_fill.sql DBNAME   (a migrated copy)
\timing on
\set cols 'line, sin, personal_id, legacy_id, full_name, search_name, birth_date, birth_precision, birth_year, sex, ethnicity_code, nationality_code, province_id, commune_code, address, phone, card_number, beneficiary_group, benefit_level, issuing_province_code, facility_code, valid_from, valid_to'
BEGIN;
INSERT INTO healthbook_card_batch_row SELECT -1, (g % 2)::smallint, g, lpad(g::text, 10, '0'), NULL, '',
    'NGUYEN VAN A', 'nguyen van a', '1990-01-01', 'day', 1990, 1, '', '', NULL, '', 'so 1 duong', '',
    'DN4010000000001', 'DN', 4, '01', '01001', '2025-01-01', NULL FROM generate_series(1, 400000) g;
ANALYZE healthbook_card_batch_row;
CREATE TEMP TABLE fill_target AS SELECT :cols FROM healthbook_card_batch_row LIMIT 0;
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
\echo 'line IN (subquery), twice'
WITH taken AS (DELETE FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line IN (SELECT line FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line > 0 ORDER BY line LIMIT 20000) RETURNING :cols) INSERT INTO fill_target SELECT :cols FROM taken ORDER BY sin;
WITH taken AS (DELETE FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line IN (SELECT line FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line > 40000 ORDER BY line LIMIT 20000) RETURNING :cols) INSERT INTO fill_target SELECT :cols FROM taken ORDER BY sin;
\echo 'key range (main), twice'
WITH taken AS (DELETE FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line > 80000 AND line <= COALESCE((SELECT line FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line > 80000 ORDER BY line OFFSET 20000 - 1 LIMIT 1), 9223372036854775807) RETURNING :cols) INSERT INTO fill_target SELECT :cols FROM taken ORDER BY sin;
WITH taken AS (DELETE FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line > 120000 AND line <= COALESCE((SELECT line FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line > 120000 ORDER BY line OFFSET 20000 - 1 LIMIT 1), 9223372036854775807) RETURNING :cols) INSERT INTO fill_target SELECT :cols FROM taken ORDER BY sin;
\echo 'plain SELECT (rows not removed), twice'
INSERT INTO fill_target SELECT :cols FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line > 160000 ORDER BY line LIMIT 20000;
INSERT INTO fill_target SELECT :cols FROM healthbook_card_batch_row WHERE batch_id = -1 AND shard = 0 AND line > 200000 ORDER BY line LIMIT 20000;
ROLLBACK;
