"""The health book's door for the cohorts' SQL (issue 20): the columns a cohort rule may read.
The citizens' and visits' views gain columns (added last, so they are replaced in place); the
immunisations, pregnancy check-ups and lab results get views of their own."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE VIEW healthbook_citizen_view AS
    SELECT id, residence_province_id, residence_commune_code, birth_date, sex FROM healthbook_citizen;
CREATE OR REPLACE VIEW healthbook_encounter_view AS
    SELECT id, book_id, facility_id, occurred_at, created_at, main_diagnosis, secondary_diagnoses
    FROM healthbook_encounter;
CREATE VIEW healthbook_immunization_view AS
    SELECT id, book_id, facility_id, vaccine_code, occurred_on, status FROM healthbook_immunization;
CREATE VIEW healthbook_pregnancy_checkup_view AS
    SELECT id, book_id, facility_id, occurred_at, expected_delivery_date FROM healthbook_pregnancy_checkup;
CREATE VIEW healthbook_lab_observation_view AS
    SELECT id, book_id, facility_id, occurred_at, indicator_code, value_number, abnormal_flag
    FROM healthbook_lab_observation;
"""
BACKWARD = """
DROP VIEW healthbook_lab_observation_view;
DROP VIEW healthbook_pregnancy_checkup_view;
DROP VIEW healthbook_immunization_view;
DROP VIEW healthbook_encounter_view;
CREATE VIEW healthbook_encounter_view AS
    SELECT id, book_id, facility_id, occurred_at, created_at FROM healthbook_encounter;
DROP VIEW healthbook_citizen_view;
CREATE VIEW healthbook_citizen_view AS
    SELECT id, residence_province_id, residence_commune_code FROM healthbook_citizen;
"""


class Migration(migrations.Migration):
    dependencies = [("healthbook", "0027_citizen_consent_and_copies")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
