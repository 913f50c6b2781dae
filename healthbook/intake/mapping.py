"""Map the rows of one XML 130 HOSO onto :mod:`records` (no validation here: xml130 did it).

XML1 -> encounter + patient; XML2 -> medications; XML3 -> services; XML4 -> lab results;
XML5 -> clinical notes; XML14 -> follow-up; XML7/8/9/11/13 -> documents; other tables
(XML0, XML6, XML10, XML12, XML15) are kept in ``other_tables`` as received. A HOSO holding only
the check-in table XML0 is a check-in (:func:`checkin_from_hoso`).  Values that
failed their date check map to None (the problem is already recorded).
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from healthbook.identifiers import parse_xml130_date

from .records import (
    CheckInData,
    ClinicalNoteData,
    DocumentData,
    EncounterData,
    FollowUpData,
    LabResultData,
    MedicationData,
    PartialDate,
    PatientData,
    ServiceData,
    VisitData,
)
from .xml130 import MAPPED_TABLES, HoSoTables

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

DOCUMENT_KINDS = {
    "XML7": ("discharge", "SO_LUU_TRU", "NGAY_CT"),
    "XML8": ("record_summary", None, "NGAY_CT"),
    "XML9": ("birth", "SO", "NGAY_CT"),
    "XML11": ("sick_leave", "SO_SERI", "NGAY_CT"),
    "XML13": ("referral", "GIAY_CHUYEN_TUYEN", None),
}


@lru_cache(maxsize=65536)
def xml_date(value: str | None, *, partial: bool = False) -> PartialDate | None:
    """yyyyMMdd or yyyyMMddHHmm -> PartialDate (None when absent or invalid)."""
    if not value:
        return None
    parsed = parse_xml130_date(value[:8], allow_partial=partial)
    if isinstance(parsed, list):
        return None
    return PartialDate(parsed.value, parsed.precision)


@lru_cache(maxsize=65536)
def xml_datetime(value: str | None) -> datetime | None:
    """yyyyMMddHHmm (local time) -> aware datetime; yyyyMMdd -> midnight; invalid -> None."""
    if not value or len(value) not in (8, 12) or not value.isdigit():
        return None
    d = xml_date(value)
    if d is None or d.precision != "day":
        return None
    hh, mi = (int(value[8:10]), int(value[10:12])) if len(value) == 12 else (0, 0)
    if hh > 23 or mi > 59:
        return None
    return datetime.combine(d.value, time(hh, mi), tzinfo=VN_TZ)


def split(value: str | None) -> list[str]:
    """';'-separated multi-value field -> list of non-empty stripped parts."""
    if not value:
        return []
    return [p.strip() for p in value.split(";") if p.strip()]


def patient_from_xml1(r: dict) -> PatientData:
    cards = split(r.get("MA_THE_BHYT"))
    sin = None
    for card in cards:
        tail = card[-10:]
        if len(card) in (10, 15) and tail.isdigit():
            sin = tail
            break
    birth = r.get("NGAY_SINH")
    return PatientData(
        facility_patient_id=r.get("MA_BN"),
        full_name=r.get("HO_TEN"),
        personal_id=r.get("SO_CCCD"),
        social_insurance_number=sin,
        card_numbers=cards,
        birth_date=xml_date(birth, partial=True),
        birth_time=birth[8:12] if birth and len(birth) == 12 else None,
        sex=r.get("GIOI_TINH"),
        address=r.get("DIA_CHI"),
        phone=r.get("DIEN_THOAI"),
        nationality=r.get("MA_QUOCTICH"),
        ethnicity=r.get("MA_DANTOC"),
        occupation=r.get("MA_NGHE_NGHIEP"),
        province_code=r.get("MATINH_CU_TRU"),
        commune_code=r.get("MAXA_CU_TRU"),
    )


def encounter_from_xml1(r: dict, facility_code: str | None) -> EncounterData:
    return EncounterData(
        source="xml130",
        facility_code=r.get("MA_CSKCB") or facility_code,
        key=r["MA_LK"],
        visit_type=r.get("MA_LOAI_KCB"),
        admitted_at=xml_datetime(r.get("NGAY_VAO")),
        inpatient_at=xml_datetime(r.get("NGAY_VAO_NOI_TRU")),
        discharged_at=xml_datetime(r.get("NGAY_RA")),
        main_diagnosis=r.get("MA_BENH_CHINH"),
        secondary_diagnoses=split(r.get("MA_BENH_KT")),
        traditional_diagnoses=split(r.get("MA_BENH_YHCT")),
        procedures=split(r.get("MA_PTTT_QT")),
        diagnosis_text_admission=r.get("CHAN_DOAN_VAO"),
        diagnosis_text_discharge=r.get("CHAN_DOAN_RV"),
        result=r.get("KET_QUA_DTRI"),
        discharge_type=r.get("MA_LOAI_RV"),
        departments=split(r.get("MA_KHOA")),
        follow_up_dates=[d for d in (xml_date(p) for p in split(r.get("NGAY_TAI_KHAM"))) if d],
        referred_from=r.get("MA_NOI_DI"),
        referred_to=r.get("MA_NOI_DEN"),
        record_number=r.get("MA_HSBA"),
        visit_object=r.get("MA_DOITUONG_KCB"),
        weight_kg=r.get("CAN_NANG"),
        treatment_days=r.get("SO_NGAY_DTRI"),
        note=r.get("GHI_CHU"),
        reason_for_visit=r.get("LY_DO_VV"),
        treatment_method=r.get("PP_DIEU_TRI"),
        blood_group=r.get("NHOM_MAU"),
    )


def visit_from_hoso(t: HoSoTables, *, facility_code: str | None) -> VisitData | None:
    """Map one parsed HOSO; None when it has no usable XML1 (already a problem)."""
    xml1 = t.tables.get("XML1") or []
    if len(xml1) != 1 or not xml1[0].get("MA_LK"):
        return None
    head = xml1[0]
    v = VisitData(encounter=encounter_from_xml1(head, facility_code), patient=patient_from_xml1(head))
    for r in t.tables.get("XML2", ()):
        v.medications.append(
            MedicationData(
                seq=r.get("STT"),
                code=r.get("MA_THUOC"),
                name=r.get("TEN_THUOC"),
                unit=r.get("DON_VI_TINH"),
                strength=r.get("HAM_LUONG"),
                route=r.get("DUONG_DUNG"),
                form=r.get("DANG_BAO_CHE"),
                dosage=r.get("LIEU_DUNG"),
                usage=r.get("CACH_DUNG"),
                quantity=r.get("SO_LUONG"),
                registration_no=r.get("SO_DANG_KY"),
                ordered_at=xml_datetime(r.get("NGAY_YL")),
                executed_at=xml_datetime(r.get("NGAY_TH_YL")),
                prescriber=r.get("MA_BAC_SI"),
            )
        )
    for r in t.tables.get("XML3", ()):
        v.services.append(
            ServiceData(
                seq=r.get("STT"),
                code=r.get("MA_DICH_VU"),
                name=r.get("TEN_DICH_VU") or r.get("TEN_VAT_TU"),
                group=r.get("MA_NHOM"),
                procedure_code=r.get("MA_PTTT_QT"),
                supply_code=r.get("MA_VAT_TU"),
                quantity=r.get("SO_LUONG"),
                ordered_at=xml_datetime(r.get("NGAY_YL")),
                performed_at=xml_datetime(r.get("NGAY_TH_YL")),
                resulted_at=xml_datetime(r.get("NGAY_KQ")),
                department=r.get("MA_KHOA"),
                performer=r.get("NGUOI_THUC_HIEN"),  # QĐ 4750 Bảng 3: who performed the service
                ordered_by=r.get("MA_BAC_SI"),  # who examined and ordered it
            )
        )
    for r in t.tables.get("XML4", ()):
        v.lab_results.append(
            LabResultData(
                seq=r.get("STT"),
                service_code=r.get("MA_DICH_VU"),
                indicator_code=r.get("MA_CHI_SO"),
                indicator_name=r.get("TEN_CHI_SO"),
                value=r.get("GIA_TRI"),
                unit=r.get("DON_VI_DO"),
                description=r.get("MO_TA"),
                conclusion=r.get("KET_LUAN"),
                resulted_at=xml_datetime(r.get("NGAY_KQ")),
                reader=r.get("MA_BS_DOC_KQ"),
            )
        )
    for r in t.tables.get("XML5", ()):
        v.notes.append(
            ClinicalNoteData(
                seq=r.get("STT"),
                text=r.get("DIEN_BIEN_LS"),
                stage=r.get("GIAI_DOAN_BENH"),
                consultation=r.get("HOI_CHAN"),
                surgery=r.get("PHAU_THUAT"),
                at=xml_datetime(r.get("THOI_DIEM_DBLS")),
                author=r.get("NGUOI_THUC_HIEN"),
            )
        )
    for r in t.tables.get("XML14", ()):
        hen = r.get("NGAY_HEN_KL")
        v.follow_ups.append(
            FollowUpData(
                slip_number=r.get("SO_GIAYHEN_KL"),
                appointment_at=xml_datetime(hen) if hen and len(hen) == 12 else None,
                appointment_date=xml_date(hen),
                diagnosis=r.get("CHAN_DOAN_RV"),
                main_diagnosis=r.get("MA_BENH_CHINH"),
                doctor=r.get("MA_BAC_SI"),
                issued_on=xml_date(r.get("NGAY_CT")),
                facility_code=r.get("MA_CSKCB"),
            )
        )
    for kind_key, (kind, number_field, date_field) in DOCUMENT_KINDS.items():
        for r in t.tables.get(kind_key, ()):
            v.documents.append(
                DocumentData(
                    kind=kind,
                    number=r.get(number_field) if number_field else None,
                    issued_on=xml_date(r.get(date_field)) if date_field else None,
                    fields=dict(r),
                )
            )
    for kind_key, rows in t.tables.items():
        if kind_key not in MAPPED_TABLES:
            v.other_tables[kind_key] = rows
    v.problems = list(t.problems)
    return v


#: The times of a check-in row (XML0): arrival, inpatient admission, the orders given since.
CHECKIN_TIME_FIELDS = ("NGAY_VAO", "NGAY_VAO_NOI_TRU", "NGAY_YL")


def checkin_from_hoso(t: HoSoTables) -> CheckInData | None:
    """Map a check-in HOSO (XML0 only); None when it has no usable row (already a problem)."""
    rows = t.tables.get("XML0") or []
    if not rows or not t.ma_lk:
        return None
    head = rows[0]
    times = [(name, at) for r in rows for name in CHECKIN_TIME_FIELDS if (at := xml_datetime(r.get(name))) is not None]
    arrivals = [at for name, at in times if name == "NGAY_VAO"]
    return CheckInData(
        source="xml130",
        key=t.ma_lk,
        patient=patient_from_xml1(head),  # XML0 carries the patient fields of XML1, by the same names
        checked_in_at=min(arrivals) if arrivals else None,
        times=times,
        visit_type=head.get("MA_LOAI_KCB"),
        facility_code=head.get("MA_CSKCB"),
    )
