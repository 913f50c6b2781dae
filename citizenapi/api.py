"""The citizen API's reads: one view per resource, each opening the token's book through
`citizen_book_open` (one access-log entry, the citizen's own read) and answering from the
book's selectors (healthbook.book: selectors, header, record) in a fixed number of queries.

Language: Vietnamese unless the platform asks for English (`Accept-Language: en`).
"""

from __future__ import annotations

from django.http import FileResponse
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accesslog.selectors import citizen_access_log
from citizenapi import serializers as s
from citizenapi.access import citizen_book_open
from citizenapi.auth import CitizenTokenMixin
from codelists import lookups
from core.api import ApiError
from core.privacy import mask_id
from healthbook.book import header, record, selectors
from healthbook.models import Encounter

LAST_VISITS = 5
VISITS_PAGE = 20
ACCEPT_LANGUAGE = OpenApiParameter(
    "Accept-Language", str, OpenApiParameter.HEADER, required=False, enum=["vi", "en"], description="vi by default"
)
REFUSED = {
    401: OpenApiResponse(
        description="The citizen token is refused; `code` says why (docs/citizen-api.md).",
        examples=[
            OpenApiExample(
                "expired",
                value={"code": "token_expired", "message": "Mã xác thực công dân đã hết hạn…", "details": {}},
            )
        ],
    ),
}


def _page(request) -> int:
    try:
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        page = 0
    if page < 1 or page > 10_000:
        raise ApiError("invalid_page", _("page must be a positive number."))
    return page


class CitizenApiView(CitizenTokenMixin, APIView):
    """A read of the token's book. The language follows Accept-Language (the portal's pages
    ignore it; the platform states the app's language)."""

    def initial(self, request, *args, **kwargs):
        language = translation.get_language_from_request(request._request)
        translation.activate(language)
        request._request.LANGUAGE_CODE = language
        super().initial(request, *args, **kwargs)


def _facility(f) -> dict | None:
    return {"code": f.code, "name": f.name} if f is not None else None


class SummaryApi(CitizenApiView):
    """The book at a glance: who, the insurance card, chronic conditions, allergies, active
    problems, alerts and the last visits."""

    @extend_schema(
        operation_id="citizen_summary",
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.SummarySerializer, **REFUSED},
        examples=[
            OpenApiExample(
                "summary",
                response_only=True,
                value={
                    "citizen": {
                        "full_name": "Nguyễn Văn Bệnh",
                        "birth_date": "1980-05-17",
                        "sex": 1,
                        "sex_label": "Nam",
                        "personal_id_masked": "•••••••••001",
                        "residence_province": "Thành phố Hà Nội",
                    },
                    "card": {
                        "status": "valid",
                        "status_label": "Còn hạn",
                        "number": "GD4010100000001",
                        "valid_from": "2026-01-01",
                        "valid_to": "2026-12-31",
                        "primary_care": {"code": "01001", "name": "Trạm Y tế phường Ba Đình"},
                    },
                    "age": 46,
                    "chronic_conditions": [{"code": "I10", "name": "Tăng huyết áp vô căn (nguyên phát)"}],
                    "allergies": [{"code": "Z88.0", "name": "Tiền sử dị ứng penicilin"}],
                    "active_problems": [],
                    "missed_follow_ups": 0,
                    "overdue_vaccines": [],
                    "last_visits": [
                        {
                            "at": "2026-11-20T08:30:00+07:00",
                            "facility": {"code": "01001", "name": "Trạm Y tế phường Ba Đình"},
                            "visit_type": "Khám bệnh",
                            "main_diagnosis": {"code": "I10", "name": "Tăng huyết áp vô căn (nguyên phát)"},
                        }
                    ],
                    "acting": {"acting_for_child": False, "relationship": None},
                },
            )
        ],
    )
    def get(self, request):
        access = citizen_book_open(request, viewed="book")
        citizen = access.citizen
        head = header.book_header(access)
        facts = head.facts
        visits = list(
            Encounter.objects.filter(book=access.book)
            .select_related("facility")
            .only("occurred_at", "visit_type", "main_diagnosis", "facility__code", "facility__name")
            .order_by("-occurred_at", "-id")[:LAST_VISITS]
        )
        icd = lookups.names("icd10", {v.main_diagnosis for v in visits})
        types = lookups.names("visit-type", {v.visit_type for v in visits})
        card = getattr(citizen, "card", None) if head.card_status != "none" else None
        citizen.personal_id_masked = mask_id(citizen.personal_id)
        context = request.auth
        data = {
            "citizen": citizen,
            "card": {
                "status": head.card_status,
                "status_label": str(s.CARD_STATUS[head.card_status]),
                "number": card.card_number if card else None,
                "valid_from": card.valid_from if card else None,
                "valid_to": card.valid_to if card else None,
                "primary_care": _facility(head.primary_care),
            },
            "age": head.age,
            "chronic_conditions": s.coded(facts.chronic),
            "allergies": s.coded(facts.allergies),
            "active_problems": s.coded(facts.problems),
            "missed_follow_ups": facts.missed_follow_ups,
            "overdue_vaccines": facts.overdue_vaccines,
            "last_visits": [
                {
                    "occurred_at": v.occurred_at,
                    "facility": v.facility,
                    "visit_type": types.get(v.visit_type, v.visit_type),
                    "main_diagnosis": {"code": v.main_diagnosis, "name": icd.get(v.main_diagnosis, "")},
                }
                for v in visits
            ],
            "acting": {"acting_for_child": context.acting_for_child, "relationship": context.relationship},
        }
        return Response(s.SummarySerializer(data).data)


