"""Daily rollups: one row per (facility, day), per (province, day) and per (commune, day),
computed in SQL.

Each run is three set-based statements per chunk of at most 31 days (INSERT … SELECT … ON
CONFLICT DO UPDATE): no row passes through Python, and running it again for the same days
gives the same rows (idempotent). Runs are serialised by a PostgreSQL advisory lock, so the
15-minute job, the nightly job and a backfill never interleave their upserts. Other apps' rows
are read only through the views those apps own (`facilities_*_view`, `healthbook_*_view`,
`geo_province_view`, `geo_commune_view`, created by their migrations): no table of theirs is named here.

Definitions (docs/dashboards.md explains them for readers of the dashboards):
- a day is a calendar day in Vietnam (settings.TIME_ZONE);
- a facility's status on a day is the last status change at or before the end of that day
  (facilities without any history keep their current status);
- "sending in the last 7 / 30 days": at least one accepted submission in the 7 / 30 days
  ending that day; "days with data": days with an accepted submission among the last 30;
- "silent" follows facilities.health: approved or connected, nothing accepted in the last
  SSKDT_SILENT_AFTER_DAYS days (counted in whole days ending that day), and either something
  accepted before or approved before that window began;
- "went silent": silent that day and not the day before; "rejection rate jumped": over the
  last 7 days at least ROLLUP_JUMP_MIN_RECEIVED submissions, a rejection rate of at least
  ROLLUP_JUMP_MIN_RATE, and at least ROLLUP_JUMP_DELTA above the 7 days before — on the
  first day this holds;
- books and cards count citizens by province of residence; "books total" counts books
  created up to the end of the day; "citizens with a valid card" counts citizens with a
  card (current or earlier) whose validity covers the day; "cards imported" counts current
  cards last written by a card batch that day;
- "check-ins": check-ins first recorded that day, those of people living in another province and
  the first-ever contacts with the facility, each against the facility's own daily average of
  the 28 days before; "unusual check-ins": one of the three at least SSKDT_CHECKIN_ALERT_MIN and
  more than SSKDT_CHECKIN_ALERT_FACTOR times that average (taken as at least 1) — a facility
  checking in people it never saw, from far away, in bulk, opens their books to its doctors;
- "visits received": encounters first recorded that day; "people using the book": citizens
  with a visit dated in the USING_DAYS days ending that day (runs of visits less than a
  year apart are merged into islands, so one pass counts every day of a chunk); "missed
  follow-ups": appointments of the last MISSED_FOLLOW_UP_DAYS days whose date has passed with
  no visit of the citizen since, by the province of the facility that booked them.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from facilities.health import silent_after_days

CHUNK_DAYS = 31
# Window functions look this far back before the first day of a chunk (30-day window, the
# 7 days before the last 7, and the day before for "went silent").
LOOKBACK_DAYS = 31
_LOCK_KEY = 80_208_001  # advisory lock id of the rollup runs
# "People using the book": citizens with a visit in their book in the last USING_DAYS days.
USING_DAYS = 365
# "Missed follow-ups": appointments of the last MISSED_FOLLOW_UP_DAYS days whose date passed
# with no visit (at any facility) since.
MISSED_FOLLOW_UP_DAYS = 90
# Card-batch findings that are warnings (the row was still loaded): not rejection reasons.
CARD_WARNING_CODES = ["BIRTH_TOO_OLD", "FACILITY_UNKNOWN"]

_FACILITY_SQL = """
INSERT INTO provinces_facility_day (
    facility_id, province_id, day, status, ownership, level,
    submissions_received, submissions_accepted, submissions_rejected, visits_received,
    last_contact_at, last_accepted_at, received_7d, rejected_7d, received_prev_7d, rejected_prev_7d,
    accepted_30d, days_with_data_30d, expected_30d, sent_7d, sent_30d,
    is_silent, went_silent, rejection_jumped,
    checkins, checkins_other_province, checkins_first_contact, checkins_avg_28d, checkins_other_avg_28d,
    checkins_first_avg_28d, checkins_unusual, computed_at)
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(grid_start)s::date, %(end)s::date, interval '1 day') AS d
),
changes AS (
    SELECT facility_id, to_status, at,
           lead(at) OVER (PARTITION BY facility_id ORDER BY at, id) AS next_at
    FROM facilities_status_change_view
),
with_history AS (SELECT DISTINCT facility_id FROM facilities_status_change_view),
health AS (
    SELECT * FROM facilities_daily_health_view WHERE day BETWEEN %(grid_start)s AND %(end)s
),
visits AS (
    SELECT facility_id, (created_at AT TIME ZONE %(tz)s)::date AS day, COUNT(*) AS n
    FROM healthbook_encounter_view
    WHERE created_at >= %(start_ts)s AND created_at < %(end_ts)s
    GROUP BY 1, 2
),
checkins AS (
    SELECT facility_id, (created_at AT TIME ZONE %(tz)s)::date AS day, COUNT(*) AS n,
           COUNT(*) FILTER (WHERE other_province) AS other, COUNT(*) FILTER (WHERE first_contact) AS first
    FROM healthbook_check_in_view
    WHERE created_at >= %(grid_start_ts)s AND created_at < %(end_ts)s
    GROUP BY 1, 2
),
seed AS MATERIALIZED (  -- once per facility, not once per facility-day of the grid
    SELECT f.id AS facility_id,
        (SELECT h.last_contact_at FROM facilities_daily_health_view h
         WHERE h.facility_id = f.id AND h.day < %(grid_start)s AND h.last_contact_at IS NOT NULL
         ORDER BY h.day DESC LIMIT 1) AS contact0,
        (SELECT h.last_accepted_at FROM facilities_daily_health_view h
         WHERE h.facility_id = f.id AND h.day < %(grid_start)s AND h.last_accepted_at IS NOT NULL
         ORDER BY h.day DESC LIMIT 1) AS accepted0
    FROM facilities_facility_view f
),
grid AS (
    SELECT f.id AS facility_id, f.province_id, f.ownership, f.level, f.expected_monthly_visits,
           f.approved_at, days.day,
           ((days.day - %(silent_back)s)::timestamp AT TIME ZONE %(tz)s) AS silent_cutoff,
           COALESCE(c.to_status, CASE WHEN wh.facility_id IS NULL THEN f.status END) AS status,
           COALESCE(h.received, 0) AS received, COALESCE(h.accepted, 0) AS accepted,
           COALESCE(h.rejected, 0) AS rejected, h.last_contact_at, h.last_accepted_at,
           s.contact0, s.accepted0, COALESCE(v.n, 0) AS visits,
           COALESCE(ci.n, 0) AS ci, COALESCE(ci.other, 0) AS ci_other, COALESCE(ci.first, 0) AS ci_first
    FROM facilities_facility_view f
    CROSS JOIN days
    JOIN seed s ON s.facility_id = f.id
    LEFT JOIN with_history wh ON wh.facility_id = f.id
    LEFT JOIN changes c ON c.facility_id = f.id
        AND c.at < ((days.day + 1)::timestamp AT TIME ZONE %(tz)s)
        AND (c.next_at IS NULL OR c.next_at >= ((days.day + 1)::timestamp AT TIME ZONE %(tz)s))
    LEFT JOIN health h ON h.facility_id = f.id AND h.day = days.day
    LEFT JOIN visits v ON v.facility_id = f.id AND v.day = days.day
    LEFT JOIN checkins ci ON ci.facility_id = f.id AND ci.day = days.day
),
win AS (
    SELECT g.*,
        SUM(received) OVER w7 AS received_7d, SUM(rejected) OVER w7 AS rejected_7d,
        SUM(accepted) OVER w7 AS accepted_7d,
        COALESCE(SUM(received) OVER wp7, 0) AS received_prev_7d,
        COALESCE(SUM(rejected) OVER wp7, 0) AS rejected_prev_7d,
        SUM(accepted) OVER w30 AS accepted_30d,
        SUM((accepted > 0)::int) OVER w30 AS days_30,
        SUM(accepted) OVER wn AS accepted_n,
        GREATEST(contact0, MAX(last_contact_at) OVER wall) AS last_contact,
        GREATEST(accepted0, MAX(last_accepted_at) OVER wall) AS last_accepted,
        COALESCE(AVG(ci) OVER w28, 0) AS ci_avg, COALESCE(AVG(ci_other) OVER w28, 0) AS ci_other_avg,
        COALESCE(AVG(ci_first) OVER w28, 0) AS ci_first_avg
    FROM grid g
    WINDOW w7 AS (PARTITION BY facility_id ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW),
           wp7 AS (PARTITION BY facility_id ORDER BY day ROWS BETWEEN 13 PRECEDING AND 7 PRECEDING),
           w30 AS (PARTITION BY facility_id ORDER BY day ROWS BETWEEN 29 PRECEDING AND CURRENT ROW),
           wn AS (PARTITION BY facility_id ORDER BY day ROWS BETWEEN {silent_back} PRECEDING AND CURRENT ROW),
           wall AS (PARTITION BY facility_id ORDER BY day ROWS UNBOUNDED PRECEDING),
           w28 AS (PARTITION BY facility_id ORDER BY day ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING)
),
flags AS (
    SELECT w.*,
        (status IN ('approved', 'connected') AND accepted_n = 0
         AND (last_accepted IS NOT NULL OR COALESCE(approved_at < silent_cutoff, FALSE))) AS silent,
        ((ci >= %(ci_min)s AND ci > %(ci_factor)s * GREATEST(ci_avg, 1))
         OR (ci_other >= %(ci_min)s AND ci_other > %(ci_factor)s * GREATEST(ci_other_avg, 1))
         OR (ci_first >= %(ci_min)s AND ci_first > %(ci_factor)s * GREATEST(ci_first_avg, 1))) AS ci_unusual,
        (received_7d >= %(jump_min_received)s
         AND rejected_7d::float / received_7d >= %(jump_min_rate)s
         AND rejected_7d::float / received_7d
             - CASE WHEN received_prev_7d > 0 THEN rejected_prev_7d::float / received_prev_7d ELSE 0 END
             >= %(jump_delta)s) AS jumped
    FROM win w
),
final AS (
    SELECT f.*,
        LAG(silent) OVER (PARTITION BY facility_id ORDER BY day) AS silent_before,
        LAG(jumped) OVER (PARTITION BY facility_id ORDER BY day) AS jumped_before
    FROM flags f
)
SELECT facility_id, province_id, day, status, ownership, level,
    received, accepted, rejected, visits,
    last_contact, last_accepted, received_7d, rejected_7d, received_prev_7d, rejected_prev_7d,
    accepted_30d, days_30, expected_monthly_visits, accepted_7d > 0,
    accepted_30d > 0, silent, silent AND NOT COALESCE(silent_before, FALSE),
    jumped AND NOT COALESCE(jumped_before, FALSE),
    ci, ci_other, ci_first, ci_avg, ci_other_avg, ci_first_avg, ci_unusual, %(now)s
