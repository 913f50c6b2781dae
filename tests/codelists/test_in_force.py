"""Which version is in force: one answer, cached in each process, and forgotten by every process
as soon as a version is published (a notification on commit), never after a time-to-live."""

import threading
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codelists import in_force, lookups
from codelists.models import CodeSystemVersion, VersionStatus
from codelists.validation import code_validate
from tests.codelists import factories as cf
from tests.conftest import TRANSACTIONAL

ON = date(2026, 6, 1)


def _in_another_process_commit(work) -> None:
    """Run `work` on another database connection (another thread: its own session), committed."""
    failure = []

    def run():
        try:
            work()
        except Exception as exc:  # noqa: BLE001 — reported to the test below
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not failure, failure


@pytest.mark.django_db
def test_a_warm_lookup_asks_the_database_nothing(icd_v2):
    in_force.version_in_force("icd10", ON)
    lookups.names("icd10", ["A00"], on=ON)
    with CaptureQueriesContext(connection) as queries:
        assert in_force.version_in_force("icd10", ON).version_id == icd_v2.pk
        assert lookups.names("icd10", ["A00"], on=ON) == {"A00": "Bệnh tả"}
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_publish_in_this_process_is_seen_at_once(labs, ministry_editor, ministry_admin, second_admin):
    from codelists import services

    assert in_force.version_in_force("lab-indicator", ON).label == "2020"
    draft = services.draft_start(
        system=labs.system, acting_user=ministry_editor, label="2026", effective_from=date(2026, 1, 1)
    )
    services.version_submit(version=draft, acting_user=ministry_editor)
    services.version_publish(version=draft, acting_user=ministry_admin)
    assert in_force.version_in_force("lab-indicator", ON).label == "2026"


@TRANSACTIONAL
def test_a_publish_committed_by_another_process_is_seen_by_the_next_lookup():
    system = cf.system("icd10", max_code_length=7)
    first = cf.version(system, "v1", [("A00", "Bệnh tả")], effective_from=date(2020, 1, 1))
    assert in_force.version_in_force("icd10", ON).version_id == first.pk  # cached here now

    def publish_a_new_edition():
        CodeSystemVersion.objects.filter(pk=first.pk).update(
            status=VersionStatus.RETIRED, effective_to=date(2026, 1, 1)
        )
        cf.version(system, "v2", [("A00", "Bệnh tả (2026)")], effective_from=date(2026, 1, 1))

    _in_another_process_commit(publish_a_new_edition)
    ref = in_force.version_in_force("icd10", ON)
    assert ref.label == "v2"
    assert code_validate("icd10", "A00", ON).display_vi == "Bệnh tả (2026)"


@TRANSACTIONAL
def test_a_change_written_in_plain_sql_elsewhere_is_seen_too():
    system = cf.system("vaccine", max_code_length=16)
    version = cf.version(system, "v1", [("TCMR-BCG", "BCG")], effective_from=date(2020, 1, 1))
    assert in_force.version_in_force("vaccine", ON).version_id == version.pk

    def retire_in_sql():
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE codelists_codesystemversion SET status = 'retired', effective_to = '2026-01-01' WHERE id = %s",
                [version.pk],
            )

    _in_another_process_commit(retire_in_sql)
    assert in_force.version_in_force("vaccine", ON).version_id is None


@TRANSACTIONAL
def test_without_listen_the_cache_lives_one_request(settings, client):
    from django.core.signals import request_started

    settings.SSKDT_CODELISTS_LISTEN = False
    system = cf.system("visit-type", max_code_length=2)
    version = cf.version(system, "v1", [("01", "Khám bệnh")], effective_from=date(2020, 1, 1))
    in_force.version_in_force("visit-type", ON)
    with CaptureQueriesContext(connection) as queries:
        in_force.version_in_force("visit-type", ON)
    assert len(queries) == 0
    request_started.send(sender=None)
    with CaptureQueriesContext(connection) as queries:
        assert in_force.version_in_force("visit-type", ON).version_id == version.pk
    assert len(queries) == 1


@pytest.mark.django_db
def test_the_vaccination_schedule_is_read_once_per_version(vaccine_seed):
    doses = lookups.vaccination_schedule(ON)
    assert [(d.vaccine_code, d.position, d.dose) for d in doses if d.vaccine_code == "TCMR-DPT"] == [("TCMR-DPT", 1, 4)]
    with CaptureQueriesContext(connection) as queries:
        assert lookups.vaccination_schedule(ON) == doses
    assert len(queries) == 0


@pytest.mark.django_db
def test_code_groups_are_properties_of_the_list(icd):
    assert lookups.group_prefixes("icd10", "allergy") == ("Z88", "Z91.0", "T78.4", "T88.7", "L23", "J30")
    assert lookups.in_group("E11.9", lookups.group_prefixes("icd10", "chronic"))
    assert not lookups.in_group("J06", lookups.group_prefixes("icd10", "chronic"))
    assert lookups.group_prefixes("icd10", "no-such-group") == ()
    assert lookups.group_prefixes("no-such-list", "chronic") == ()


@pytest.fixture
def vaccine_seed(db):
    import csv
    import json

    from codelists.loading import SEED_DIR

    with (SEED_DIR / "vaccine.csv").open(encoding="utf-8") as handle:
        rows = [
            (r["code"], r["display_vi"], r["active"] == "1", json.loads(r["properties"] or "{}"))
            for r in csv.DictReader(handle)
        ]
    return cf.version(cf.system("vaccine", max_code_length=16), "seed", rows, effective_from=date(2020, 1, 1))
