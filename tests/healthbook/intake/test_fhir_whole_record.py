"""Issue 17, point 1: a FHIR bundle holding the whole clinical record is accepted and kept.
Until then the intake refused the whole bundle on Condition, AllergyIntolerance, Procedure,
DiagnosticReport, MedicationStatement (FHIR_UNSUPPORTED_RESOURCE, an error) and ignored lab
Observations with a warning (FHIR_OBSERVATION_UNKNOWN)."""

import pytest

from healthbook.intake.fhir_bundle import read_bundle
from healthbook.intake.jws import sign_detached
from healthbook.models import (
    Allergy,
    ClinicalProcedure,
    Condition,
    DiagnosticReport,
    Encounter,
    LabObservation,
    Medication,
    ReceivedTable,
)

from .conftest import FACILITY, process
from .whole_record import bundle


def test_every_resource_of_the_record_is_read_and_only_the_unmapped_one_warned():
    r = read_bundle(bundle(), facility_code=FACILITY)
    assert [(p.code, p.table, p.severity) for p in r.problems] == [
        ("FHIR_UNSUPPORTED_RESOURCE", "FamilyMemberHistory", "warning")
    ]
    (visit, loose) = r.visits
    assert visit.encounter.key == "LK17-1" and loose.encounter is None
    assert [c.code for c in visit.conditions] == ["J06"] and [c.code for c in loose.conditions] == ["E11"]
    assert [(a.code, a.display) for a in loose.allergies] == [
        ("91936005", "Penicillin"),
        ("40.1", None),
        (None, "Tôm cua"),
    ]
    assert [p.code for p in visit.procedures] == ["89.52"] and visit.procedures[0].performer == "BS. Phạm Văn Thực"
    assert [(lab.indicator_code, lab.category, lab.report_id) for lab in visit.lab_results] == [
        ("GLU", "laboratory", "rep-1"),
        ("4548-4", "laboratory", "rep-1"),
        ("8867-4", "vital-signs", None),
    ]
    assert {(m.kind, m.code) for m in visit.medications + loose.medications} == {
        ("dispense", "40.3"),
        ("statement", "40.2"),
        ("request", "40.4"),
    }
    assert loose.received_resources[0]["resourceType"] == "FamilyMemberHistory"


def _send(sender, pki, body):
    jws = sign_detached(body, pki["valid"].key, kid=FACILITY)
    return process(sender.post(body, "application/fhir+json", **{"X-Signature": jws}))


@pytest.mark.django_db
def test_the_whole_record_lands_in_the_book_once(sender, pki, intake_codelists):
    sub = _send(sender, pki, bundle())
    assert sub.error_count == 0, list(sub.problems.values_list("code", "table", "field"))
    assert sub.status == "accepted_with_warnings"
    enc = Encounter.objects.get()
    assert set(Condition.objects.values_list("code", "encounter")) == {("E11", None), ("J06", enc.pk)}
    assert Allergy.objects.filter(encounter=None).count() == 3
    proc = ClinicalProcedure.objects.get()
    assert (proc.code, proc.encounter_id, proc.performer) == ("89.52", enc.pk, "BS. Phạm Văn Thực")
    report = DiagnosticReport.objects.get()
    labs = LabObservation.objects.filter(report_key=report.source_key).order_by("id")
    assert [(lab.indicator_code, lab.code_system, lab.abnormal_flag) for lab in labs] == [
        ("GLU", "lab-indicator", "H"),
        ("4548-4", "http://loinc.org", ""),
    ]
    assert labs[0].reference_range == "3.9–6.4"
    assert LabObservation.objects.get(category="vital-signs").value == "82"
    assert set(Medication.objects.values_list("kind", "code")) == {
        ("statement", "40.2"),
        ("dispense", "40.3"),
        ("request", "40.4"),
    }
    kept = ReceivedTable.objects.get()
    assert kept.table == "FamilyMemberHistory" and kept.rows[0]["id"] == "fmh-1"

    counts = [m.objects.count() for m in (Condition, Allergy, ClinicalProcedure, DiagnosticReport, LabObservation)]
    again = _send(sender, pki, bundle())  # the same bundle twice: nothing doubles
    assert again.error_count == 0
    assert [m.objects.count() for m in (Condition, Allergy, ClinicalProcedure, DiagnosticReport, LabObservation)] == (
        counts
    )
    assert ReceivedTable.objects.count() == 1 and Medication.objects.count() == 3


@pytest.mark.django_db
def test_unmapped_resources_are_accepted_with_a_warning_and_kept(sender, pki, intake_codelists):
    from .conftest import HOSTILE

    sub = _send(sender, pki, (HOSTILE.parent / "fhir" / "unmapped_resources.json").read_bytes())
    assert sub.status == "accepted_with_warnings"
    assert set(sub.problems.values_list("code", "severity", "table")) >= {
        ("FHIR_UNSUPPORTED_RESOURCE", "warning", "Claim"),
        ("FHIR_UNSUPPORTED_RESOURCE", "warning", "Practitioner"),
    }
    assert set(ReceivedTable.objects.values_list("table", flat=True)) == {"Claim", "Practitioner"}


@pytest.mark.django_db
def test_unmapped_resources_can_still_be_refused_by_the_severity_table(sender, pki, intake_codelists, settings):
    from .conftest import HOSTILE

    settings.INTAKE_SEVERITY_OVERRIDES = {"FHIR_UNSUPPORTED_RESOURCE": "error"}
    sub = _send(sender, pki, (HOSTILE.parent / "fhir" / "unmapped_resources.json").read_bytes())
    assert sub.status == "rejected" and not ReceivedTable.objects.exists()