FROM final
WHERE day BETWEEN %(start)s AND %(end)s AND status IS NOT NULL
ON CONFLICT (facility_id, day) DO UPDATE SET
    province_id = EXCLUDED.province_id, status = EXCLUDED.status, ownership = EXCLUDED.ownership,
    level = EXCLUDED.level, submissions_received = EXCLUDED.submissions_received,
    submissions_accepted = EXCLUDED.submissions_accepted, submissions_rejected = EXCLUDED.submissions_rejected,
    visits_received = EXCLUDED.visits_received, last_contact_at = EXCLUDED.last_contact_at,
    last_accepted_at = EXCLUDED.last_accepted_at, received_7d = EXCLUDED.received_7d,
    rejected_7d = EXCLUDED.rejected_7d, received_prev_7d = EXCLUDED.received_prev_7d,
    rejected_prev_7d = EXCLUDED.rejected_prev_7d, accepted_30d = EXCLUDED.accepted_30d,
    days_with_data_30d = EXCLUDED.days_with_data_30d, expected_30d = EXCLUDED.expected_30d,
    sent_7d = EXCLUDED.sent_7d, sent_30d = EXCLUDED.sent_30d, is_silent = EXCLUDED.is_silent,
    went_silent = EXCLUDED.went_silent, rejection_jumped = EXCLUDED.rejection_jumped,
    checkins = EXCLUDED.checkins, checkins_other_province = EXCLUDED.checkins_other_province,
    checkins_first_contact = EXCLUDED.checkins_first_contact, checkins_avg_28d = EXCLUDED.checkins_avg_28d,
    checkins_other_avg_28d = EXCLUDED.checkins_other_avg_28d,
    checkins_first_avg_28d = EXCLUDED.checkins_first_avg_28d, checkins_unusual = EXCLUDED.checkins_unusual,
    computed_at = EXCLUDED.computed_at
