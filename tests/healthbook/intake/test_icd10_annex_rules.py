"""Issue 17, point 4: the ICD-10 annex rules of QĐ 4469 the code list already carries (not as
the main diagnosis, one sex only, an age range) are applied at intake, as warnings by default and
configurable like every severity."""

from datetime import date

from healthbook.intake.problems import SeverityPolicy
from healthbook.intake.records import EncounterData, PartialDate, PatientData, VisitData
from healthbook.intake.validate import CodeUse, annex_problems

NEWBORN = {
    "annex": "A3.1",
    "min": {"value": 0, "unit": "day", "inclusive": True},
    "max": {"value": 365, "unit": "day", "inclusive": True},
}
POLICY = SeverityPolicy()


def _visit(sex: str, born: date, precision: str = "day") -> VisitData:
    return VisitData(
        encounter=EncounterData(source="xml130", facility_code="01001", key="LK1"),
        patient=PatientData(sex=sex, birth_date=PartialDate(born, precision)),
    )


def _codes(code, field, props, visit, on=date(2025, 3, 1), policy=POLICY):
    use = CodeUse(code, 0, "XML1", "LK1", field)
    return [(p.code, p.severity) for p in annex_problems(use, props, visit, on, policy)]


def test_not_as_main_diagnosis():
    props = {"not_main_diagnosis": True}
    adult = _visit("1", date(1980, 1, 1))
    assert _codes("B95.0", "MA_BENH_CHINH", props, adult) == [("ICD10_NOT_MAIN", "warning")]
    assert _codes("B95.0", "MA_BENH_KT", props, adult) == []


def test_not_as_main_diagnosis_of_a_fhir_encounter():
    """A FHIR Encounter's first reasonCode is its main diagnosis; the others are secondary."""
    props = {"not_main_diagnosis": True}
    adult = _visit("1", date(1980, 1, 1))
    main = CodeUse("B95.0", 0, "Encounter", "E1", "reasonCode", main=True)
    secondary = CodeUse("B95.0", 0, "Encounter", "E1", "reasonCode")
    assert [p.code for p in annex_problems(main, props, adult, date(2025, 3, 1), POLICY)] == ["ICD10_NOT_MAIN"]
    assert annex_problems(secondary, props, adult, date(2025, 3, 1), POLICY) == []


def test_sex_only_codes():
    assert _codes("N40", "MA_BENH_CHINH", {"sex": "M"}, _visit("2", date(1980, 1, 1))) == [("ICD10_SEX", "warning")]
    assert _codes("N40", "MA_BENH_CHINH", {"sex": "M"}, _visit("1", date(1980, 1, 1))) == []


def test_age_range_and_unknown_birth_day():
    props = {"age_restrictions": [NEWBORN]}
    assert _codes("P07.3", "MA_BENH_KT", props, _visit("1", date(2024, 12, 1))) == []
    assert _codes("P07.3", "MA_BENH_KT", props, _visit("1", date(1980, 1, 1))) == [("ICD10_AGE", "warning")]
    assert _codes("P07.3", "MA_BENH_KT", props, _visit("1", date(1980, 1, 1), "year")) == []  # year only


def test_severity_is_configurable():
    strict = SeverityPolicy(overrides={"ICD10_SEX": "error"})
    visit = _visit("2", date(1980, 1, 1))
    assert _codes("N40", "MA_BENH_CHINH", {"sex": "M"}, visit, policy=strict) == [("ICD10_SEX", "error")]