class VisitsApi(CitizenApiView):
    """Visits across facilities, newest first, 20 a page (`?page=`), with diagnoses (named),
    drugs, lab results and follow-up dates."""

    @extend_schema(
        operation_id="citizen_visits",
        parameters=[ACCEPT_LANGUAGE, OpenApiParameter("page", int)],
        responses={200: s.VisitPageSerializer, **REFUSED},
    )
    def get(self, request):
        page = _page(request)
        access = citizen_book_open(request, viewed=f"history:p{page}")
        visits, more = selectors.encounters_page(access.book, page=page, count=VISITS_PAGE, papers=False)
        icd = lookups.names("icd10", {c for v in visits for c in [v.main_diagnosis, *v.secondary_diagnoses]})
        types = lookups.names("visit-type", {v.visit_type for v in visits})
        record.name_labs([lab for v in visits for lab in v.labobservations.all()])
        for v in visits:
            v.visit_type = types.get(v.visit_type, v.visit_type)
        body = {"page": page, "next_page": page + 1 if more else None, "visits": visits}
        return Response(s.VisitPageSerializer(body, context={"icd": icd}).data)


def _trend(points: list[dict]) -> str:
    numbers = [p["y"] for p in points if p["y"] is not None]
    if len(numbers) < 2:
        return "unknown"
    last, before = numbers[-1], numbers[-2]
    if abs(last - before) <= abs(before) * 0.05:
        return "steady"
    return "up" if last > before else "down"


class LabsApi(CitizenApiView):
    """The lab indicators measured in the book (name, count, last date, results out of range);
    each indicator's results over time at labs/<code>/."""

    @extend_schema(operation_id="citizen_labs", parameters=[ACCEPT_LANGUAGE], responses={200: s.LabListSerializer})
    def get(self, request):
        access = citizen_book_open(request, viewed="labs")
        return Response(s.LabListSerializer({"indicators": selectors.lab_indicators(access)}).data)


class LabSeriesApi(CitizenApiView):
    """One indicator over time (oldest first, at most 500 results) and its trend: the last
    result against the one before (up, down, steady within 5 %)."""

    @extend_schema(
        operation_id="citizen_lab_series",
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.LabSeriesSerializer, **REFUSED},
        examples=[
            OpenApiExample(
                "glucose",
                response_only=True,
                value={
                    "code": "GLU",
                    "name": "Glucose máu",
                    "unit": "mmol/L",
                    "trend": "down",
                    "points": [{"t": "2026-09-01", "y": 7.9, "flag": "H"}, {"t": "2026-11-20", "y": 6.1, "flag": ""}],
                    "results": [],
                },
            )
        ],
    )
    def get(self, request, code):
        access = citizen_book_open(request, viewed=f"lab:{code[:50]}")
        series = selectors.lab_series(access, code[:255])
        if not series["rows"]:
            raise ApiError("not_found", _("No results for this indicator in the book."), status_code=404)
        series["trend"] = _trend(series["points"])
        return Response(s.LabSeriesSerializer(series).data)


class VaccinationsApi(CitizenApiView):
    """Vaccinations given and, for a child under 6, each dose of the national schedule: given,
    due (within a month), overdue or later."""

    @extend_schema(
        operation_id="citizen_vaccinations",
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.VaccinationSerializer},
        examples=[
            OpenApiExample(
                "a child of 3",
                response_only=True,
                value={
                    "given": [
                        {
                            "vaccine": "TCMR-BCG",
                            "name": "Vắc xin phòng lao (BCG)",
                            "date": "2023-06-02",
                            "dose": "1",
                            "lot": "",
                            "facility": {"code": "01001", "name": "Trạm Y tế phường Ba Đình"},
                        }
                    ],
                    "schedule": [
                        {
                            "code": "TCMR-SOI",
                            "name": "Vắc xin sởi",
                            "dose": "1",
                            "due": "2024-03-02",
                            "state": "overdue",
                            "state_label": "Quá hạn",
                            "note": "",
                        }
                    ],
                    "child": True,
                },
            )
        ],
    )
    def get(self, request):
        access = citizen_book_open(request, viewed="vaccinations")
        data = header.vaccination_record(access)
        for row in data["rows"]:
            row["state_label"] = str(s.DOSE_STATES[row["state"]])
        return Response(s.VaccinationSerializer(data).data)