"""

_PROVINCE_SQL_TEMPLATE = """
INSERT INTO provinces_province_day (
    province_id, day, books_total, books_new, citizens_valid_card, cards_imported,
    facilities_pending, facilities_rejected, facilities_approved, facilities_connected,
    facilities_suspended, facilities_closed, facilities_public_active, facilities_private_active,
    facilities_public_connected, facilities_private_connected, facilities_sending_7d,
    facilities_sending_30d, facilities_public_sending_7d, facilities_private_sending_7d,
    facilities_silent, submissions_received, submissions_accepted, submissions_rejected,
    visits_received, people_using, followups_missed, computed_at)
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
),
fac AS (
    SELECT province_id, day,
        COUNT(*) FILTER (WHERE status = 'pending') AS pending,
        COUNT(*) FILTER (WHERE status = 'rejected') AS rejected,
        COUNT(*) FILTER (WHERE status = 'approved') AS approved,
        COUNT(*) FILTER (WHERE status = 'connected') AS connected,
        COUNT(*) FILTER (WHERE status = 'suspended') AS suspended,
        COUNT(*) FILTER (WHERE status = 'closed') AS closed,
        COUNT(*) FILTER (WHERE status IN ('approved', 'connected', 'suspended') AND ownership = 'public')
            AS public_active,
        COUNT(*) FILTER (WHERE status IN ('approved', 'connected', 'suspended') AND ownership = 'private')
            AS private_active,
        COUNT(*) FILTER (WHERE status = 'connected' AND ownership = 'public') AS public_connected,
        COUNT(*) FILTER (WHERE status = 'connected' AND ownership = 'private') AS private_connected,
        COUNT(*) FILTER (WHERE sent_7d) AS sending_7d,
        COUNT(*) FILTER (WHERE sent_30d) AS sending_30d,
        COUNT(*) FILTER (WHERE sent_7d AND ownership = 'public') AS public_sending_7d,
        COUNT(*) FILTER (WHERE sent_7d AND ownership = 'private') AS private_sending_7d,
        COUNT(*) FILTER (WHERE is_silent) AS silent,
        SUM(submissions_received) AS received, SUM(submissions_accepted) AS accepted,
        SUM(submissions_rejected) AS rejected_subs, SUM(visits_received) AS visits
    FROM provinces_facility_day
    WHERE day BETWEEN %(start)s AND %(end)s
    GROUP BY province_id, day
),
book_base AS (  -- books created before the chunk, per province (no per-day sort of every book)
    SELECT c.residence_province_id AS province_id, COUNT(*) AS n
    FROM healthbook_book_view b JOIN healthbook_citizen_view c ON c.id = b.citizen_id
    WHERE c.residence_province_id IS NOT NULL AND b.created_at < %(start_ts)s
    GROUP BY 1
),
book_days AS (  -- books created on each day of the chunk
    SELECT c.residence_province_id AS province_id,
           (b.created_at AT TIME ZONE %(tz)s)::date AS day, COUNT(*) AS n
    FROM healthbook_book_view b JOIN healthbook_citizen_view c ON c.id = b.citizen_id
    WHERE c.residence_province_id IS NOT NULL AND b.created_at >= %(start_ts)s AND b.created_at < %(end_ts)s
    GROUP BY 1, 2
),
books AS (
    SELECT p.id AS province_id, days.day,
        COALESCE(SUM(bd.n) FILTER (WHERE bd.day = days.day), 0) AS new,
        COALESCE(MAX(bb.n), 0) + COALESCE(SUM(bd.n) FILTER (WHERE bd.day <= days.day), 0) AS total
    FROM geo_province_view p CROSS JOIN days
    LEFT JOIN book_base bb ON bb.province_id = p.id
    LEFT JOIN book_days bd ON bd.province_id = p.id AND bd.day <= days.day
    GROUP BY p.id, days.day
),
cards AS (
    SELECT citizen_id, valid_from, valid_to FROM healthbook_card_view
    UNION ALL
    SELECT citizen_id, valid_from, valid_to FROM healthbook_card_history_view
),
valid AS (
    SELECT c.residence_province_id AS province_id, days.day, COUNT(DISTINCT k.citizen_id) AS n
    FROM days
    JOIN cards k ON k.valid_from <= days.day AND (k.valid_to IS NULL OR k.valid_to >= days.day)
    JOIN healthbook_citizen_view c ON c.id = k.citizen_id
    WHERE c.residence_province_id IS NOT NULL
    GROUP BY 1, 2
),
{using_ctes}appointments AS MATERIALIZED (  -- each appointment's visit looked up once, not per use
    SELECT f.province_id, a.appointment_date,
        (SELECT MIN((e.occurred_at AT TIME ZONE %(tz)s)::date) FROM healthbook_encounter_view e
         WHERE e.book_id = a.book_id
           AND e.occurred_at >= (a.appointment_date::timestamp AT TIME ZONE %(tz)s)) AS visited_on
    FROM healthbook_follow_up_view a JOIN facilities_facility_view f ON f.id = a.facility_id
    WHERE a.appointment_date >= %(missed_from)s AND a.appointment_date < %(end)s
),
missed AS (
    SELECT a.province_id, days.day, COUNT(*) AS n
    FROM days JOIN appointments a
        ON a.appointment_date < days.day AND a.appointment_date >= days.day - %(missed_days)s
       AND (a.visited_on IS NULL OR a.visited_on > days.day)
    GROUP BY 1, 2
),
imported AS (
    SELECT c.residence_province_id AS province_id, (k.updated_at AT TIME ZONE %(tz)s)::date AS day,
           COUNT(*) AS n
    FROM healthbook_card_view k JOIN healthbook_citizen_view c ON c.id = k.citizen_id
    WHERE k.source_batch_id IS NOT NULL AND c.residence_province_id IS NOT NULL
      AND k.updated_at >= %(start_ts)s AND k.updated_at < %(end_ts)s
    GROUP BY 1, 2
)
SELECT p.id, days.day, b.total, b.new, COALESCE(v.n, 0), COALESCE(i.n, 0),
    COALESCE(f.pending, 0), COALESCE(f.rejected, 0), COALESCE(f.approved, 0), COALESCE(f.connected, 0),
    COALESCE(f.suspended, 0), COALESCE(f.closed, 0), COALESCE(f.public_active, 0),
    COALESCE(f.private_active, 0), COALESCE(f.public_connected, 0), COALESCE(f.private_connected, 0),
    COALESCE(f.sending_7d, 0), COALESCE(f.sending_30d, 0), COALESCE(f.public_sending_7d, 0),
    COALESCE(f.private_sending_7d, 0), COALESCE(f.silent, 0), COALESCE(f.received, 0),
    COALESCE(f.accepted, 0), COALESCE(f.rejected_subs, 0), COALESCE(f.visits, 0), COALESCE(u.n, 0),
    COALESCE(m.n, 0), %(now)s
