"""What the citizen API answers: serializers over the rows the book's selectors return (they
also give the OpenAPI schema). Dates are ISO 8601 (the app shows them dd/mm/yyyy), times carry
the UTC offset; `*_label` fields are in the request's language (Accept-Language)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

CERTIFICATE_KINDS = {
    "birth": _("Birth certificate"),
    "sick_leave": _("Sick-leave certificate"),
    "discharge": _("Discharge paper"),
    "referral": _("Referral"),
    "death_notice": _("Death notice"),
    "driver_health": _("Driver health certificate"),
}
CARD_STATUS = {
    "valid": pgettext_lazy("insurance card", "Valid"),
    "expired": pgettext_lazy("insurance card", "Expired"),
    "none": _("No card on file"),
}
DOSE_STATES = {
    "given": pgettext_lazy("vaccine dose", "Given"),
    "due": pgettext_lazy("vaccine dose", "Due"),
    "overdue": pgettext_lazy("vaccine dose", "Overdue"),
    "later": pgettext_lazy("vaccine dose", "Later"),
}


class FacilityRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CodedSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


def coded(pairs) -> list[dict]:
    return [{"code": code, "name": name} for code, name in pairs]


class CitizenSerializer(serializers.Serializer):
    full_name = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    sex = serializers.IntegerField(allow_null=True)
    sex_label = serializers.CharField(source="get_sex_display", allow_null=True)
    personal_id_masked = serializers.CharField()
    residence_province = serializers.CharField(source="residence_province.name", allow_null=True, default=None)


class CardSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=list(CARD_STATUS))
    status_label = serializers.CharField()
    number = serializers.CharField(allow_null=True)
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)
    primary_care = FacilityRefSerializer(allow_null=True)


class VisitBriefSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="occurred_at")
    facility = FacilityRefSerializer()
    visit_type = serializers.CharField()
    main_diagnosis = CodedSerializer()


class ActingSerializer(serializers.Serializer):
    acting_for_child = serializers.BooleanField()
    relationship = serializers.CharField(allow_null=True)


class SummarySerializer(serializers.Serializer):
    citizen = CitizenSerializer()
    card = CardSerializer()
    age = serializers.IntegerField(allow_null=True)
    chronic_conditions = CodedSerializer(many=True)
    allergies = CodedSerializer(many=True)
    active_problems = CodedSerializer(many=True)
    missed_follow_ups = serializers.IntegerField()
    overdue_vaccines = serializers.ListField(child=serializers.CharField())
    last_visits = VisitBriefSerializer(many=True)
    acting = ActingSerializer()


class MedicationSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    strength = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    usage = serializers.SerializerMethodField()
    at = serializers.DateTimeField(source="occurred_at", allow_null=True)

    def get_usage(self, m) -> str:
        return m.usage or m.dosage


class LabResultSerializer(serializers.Serializer):
    indicator = serializers.CharField(source="indicator_code")
    name = serializers.SerializerMethodField()
    value = serializers.CharField()
    unit = serializers.CharField()
    reference_range = serializers.CharField()
    abnormal_flag = serializers.CharField()
    at = serializers.DateTimeField(source="occurred_at", allow_null=True)

    def get_name(self, lab) -> str:
        return getattr(lab, "display_name", "") or lab.indicator_name or lab.indicator_code


class FollowUpSerializer(serializers.Serializer):
    date = serializers.DateField(source="appointment_date", allow_null=True)
    at = serializers.DateTimeField(source="appointment_at", allow_null=True)
    description = serializers.SerializerMethodField()
    facility = FacilityRefSerializer(allow_null=True)

    def get_description(self, f) -> str:
        return f.description or f.diagnosis


class VisitSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="occurred_at")
    facility = FacilityRefSerializer()
    visit_type = serializers.CharField()
    admitted_at = serializers.DateTimeField(allow_null=True)
    discharged_at = serializers.DateTimeField(allow_null=True)
    diagnoses = serializers.SerializerMethodField()
    reason_for_visit = serializers.CharField()
    treatment_method = serializers.CharField()
    medications = MedicationSerializer(many=True, source="medications.all")
    lab_results = LabResultSerializer(many=True, source="labobservations.all")
    follow_ups = FollowUpSerializer(many=True, source="followupappointments.all")

    @extend_schema_field(
        serializers.ListField(child=serializers.DictField())  # {code, name, main}
    )
    def get_diagnoses(self, e) -> list[dict]:
        icd = self.context["icd"]
        codes = [e.main_diagnosis, *e.secondary_diagnoses]
        return [{"code": c, "name": icd.get(c, ""), "main": i == 0} for i, c in enumerate(codes) if c]


class PageSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)


class VisitPageSerializer(PageSerializer):
    visits = VisitSerializer(many=True)


class LabIndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    last = serializers.DateTimeField()
    flagged = serializers.IntegerField()


class LabListSerializer(serializers.Serializer):
    indicators = LabIndicatorSerializer(many=True)


class LabPointSerializer(serializers.Serializer):
    t = serializers.DateField()
    y = serializers.FloatField(allow_null=True)
    flag = serializers.CharField()


class LabSeriesSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    trend = serializers.ChoiceField(choices=["up", "down", "steady", "unknown"])
    points = LabPointSerializer(many=True)
    results = LabResultSerializer(many=True, source="rows")


class ImmunizationSerializer(serializers.Serializer):
    vaccine = serializers.CharField(source="vaccine_code")
    name = serializers.CharField(source="display_name")
    date = serializers.DateField(source="occurred_on", allow_null=True)
    dose = serializers.CharField(source="dose_number")
    lot = serializers.CharField(source="lot_number")
    facility = FacilityRefSerializer(allow_null=True)


class ScheduledDoseSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    dose = serializers.CharField()
    due = serializers.DateField()
    state = serializers.ChoiceField(choices=list(DOSE_STATES))
    state_label = serializers.CharField()
    note = serializers.CharField(allow_blank=True, allow_null=True)


class VaccinationSerializer(serializers.Serializer):
    given = ImmunizationSerializer(many=True)
    schedule = ScheduledDoseSerializer(many=True, source="rows")
    child = serializers.BooleanField()


class PrescriptionSerializer(serializers.Serializer):
    at = serializers.DateTimeField(allow_null=True)
    code = serializers.CharField()
    facility = FacilityRefSerializer(allow_null=True)
    drugs = MedicationSerializer(many=True)


class PrescriptionPageSerializer(PageSerializer):
    prescriptions = PrescriptionSerializer(many=True)


class FollowUpListSerializer(serializers.Serializer):
    upcoming = FollowUpSerializer(many=True)
    missed = FollowUpSerializer(many=True)
    past = FollowUpSerializer(many=True)


class CheckupSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="occurred_at", allow_null=True)
    facility = FacilityRefSerializer(allow_null=True)
    gestational_age_weeks = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    weight_kg = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    systolic_mmhg = serializers.IntegerField(allow_null=True)
    diastolic_mmhg = serializers.IntegerField(allow_null=True)
    fetal_heart_rate_bpm = serializers.IntegerField(allow_null=True)
    expected_delivery_date = serializers.DateField(allow_null=True)


class PregnancySerializer(serializers.Serializer):
    key = serializers.CharField()
    expected_delivery_date = serializers.DateField(source="edd", allow_null=True)
    estimated = serializers.BooleanField()
    checkups = CheckupSerializer(many=True)


class PregnancyListSerializer(serializers.Serializer):
    pregnancies = PregnancySerializer(many=True)


class CertificateSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.SerializerMethodField()
    id = serializers.IntegerField(source="row.pk")
    number = serializers.CharField(source="row.number")
    issued_on = serializers.DateField(source="row.issued_on", allow_null=True)
    facility = FacilityRefSerializer(source="row.facility", allow_null=True)
    verified = serializers.BooleanField()

    def get_kind_label(self, c) -> str:
        return str(CERTIFICATE_KINDS.get(c["kind"], c["kind"]))


class CertificateListSerializer(serializers.Serializer):
    certificates = CertificateSerializer(many=True)


class CertificateDetailSerializer(CertificateSerializer):
    fields = serializers.JSONField(source="row.fields")
    received_at = serializers.DateTimeField()
    has_file = serializers.BooleanField()


class AccessLogItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    text = serializers.CharField()
    who = serializers.CharField()
    role = serializers.CharField()
    facility = serializers.CharField()
    viewed = serializers.CharField()
    purpose = serializers.CharField()
    emergency = serializers.BooleanField()
    allowed = serializers.BooleanField()


class AccessLogSerializer(serializers.Serializer):
    people = AccessLogItemSerializer(many=True)
    machines = AccessLogItemSerializer(many=True)