class PrescriptionsApi(CitizenApiView):
    """Prescriptions, newest first, 20 a page (`?page=`): the drugs of a visit or of a national
    e-prescription."""

    @extend_schema(
        operation_id="citizen_prescriptions",
        parameters=[ACCEPT_LANGUAGE, OpenApiParameter("page", int)],
        responses={200: s.PrescriptionPageSerializer},
    )
    def get(self, request):
        page = _page(request)
        access = citizen_book_open(request, viewed=f"prescriptions:p{page}")
        rows, more = selectors.prescriptions(access, page=page)
        body = {"page": page, "next_page": page + 1 if more else None, "prescriptions": rows}
        return Response(s.PrescriptionPageSerializer(body).data)


class FollowUpsApi(CitizenApiView):
    """Follow-up appointments: upcoming, missed (date passed by more than a week with no visit
    since) and past."""

    @extend_schema(
        operation_id="citizen_follow_ups", parameters=[ACCEPT_LANGUAGE], responses={200: s.FollowUpListSerializer}
    )
    def get(self, request):
        access = citizen_book_open(request, viewed="follow-ups")
        return Response(s.FollowUpListSerializer(selectors.follow_ups(access)).data)


class PregnanciesApi(CitizenApiView):
    """Pregnancy check-ups, one timeline per pregnancy, newest pregnancy first."""

    @extend_schema(
        operation_id="citizen_pregnancies", parameters=[ACCEPT_LANGUAGE], responses={200: s.PregnancyListSerializer}
    )
    def get(self, request):
        access = citizen_book_open(request, viewed="pregnancies")
        return Response(s.PregnancyListSerializer({"pregnancies": selectors.pregnancies(access)}).data)


class CertificatesApi(CitizenApiView):
    """The certificates and papers of the book (birth, sick leave, discharge, referral, death
    notice, driver health), newest first, with their signature status."""

    @extend_schema(
        operation_id="citizen_certificates",
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.CertificateListSerializer},
    )
    def get(self, request):
        access = citizen_book_open(request, viewed="certificates")
        return Response(s.CertificateListSerializer({"certificates": selectors.certificates(access)}).data)


class CertificateApi(CitizenApiView):
    """One certificate: every field as the facility sent it, its signature, and whether a
    stored file (PDF) can be downloaded at file/."""

    @extend_schema(
        operation_id="citizen_certificate",
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.CertificateDetailSerializer, **REFUSED},
    )
    def get(self, request, kind, cert_id):
        access = citizen_book_open(request, viewed=f"certificate:{kind[:20]}:{cert_id}")
        data = record.certificate(access, kind, cert_id)
        if data is None:
            raise ApiError("not_found", _("No such certificate in this book."), status_code=404)
        return Response(s.CertificateDetailSerializer(data).data)


class CertificateFileApi(CitizenApiView):
    """The stored file of a certificate (a signed PDF, downloaded as sent)."""

    @extend_schema(
        operation_id="citizen_certificate_file",
        responses={(200, "application/pdf"): OpenApiResponse(description="the stored PDF"), **REFUSED},
    )
    def get(self, request, kind, cert_id):
        access = citizen_book_open(request, viewed=f"certificate-file:{kind[:20]}:{cert_id}")
        stored = (
            record.certificate_file(access, kind, cert_id) if kind not in dict(selectors.CERTIFICATE_MODELS) else None
        )
        if stored is None:
            raise ApiError("no_file", _("This certificate has no stored file."), status_code=404)
        content, content_type, name = stored
        response = FileResponse(iter([content]), content_type=content_type, as_attachment=True, filename=name)
        response["Content-Length"] = str(len(content))
        return response


class AccessLogApi(CitizenApiView):
    """Who read the book, when and why: people and software apart, in plain words (the citizen's
    own reads are not listed)."""

    @extend_schema(
        operation_id="citizen_access_log",
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.AccessLogSerializer},
        examples=[
            OpenApiExample(
                "who read the book",
                response_only=True,
                value={
                    "people": [
                        {
                            "at": "2026-11-20T01:35:00Z",
                            "text": "Lê Thị Hoa tại Trạm Y tế phường Ba Đình đã xem sổ sức khỏe lúc 20/11/2026 08:35",
                            "who": "Lê Thị Hoa",
                            "role": "doctor",
                            "facility": "Trạm Y tế phường Ba Đình",
                            "viewed": "sổ sức khỏe",
                            "purpose": "TREAT",
                            "emergency": False,
                            "allowed": True,
                        }
                    ],
                    "machines": [],
                },
            )
        ],
    )
    def get(self, request):
        access = citizen_book_open(request, viewed="access-log")
        return Response(s.AccessLogSerializer(citizen_access_log(access.citizen.pk)).data)


# One tag for the whole citizen API in the schema (the views' own extend_schema adds the rest).
for _view in (
    SummaryApi,
    VisitsApi,
    LabsApi,
    LabSeriesApi,
    VaccinationsApi,
    PrescriptionsApi,
    FollowUpsApi,
    PregnanciesApi,
    CertificatesApi,
    CertificateApi,
    CertificateFileApi,
    AccessLogApi,
):
    extend_schema(tags=["citizen"])(_view)