FROM geo_province_view p CROSS JOIN days
JOIN books b ON b.province_id = p.id AND b.day = days.day
LEFT JOIN fac f ON f.province_id = p.id AND f.day = days.day
LEFT JOIN valid v ON v.province_id = p.id AND v.day = days.day
LEFT JOIN imported i ON i.province_id = p.id AND i.day = days.day
LEFT JOIN using_book u ON u.province_id = p.id AND u.day = days.day
LEFT JOIN missed m ON m.province_id = p.id AND m.day = days.day
ON CONFLICT (province_id, day) DO UPDATE SET
    books_total = EXCLUDED.books_total, books_new = EXCLUDED.books_new,
    citizens_valid_card = EXCLUDED.citizens_valid_card, cards_imported = EXCLUDED.cards_imported,
    facilities_pending = EXCLUDED.facilities_pending, facilities_rejected = EXCLUDED.facilities_rejected,
    facilities_approved = EXCLUDED.facilities_approved, facilities_connected = EXCLUDED.facilities_connected,
    facilities_suspended = EXCLUDED.facilities_suspended, facilities_closed = EXCLUDED.facilities_closed,
    facilities_public_active = EXCLUDED.facilities_public_active,
    facilities_private_active = EXCLUDED.facilities_private_active,
    facilities_public_connected = EXCLUDED.facilities_public_connected,
    facilities_private_connected = EXCLUDED.facilities_private_connected,
    facilities_sending_7d = EXCLUDED.facilities_sending_7d,
    facilities_sending_30d = EXCLUDED.facilities_sending_30d,
    facilities_public_sending_7d = EXCLUDED.facilities_public_sending_7d,
    facilities_private_sending_7d = EXCLUDED.facilities_private_sending_7d,
    facilities_silent = EXCLUDED.facilities_silent, submissions_received = EXCLUDED.submissions_received,
    submissions_accepted = EXCLUDED.submissions_accepted, submissions_rejected = EXCLUDED.submissions_rejected,
    visits_received = EXCLUDED.visits_received, people_using = EXCLUDED.people_using,
    followups_missed = EXCLUDED.followups_missed, computed_at = EXCLUDED.computed_at
