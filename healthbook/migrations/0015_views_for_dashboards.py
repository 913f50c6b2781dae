"""The health book's door for the dashboards' SQL (provinces.rollups): views with the columns the
daily rollups may read. A change to these tables changes its view in the same migration, so
the rollups never break on a renamed column."""

from django.db import migrations

FORWARD = """
CREATE VIEW healthbook_citizen_view AS
    SELECT id, residence_province_id FROM healthbook_citizen;
CREATE VIEW healthbook_book_view AS
    SELECT id, citizen_id, created_at FROM healthbook_book;
CREATE VIEW healthbook_card_view AS
    SELECT citizen_id, valid_from, valid_to, updated_at, source_batch_id FROM healthbook_card;
CREATE VIEW healthbook_card_history_view AS
    SELECT citizen_id, valid_from, valid_to FROM healthbook_card_history;
CREATE VIEW healthbook_encounter_view AS
    SELECT id, book_id, facility_id, occurred_at, created_at FROM healthbook_encounter;
CREATE VIEW healthbook_follow_up_view AS
    SELECT id, book_id, facility_id, appointment_date FROM healthbook_follow_up;
CREATE VIEW healthbook_card_batch_view AS
    SELECT id, scope_province_id, finished_at, problem_counts FROM healthbook_card_batch;
CREATE VIEW healthbook_submission_view AS
    SELECT id, facility_id, received_at, status FROM healthbook_submission;
CREATE VIEW healthbook_submission_problem_view AS
    SELECT submission_id, severity, code FROM healthbook_submission_problem;
"""

BACKWARD = """
DROP VIEW IF EXISTS healthbook_submission_problem_view;
DROP VIEW IF EXISTS healthbook_submission_view;
DROP VIEW IF EXISTS healthbook_card_batch_view;
DROP VIEW IF EXISTS healthbook_follow_up_view;
DROP VIEW IF EXISTS healthbook_encounter_view;
DROP VIEW IF EXISTS healthbook_card_history_view;
DROP VIEW IF EXISTS healthbook_card_view;
DROP VIEW IF EXISTS healthbook_book_view;
DROP VIEW IF EXISTS healthbook_citizen_view;
"""


class Migration(migrations.Migration):
    dependencies = [("healthbook", "0014_province_in_geo_reminders_from_provinces")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
