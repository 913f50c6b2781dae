-- What a deferred foreign-key check costs in a card merge: 20,000 card-history rows inserted in
-- one transaction, the checks fired by SET CONSTRAINTS ALL IMMEDIATE, with both batch columns set
-- (a citizen check and two batch-row checks a row) and with them NULL (the citizen check alone).
-- Needs a base imported by bench/cards_import.py (batch 1 exists). Everything is rolled back.
--   psql -h 127.0.0.1 -p 55446 -U postgres -q -f bench/cards_fk_checks.sql DBNAME
\timing on
CREATE TEMP TABLE fk_rows AS SELECT citizen_id, social_insurance_number, card_number, beneficiary_group,
    benefit_level, issuing_province_code, primary_care_facility_code, valid_from, valid_to, source_line
    FROM healthbook_card ORDER BY random() LIMIT 20000;
\set ins 'INSERT INTO healthbook_card_history (citizen_id, social_insurance_number, card_number, beneficiary_group, benefit_level, issuing_province_code, primary_care_facility_code, valid_from, valid_to, source_line, replaced_at, source_batch_id, replaced_by_batch_id) SELECT citizen_id, social_insurance_number, card_number, beneficiary_group, benefit_level, issuing_province_code, primary_care_facility_code, valid_from, valid_to, source_line, now(), '
\echo 'warm-up'
BEGIN; :ins 1, 1 FROM fk_rows; SET CONSTRAINTS ALL IMMEDIATE; ROLLBACK;
\echo 'citizen + 2 batch checks a row: INSERT, then SET CONSTRAINTS (twice)'
BEGIN; :ins 1, 1 FROM fk_rows; SET CONSTRAINTS ALL IMMEDIATE; ROLLBACK;
BEGIN; :ins 1, 1 FROM fk_rows; SET CONSTRAINTS ALL IMMEDIATE; ROLLBACK;
\echo 'citizen check alone (batch columns NULL): INSERT, then SET CONSTRAINTS (twice)'
BEGIN; :ins NULL, NULL FROM fk_rows; SET CONSTRAINTS ALL IMMEDIATE; ROLLBACK;
BEGIN; :ins NULL, NULL FROM fk_rows; SET CONSTRAINTS ALL IMMEDIATE; ROLLBACK;