"""

# People using the book over a range of days: runs of visit days less than USING_DAYS apart
# are merged into islands [first visit, last visit + USING_DAYS - 1]; a citizen counts on
# every day an island covers (one sort of the visits, whatever the number of days).
_USING_RANGE = """encounter_days AS (
    SELECT book_id, (occurred_at AT TIME ZONE %(tz)s)::date AS day
    FROM healthbook_encounter_view
    WHERE occurred_at >= %(using_from_ts)s AND occurred_at < %(end_ts)s
    GROUP BY 1, 2
),
marked AS (
    SELECT book_id, day,
        CASE WHEN lag(day) OVER (PARTITION BY book_id ORDER BY day) >= day - %(using_days)s + 1 THEN 0 ELSE 1 END
            AS new_island
    FROM encounter_days
),
numbered AS (
    SELECT book_id, day, SUM(new_island) OVER (PARTITION BY book_id ORDER BY day) AS island FROM marked
),
islands AS (
    SELECT book_id, MIN(day) AS first_day, MAX(day) + %(using_days)s - 1 AS last_day
    FROM numbered GROUP BY book_id, island
),
using_book AS (
    SELECT c.residence_province_id AS province_id, days.day, COUNT(*) AS n
    FROM days
    JOIN islands i ON i.first_day <= days.day AND i.last_day >= days.day
    JOIN healthbook_book_view b ON b.id = i.book_id
    JOIN healthbook_citizen_view c ON c.id = b.citizen_id
    WHERE c.residence_province_id IS NOT NULL
    GROUP BY 1, 2
),
"""

# People using the book on one day (the 15-minute and nightly jobs): one distinct scan.
_USING_ONE_DAY = """using_book AS (
    SELECT c.residence_province_id AS province_id, %(end)s::date AS day, COUNT(*) AS n
    FROM (SELECT DISTINCT book_id FROM healthbook_encounter_view
          WHERE occurred_at >= %(using_from_ts)s AND occurred_at < %(end_ts)s) AS e
    JOIN healthbook_book_view b ON b.id = e.book_id
    JOIN healthbook_citizen_view c ON c.id = b.citizen_id
    WHERE c.residence_province_id IS NOT NULL
    GROUP BY 1
),
"""

# Card-batch rejection reasons by the day the batch finished. (Data-submission reasons join
# here once the intake records them per submission.)
_REASONS_SQL = """
INSERT INTO provinces_rejection_reason_day (province_id, day, source, code, count, computed_at)
SELECT b.scope_province_id, (b.finished_at AT TIME ZONE %(tz)s)::date, 'card_batch', r.key,
       SUM(r.value::bigint), %(now)s
FROM healthbook_card_batch_view b CROSS JOIN LATERAL jsonb_each_text(b.problem_counts) AS r
WHERE b.finished_at >= %(start_ts)s AND b.finished_at < %(end_ts)s AND r.key <> ALL(%(warning_codes)s)
GROUP BY 1, 2, 4
ON CONFLICT (province_id, day, source, code) DO UPDATE SET
    count = EXCLUDED.count, computed_at = EXCLUDED.computed_at
"""

# Data-submission rejection reasons, from the same rows as the rejected counts the trend shows
# (facilities_daily_health_view: one reason per rejected submission, recorded with its count),
# so the reasons of a day add up to its rejections. A rejection counted without a reason (days
# recorded before reasons were kept) is listed as UNRECORDED rather than dropped.
_SUBMISSION_REASONS_DELETE_SQL = """
DELETE FROM provinces_rejection_reason_day
WHERE source = 'submission' AND day BETWEEN %(start)s AND %(end)s
"""
_SUBMISSION_REASONS_SQL = """
INSERT INTO provinces_rejection_reason_day (province_id, day, source, code, count, computed_at)
WITH h AS (
    SELECT facility_id, day, rejected, rejection_reasons
    FROM facilities_daily_health_view
    WHERE day BETWEEN %(start)s AND %(end)s AND rejected > 0
),
reasons AS (
    SELECT h.facility_id, h.day, r.key AS code, r.value::bigint AS n
    FROM h CROSS JOIN LATERAL jsonb_each_text(h.rejection_reasons) AS r
    UNION ALL
    SELECT h.facility_id, h.day, 'UNRECORDED',
           h.rejected - COALESCE((SELECT SUM(value::bigint) FROM jsonb_each_text(h.rejection_reasons)), 0)
    FROM h
)
SELECT f.province_id, r.day, 'submission', r.code, SUM(r.n), %(now)s
FROM reasons r JOIN facilities_facility_view f ON f.id = r.facility_id
WHERE r.n > 0
GROUP BY 1, 2, 4
ON CONFLICT (province_id, day, source, code) DO UPDATE SET
    count = EXCLUDED.count, computed_at = EXCLUDED.computed_at
"""


def province_sql(*, one_day: bool) -> str:
    return _PROVINCE_SQL_TEMPLATE.replace("{using_ctes}", _USING_ONE_DAY if one_day else _USING_RANGE)


# Per commune and day (issue 16): books and people using the book by commune of residence,
# facilities approved to send and connected by the commune they stand in (from this chunk's
# facility rows). One row per commune and day, zeros included, so the province's page reads one
# indexed range. Citizens are placed through geo's view of the communes (by code).
_COMMUNE_ISLANDS = _USING_RANGE.split("using_book AS (")[0]
_COMMUNE_USING_BOOK = """using_book AS (
    SELECT g.id AS commune_id, days.day, COUNT(*) AS n
    FROM days
    JOIN islands i ON i.first_day <= days.day AND i.last_day >= days.day
    JOIN healthbook_book_view b ON b.id = i.book_id
    JOIN healthbook_citizen_view c ON c.id = b.citizen_id
    JOIN geo_commune_view g ON g.code = c.residence_commune_code
    GROUP BY 1, 2
),
"""
_COMMUNE_USING_RANGE = _COMMUNE_ISLANDS + _COMMUNE_USING_BOOK
_COMMUNE_USING_ONE_DAY = """using_book AS (
    SELECT g.id AS commune_id, %(end)s::date AS day, COUNT(*) AS n
    FROM (SELECT DISTINCT book_id FROM healthbook_encounter_view
          WHERE occurred_at >= %(using_from_ts)s AND occurred_at < %(end_ts)s) AS e
    JOIN healthbook_book_view b ON b.id = e.book_id
    JOIN healthbook_citizen_view c ON c.id = b.citizen_id
    JOIN geo_commune_view g ON g.code = c.residence_commune_code
    GROUP BY 1
),
"""
_COMMUNE_SQL_TEMPLATE = """
INSERT INTO provinces_commune_day (
    commune_id, province_id, day, books_total, books_new, people_using, facilities_active,
    facilities_connected, computed_at)
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
),
placed AS (  -- citizens whose commune of residence is one of the list
    SELECT c.id AS citizen_id, g.id AS commune_id
    FROM healthbook_citizen_view c JOIN geo_commune_view g ON g.code = c.residence_commune_code
    WHERE c.residence_commune_code <> ''
),
book_base AS (
    SELECT p.commune_id, COUNT(*) AS n
    FROM healthbook_book_view b JOIN placed p ON p.citizen_id = b.citizen_id
    WHERE b.created_at < %(start_ts)s
    GROUP BY 1
),
book_days AS (
    SELECT p.commune_id, (b.created_at AT TIME ZONE %(tz)s)::date AS day, COUNT(*) AS n
    FROM healthbook_book_view b JOIN placed p ON p.citizen_id = b.citizen_id
    WHERE b.created_at >= %(start_ts)s AND b.created_at < %(end_ts)s
    GROUP BY 1, 2
),
books AS (
    SELECT g.id AS commune_id, days.day,
        COALESCE(SUM(bd.n) FILTER (WHERE bd.day = days.day), 0) AS new,
        COALESCE(MAX(bb.n), 0) + COALESCE(SUM(bd.n) FILTER (WHERE bd.day <= days.day), 0) AS total
    FROM geo_commune_view g CROSS JOIN days
    LEFT JOIN book_base bb ON bb.commune_id = g.id
    LEFT JOIN book_days bd ON bd.commune_id = g.id AND bd.day <= days.day
    GROUP BY g.id, days.day
),
{using_ctes}fac AS (
    SELECT f.commune_unit_id AS commune_id, fd.day,
        COUNT(*) FILTER (WHERE fd.status IN ('approved', 'connected', 'suspended')) AS active,
        COUNT(*) FILTER (WHERE fd.status = 'connected') AS connected
    FROM provinces_facility_day fd JOIN facilities_facility_view f ON f.id = fd.facility_id
    WHERE fd.day BETWEEN %(start)s AND %(end)s AND f.commune_unit_id IS NOT NULL
    GROUP BY 1, 2
)
SELECT g.id, g.province_id, days.day, b.total, b.new, COALESCE(u.n, 0), COALESCE(f.active, 0),
    COALESCE(f.connected, 0), %(now)s
FROM geo_commune_view g CROSS JOIN days
JOIN books b ON b.commune_id = g.id AND b.day = days.day
LEFT JOIN using_book u ON u.commune_id = g.id AND u.day = days.day
LEFT JOIN fac f ON f.commune_id = g.id AND f.day = days.day
ON CONFLICT (commune_id, day) DO UPDATE SET
    province_id = EXCLUDED.province_id, books_total = EXCLUDED.books_total, books_new = EXCLUDED.books_new,
    people_using = EXCLUDED.people_using, facilities_active = EXCLUDED.facilities_active,
    facilities_connected = EXCLUDED.facilities_connected, computed_at = EXCLUDED.computed_at
"""


def commune_sql(*, one_day: bool) -> str:
    return _COMMUNE_SQL_TEMPLATE.replace("{using_ctes}", _COMMUNE_USING_ONE_DAY if one_day else _COMMUNE_USING_RANGE)


@dataclass(frozen=True)
class RollupRun:
    start: dt.date
    end: dt.date
    facility_rows: int
    province_rows: int
    commune_rows: int = 0


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _chunks(start: dt.date, end: dt.date, size: int = CHUNK_DAYS):
    while start <= end:
        stop = min(end, start + dt.timedelta(days=size - 1))
        yield start, stop
        start = stop + dt.timedelta(days=1)


def rollups_compute(*, start: dt.date, end: dt.date) -> RollupRun:
    """Compute (or recompute) the facility and province rollups of every day in [start, end]."""
    if end < start:
        raise ValueError("end is before start")
    silent_days = silent_after_days()
    if not 1 <= silent_days <= LOOKBACK_DAYS - 1:
        raise ValueError("SSKDT_SILENT_AFTER_DAYS must be between 1 and 30 for the rollups")
    facility_rows = province_rows = commune_rows = 0
    facility_sql = _FACILITY_SQL.format(silent_back=int(silent_days) - 1)
    for chunk_start, chunk_end in _chunks(start, end):
        params = {
            "start": chunk_start,
            "end": chunk_end,
            "grid_start": chunk_start - dt.timedelta(days=LOOKBACK_DAYS),
            "grid_start_ts": _day_start(chunk_start - dt.timedelta(days=LOOKBACK_DAYS)),
            "ci_min": int(settings.SSKDT_CHECKIN_ALERT_MIN),
            "ci_factor": float(settings.SSKDT_CHECKIN_ALERT_FACTOR),
            "start_ts": _day_start(chunk_start),
            "end_ts": _day_start(chunk_end + dt.timedelta(days=1)),
            "tz": settings.TIME_ZONE,
            "silent_back": silent_days - 1,
            "jump_min_received": int(getattr(settings, "ROLLUP_JUMP_MIN_RECEIVED", 10)),
            "jump_min_rate": float(getattr(settings, "ROLLUP_JUMP_MIN_RATE", 0.2)),
            "jump_delta": float(getattr(settings, "ROLLUP_JUMP_DELTA", 0.15)),
            "now": timezone.now(),
            "warning_codes": CARD_WARNING_CODES,
            "using_days": USING_DAYS,
            "using_from_ts": _day_start(chunk_start - dt.timedelta(days=USING_DAYS - 1)),
            "missed_days": MISSED_FOLLOW_UP_DAYS,
            "missed_from": chunk_start - dt.timedelta(days=MISSED_FOLLOW_UP_DAYS),
        }
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            # JIT compilation costs seconds on these wide plans and saves nothing on a day's rows.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(facility_sql, params)
            facility_rows += cursor.rowcount
            cursor.execute(province_sql(one_day=chunk_start == chunk_end), params)
            province_rows += cursor.rowcount
            cursor.execute(commune_sql(one_day=chunk_start == chunk_end), params)
            commune_rows += cursor.rowcount
            cursor.execute(_REASONS_SQL, params)
            cursor.execute(_SUBMISSION_REASONS_DELETE_SQL, params)
            cursor.execute(_SUBMISSION_REASONS_SQL, params)
    return RollupRun(
        start=start, end=end, facility_rows=facility_rows, province_rows=province_rows, commune_rows=commune_rows
    )


def rollup_days_computed(*, start: dt.date, end: dt.date) -> dict[dt.date, dt.datetime]:
    """The days of [start, end] that have province rollups already, with the oldest time one of
    that day's rows was computed (one index range scan)."""
    from django.db.models import Min

    from provinces.models import ProvinceDayRollup

    rows = ProvinceDayRollup.objects.filter(day__range=(start, end)).values("day").annotate(oldest=Min("computed_at"))
    return {row["day"]: row["oldest"] for row in rows.order_by()}


# Today's figures still move: recomputed when older than the 15-minute job's period.
TODAY_FRESH = dt.timedelta(minutes=15)


def rollups_compute_missing(*, start: dt.date, end: dt.date) -> list[RollupRun]:
    """Compute only what is not done yet in [start, end]: the days without rollups, the days
    computed before they ended (their figures were not final: a machine off overnight), and
    today when computed more than TODAY_FRESH ago. Consecutive days are computed as one range."""
    now = timezone.now()
    today = timezone.localdate(now)
    done = rollup_days_computed(start=start, end=end)

    def needed(day: dt.date) -> bool:
        if day not in done:
            return True
        if day >= today:
            return done[day] < now - TODAY_FRESH
        return done[day] < _day_start(day + dt.timedelta(days=1))

    wanted = [d for d in (start + dt.timedelta(days=i) for i in range((end - start).days + 1)) if needed(d)]
    runs: list[RollupRun] = []
    range_start = previous = None
    for day in wanted:
        if range_start is None:
            range_start = day
        elif day != previous + dt.timedelta(days=1):
            runs.append(rollups_compute(start=range_start, end=previous))
            range_start = day
        previous = day
    if range_start is not None:
        runs.append(rollups_compute(start=range_start, end=previous))
    return runs


def rollups_compute_today() -> RollupRun:
    today = timezone.localdate()
    return rollups_compute(start=today, end=today)


def rollups_compute_yesterday() -> RollupRun:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    return rollups_compute(start=yesterday, end=yesterday)
