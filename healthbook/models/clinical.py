"""The citizen's clinical history, as merged from facility submissions (issue 6).

Every row points at the citizen's `book`, the `facility` that sent it and the `submission`
it came from. `occurred_at` is the moment shown on the book's timeline (aware, UTC in the
database); every table has an index on (book, occurred_at DESC) for "newest first".
Codes are kept as the strings sent (ICD-10, lab indicators, drugs, vaccines …);
`Encounter.codelist_versions` records which code-list version validated them.

An encounter is one visit, keyed by (facility, key) — the MA_LK of XML 130, or the FHIR
Encounter's MA_LK identifier / id. Its detail rows (medications, services, labs, notes,
papers, follow-ups, pregnancy check-ups) belong to the current version of the encounter:
a changed resubmission moves the previous version to `EncounterHistory` (with all of its
detail as JSON) and replaces the detail rows. FHIR items not tied to an encounter
(immunizations, e-prescriptions, appointments, documents) have `encounter` empty and are
upserted by (facility, source_key), source_key = "<ResourceType>/<id>"; detail rows of an
encounter have source_key = "<MA_LK>/<position>" (unique too, as those tables need one key).
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class Encounter(models.Model):
    """A visit or a treatment episode at a facility (XML1 of XML 130, or a FHIR Encounter)."""

    class Source(models.TextChoices):
        XML130 = "xml130", "XML 130"
        FHIR = "fhir", "FHIR"

    book = models.ForeignKey("healthbook.HealthBook", on_delete=models.PROTECT, related_name="encounters")
    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    submission = models.ForeignKey(
        "healthbook.Submission",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The submission that produced the current version.",
    )
    key = models.CharField(_("treatment key (MA_LK)"), max_length=100)
    source = models.CharField(max_length=8, choices=Source.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical visit data")
    occurred_at = models.DateTimeField(_("date"), help_text="admitted_at, else discharged_at, else receipt")
    visit_type = models.CharField(_("visit type (MA_LOAI_KCB)"), max_length=4, blank=True)
    admitted_at = models.DateTimeField(_("admitted at"), null=True, blank=True)
    inpatient_at = models.DateTimeField(_("inpatient admission at"), null=True, blank=True)
    discharged_at = models.DateTimeField(_("discharged at"), null=True, blank=True)
    main_diagnosis = models.CharField(_("main diagnosis (ICD-10)"), max_length=20, blank=True)
    secondary_diagnoses = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    traditional_diagnoses = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    procedures = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    diagnosis_text_admission = models.TextField(_("diagnosis on admission"), blank=True)
    diagnosis_text_discharge = models.TextField(_("diagnosis on discharge"), blank=True)
    result = models.CharField(_("treatment result (KET_QUA_DTRI)"), max_length=4, blank=True)
    discharge_type = models.CharField(_("discharge type (MA_LOAI_RV)"), max_length=4, blank=True)
    departments = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    follow_up_dates = ArrayField(models.DateField(), default=list, blank=True)
    referred_from = models.CharField(max_length=20, blank=True)
    referred_to = models.CharField(max_length=20, blank=True)
    record_number = models.CharField(_("medical record number"), max_length=100, blank=True)
    visit_object = models.CharField(max_length=10, blank=True)
    weight_kg = models.CharField(max_length=20, blank=True)
    treatment_days = models.CharField(max_length=10, blank=True)
    note = models.TextField(blank=True)
    reason_for_visit = models.TextField(_("reason for visit (LY_DO_VV)"), blank=True, default="", db_default="")
    treatment_method = models.TextField(_("treatment method (PP_DIEU_TRI)"), blank=True, default="", db_default="")
    blood_group = models.CharField(_("blood group (NHOM_MAU)"), max_length=20, blank=True, default="", db_default="")
    icd10_version = models.ForeignKey(
        "codelists.CodeSystemVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The ICD-10 version in force on the visit date, which validated the diagnoses.",
    )
    codelist_versions = models.JSONField(default=dict, blank=True, help_text="system key → version id used")
    patient_as_sent = models.JSONField(default=dict, blank=True, help_text="name, birth date … as the facility sent")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "healthbook_encounter"
        verbose_name = _("encounter")
        verbose_name_plural = _("encounters")
        constraints = [models.UniqueConstraint(fields=["facility", "key"], name="encounter_facility_key_unique")]
        indexes = [
            models.Index(fields=["book", "-occurred_at"], name="encounter_book_time"),
            models.Index(fields=["facility", "occurred_at"], name="encounter_facility_time"),
            # "Visits received" of the rollups (provinces.rollups): the encounters first recorded
            # on a day, a range scan instead of a scan of every visit.
            models.Index(fields=["created_at"], name="encounter_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id}/{self.key} v{self.version}"


class EncounterHistory(models.Model):
    """An earlier version of an encounter, replaced by a changed resubmission. `data` holds the
    whole visit as it was (encounter fields and every detail row)."""

    # No database constraint: the encounter table is partitioned by facility (its key is (id,
    # facility_id), migration 0030) and a history row has no facility column; rows are written only
    # by the merge under the encounter's row lock, and deleting an encounter through the ORM
    # deletes its history (Django's cascade).
    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="history", db_constraint=False)
    version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    submission = models.ForeignKey("healthbook.Submission", on_delete=models.PROTECT, related_name="+")
    replaced_by = models.ForeignKey("healthbook.Submission", on_delete=models.PROTECT, related_name="+")
    replaced_at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField()

    class Meta:
        db_table = "healthbook_encounter_history"
        verbose_name = _("earlier version of an encounter")
        verbose_name_plural = _("earlier versions of encounters")
        constraints = [models.UniqueConstraint(fields=["encounter", "version"], name="encounter_history_unique")]

    def __str__(self) -> str:
        return f"{self.encounter_id} v{self.version}"


class ClinicalRecord(models.Model):
    """Fields shared by every detail row of the book."""

    book = models.ForeignKey("healthbook.HealthBook", on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    submission = models.ForeignKey("healthbook.Submission", on_delete=models.PROTECT, related_name="+")
    # The database constraint is the composite (encounter_id, facility_id) → encounter (id,
    # facility_id) of migration 0030 (the encounter table is partitioned by facility): Django's own
    # single-column constraint cannot reference it.
    encounter = models.ForeignKey(
        Encounter, on_delete=models.CASCADE, null=True, blank=True, related_name="%(class)ss", db_constraint=False
    )
    occurred_at = models.DateTimeField(_("date"), null=True, blank=True)
    source_key = models.CharField(max_length=120, blank=True, help_text="STT within the visit, or the FHIR resource id")

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["book", "-occurred_at"], name="%(class)s_book_time")]


class Medication(ClinicalRecord):
    """A drug given or prescribed (XML2 row, or a FHIR MedicationRequest e-prescription)."""

    code = models.CharField(_("drug code"), max_length=255, blank=True)
    name = models.CharField(_("drug"), max_length=1024, blank=True)
    unit = models.CharField(max_length=50, blank=True)
    strength = models.CharField(max_length=1024, blank=True)
    route = models.CharField(max_length=10, blank=True)
    form = models.CharField(max_length=1024, blank=True)
    dosage = models.TextField(blank=True)
    usage = models.TextField(blank=True)
    quantity = models.CharField(max_length=20, blank=True)
    registration_no = models.CharField(max_length=255, blank=True)
    ordered_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    prescriber = models.CharField(max_length=255, blank=True)
    prescription_code = models.CharField(_("national prescription code"), max_length=50, blank=True)
    kind = models.CharField(
        max_length=10,
        blank=True,
        default="",
        db_default="",
        help_text="FHIR: request, statement or dispense; empty for XML2 (a drug given)",
    )
    status = models.CharField(max_length=20, blank=True, default="", db_default="", help_text="FHIR status as sent")

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_medication"
        verbose_name = _("medication")
        verbose_name_plural = _("medications")
        constraints = [
            models.UniqueConstraint(fields=["facility", "source_key"], name="medication_source_unique"),
        ]

    def __str__(self) -> str:
        return self.name or self.code


class ServiceItem(ClinicalRecord):
    """A technical service or supply of a visit (XML3 row)."""

    code = models.CharField(_("service code"), max_length=50, blank=True)
    name = models.CharField(_("service"), max_length=1024, blank=True)
    group = models.CharField(max_length=4, blank=True)
    procedure_code = models.CharField(max_length=255, blank=True)
    supply_code = models.CharField(max_length=255, blank=True)
    quantity = models.CharField(max_length=20, blank=True)
    ordered_at = models.DateTimeField(null=True, blank=True)
    performed_at = models.DateTimeField(null=True, blank=True)
    resulted_at = models.DateTimeField(null=True, blank=True)
    department = models.CharField(max_length=50, blank=True)
    # XML3 NGUOI_THUC_HIEN (who performed it) and MA_BAC_SI (who examined and ordered it): health
    # IDs of the staff, several separated by ";" (QĐ 4750 Bảng 3)
    performer = models.CharField(_("performed by"), max_length=255, blank=True, default="", db_default="")
    ordered_by = models.CharField(_("ordered by"), max_length=255, blank=True, default="", db_default="")

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_service_item"
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name or self.code


class LabObservation(ClinicalRecord):
    """A paraclinical result (XML4 row): indicator, value, unit, reference range, flag."""

    service_code = models.CharField(max_length=50, blank=True)
    indicator_code = models.CharField(_("indicator code"), max_length=255, blank=True)
    indicator_name = models.CharField(_("indicator"), max_length=255, blank=True)
    value = models.TextField(_("value"), blank=True)
    value_number = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=50, blank=True)
    reference_range = models.CharField(_("reference range"), max_length=100, blank=True)
    abnormal_flag = models.CharField(_("abnormal flag"), max_length=10, blank=True, help_text="H, L or empty")
    description = models.TextField(blank=True)
    conclusion = models.TextField(blank=True)
    reader = models.CharField(max_length=255, blank=True)
    # FHIR Observations (issue 17): the system of indicator_code ("lab-indicator" for the national
    # list, else the system sent, e.g. LOINC; empty for XML4), the category (laboratory,
    # vital-signs), the interpretation as sent, and the DiagnosticReport row grouping it.
    code_system = models.CharField(max_length=255, blank=True, default="", db_default="")
    category = models.CharField(max_length=50, blank=True, default="", db_default="")
    interpretation = models.CharField(_("interpretation"), max_length=20, blank=True, default="", db_default="")
    report_key = models.CharField(
        max_length=120, blank=True, default="", db_default="", help_text="source_key of its DiagnosticReport"
    )

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_lab_observation"
        verbose_name = _("lab result")
        verbose_name_plural = _("lab results")
        indexes = [
            models.Index(fields=["book", "-occurred_at"], name="lab_book_time"),
            models.Index(fields=["book", "indicator_code", "occurred_at"], name="lab_book_indicator_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["facility", "source_key"], name="lab_observation_source_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_code}={self.value}"


class ClinicalNote(ClinicalRecord):
    """Clinical course of a visit (XML5 row)."""

    text = models.TextField(blank=True)
    stage = models.TextField(blank=True)
    consultation = models.TextField(blank=True)
    surgery = models.TextField(blank=True)
    author = models.CharField(max_length=255, blank=True)

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_clinical_note"
        verbose_name = _("clinical note")
        verbose_name_plural = _("clinical notes")

    def __str__(self) -> str:
        return self.text[:40]


class FollowUpAppointment(ClinicalRecord):
    """A follow-up appointment (XML14 slip, or a FHIR Appointment)."""

    slip_number = models.CharField(max_length=200, blank=True)
    appointment_at = models.DateTimeField(_("appointment time"), null=True, blank=True)
    appointment_date = models.DateField(_("appointment date"), null=True, blank=True)
    diagnosis = models.TextField(blank=True)
    main_diagnosis = models.CharField(max_length=20, blank=True)
    doctor = models.CharField(max_length=255, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    at_facility_code = models.CharField(max_length=5, blank=True)
    description = models.TextField(blank=True)

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_follow_up"
        verbose_name = _("follow-up appointment")
        verbose_name_plural = _("follow-up appointments")
        indexes = [
            models.Index(fields=["book", "-occurred_at"], name="follow_up_book_time"),
            models.Index(fields=["facility", "appointment_date"], name="follow_up_facility_date"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["facility", "source_key"], name="follow_up_source_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_date}"


class Immunization(ClinicalRecord):
    """A vaccination (FHIR Immunization)."""

    vaccine_code = models.CharField(_("vaccine"), max_length=100)
    vaccine_system = models.CharField(max_length=255, blank=True)
    vaccine_name = models.CharField(max_length=255, blank=True)
    # The coding as sent when the dose was translated to the national list at intake (a CVX code,
    # a product name): vaccine_code is then the national code, vaccine_system "vaccine".
    sent_code = models.CharField(max_length=100, blank=True, default="", db_default="")
    sent_system = models.CharField(max_length=255, blank=True, default="", db_default="")
    occurred_on = models.DateField(_("date"), null=True, blank=True)
    dose_number = models.CharField(_("dose"), max_length=10, blank=True)
    lot_number = models.CharField(_("lot"), max_length=100, blank=True)
    status = models.CharField(max_length=20, blank=True)

    # FHIR Immunization.status of a record whose dose was not given: it does not count on the
    # schedule (the book's vaccination record, the reminders).
    NOT_GIVEN_STATUSES = ("not-done", "entered-in-error")

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_immunization"
        verbose_name = _("immunization")
        verbose_name_plural = _("immunizations")
        indexes = [
            models.Index(fields=["book", "-occurred_at"], name="immunization_book_time"),
            models.Index(fields=["facility", "occurred_on"], name="immunization_facility_date"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["facility", "source_key"], name="immunization_source_unique"),
        ]

    def __str__(self) -> str:
        return self.vaccine_code

    @property
    def counts_as_given(self) -> bool:
        return self.status not in self.NOT_GIVEN_STATUSES


class PregnancyCheckup(ClinicalRecord):
    """An antenatal check-up (FHIR Encounter + Observations). `pregnancy_key` groups the
    check-ups of one pregnancy (the expected delivery date first reported for it)."""

    pregnancy_key = models.CharField(max_length=20, blank=True)
    gestational_age_weeks = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    fundal_height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    fetal_heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    expected_delivery_date = models.DateField(null=True, blank=True)

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_pregnancy_checkup"
        verbose_name = _("pregnancy check-up")
        verbose_name_plural = _("pregnancy check-ups")
        indexes = [
            models.Index(fields=["book", "-occurred_at"], name="pregnancy_book_time"),
            models.Index(fields=["book", "pregnancy_key"], name="pregnancy_book_key"),
        ]

    def __str__(self) -> str:
        return f"{self.pregnancy_key} {self.occurred_at}"


class PaperRecord(ClinicalRecord):
    """A certificate or paper of XML 130: number, date, and every field as received."""

    number = models.CharField(_("number"), max_length=200, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    fields = models.JSONField(default=dict, blank=True)

    class Meta(ClinicalRecord.Meta):
        abstract = True

    def __str__(self) -> str:
        return self.number or str(self.issued_on)


class DischargePaper(PaperRecord):
    """Discharge paper (giấy ra viện, XML7)."""

    class Meta(PaperRecord.Meta):
        db_table = "healthbook_discharge_paper"
        verbose_name = _("discharge paper")
        verbose_name_plural = _("discharge papers")


class RecordSummary(PaperRecord):
    """Medical record summary (tóm tắt hồ sơ bệnh án, XML8)."""

    class Meta(PaperRecord.Meta):
        db_table = "healthbook_record_summary"
        verbose_name = _("medical record summary")
        verbose_name_plural = _("medical record summaries")


class BirthCertificate(PaperRecord):
    """Birth certificate (giấy chứng sinh, XML9)."""

    class Meta(PaperRecord.Meta):
        db_table = "healthbook_birth_certificate"
        verbose_name = _("birth certificate")
        verbose_name_plural = _("birth certificates")


class SickLeaveCertificate(PaperRecord):
    """Certificate of leave for social insurance (giấy nghỉ hưởng BHXH, XML11)."""

    class Meta(PaperRecord.Meta):
        db_table = "healthbook_sick_leave"
        verbose_name = _("sick-leave certificate")
        verbose_name_plural = _("sick-leave certificates")


class Referral(PaperRecord):
    """Referral paper (giấy chuyển tuyến, XML13)."""

    class Meta(PaperRecord.Meta):
        db_table = "healthbook_referral"
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")


class Document(PaperRecord):
    """A signed document sent as FHIR DocumentReference: death notice or driver health
    certificate. `signature_status` says how the submission carrying it was verified."""

    class Kind(models.TextChoices):
        DEATH_NOTICE = "death_notice", _("Death notice")
        DRIVER_HEALTH = "driver_health", _("Driver health certificate")

    class SignatureStatus(models.TextChoices):
        VERIFIED = "verified", _("Signature verified")
        NOT_REQUIRED = "not_required", _("Not signed (signature not required for this facility)")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(null=True, blank=True)
    signature_status = models.CharField(max_length=16, choices=SignatureStatus.choices)

    class Meta(PaperRecord.Meta):
        db_table = "healthbook_document"
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [
            models.Index(fields=["book", "-occurred_at"], name="document_book_time"),
            models.Index(fields=["facility", "issued_on"], name="document_facility_date"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["facility", "source_key"], name="document_source_unique"),
        ]


class ReceivedTable(ClinicalRecord):
    """An XML 130 table the book does not map (XML0, 6, 10, 12, 15, unknown types), or a FHIR
    resource of a type it does not map (`table` = the resource type, `rows` = [the resource]),
    kept and shown as received."""

    table = models.CharField(max_length=64)
    rows = models.JSONField(default=list)

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_received_table"
        verbose_name = _("table kept as received")
        verbose_name_plural = _("tables kept as received")
        constraints = [
            models.UniqueConstraint(fields=["facility", "source_key"], name="received_table_source_unique"),
        ]

    def __str__(self) -> str:
        return self.table


class CheckIn(models.Model):
    """A patient checked in at a facility's desk: a signed XML 130 check-in (a HOSO holding only
    XML0, the "trạng thái KCB" table sent at registration) or a FHIR Encounter whose status is
    `arrived` or `in-progress`.

    It opens the book to that facility only (healthbook.book.access, `SSKDT_CHECKIN_HOURS` from
    `last_at`), so the doctor seeing a walk-in patient reads without breaking the glass; the
    visit that follows opens it for the visit's own window. Keyed like an encounter by (facility,
    key = MA_LK or the FHIR Encounter's MA_LK identifier / id): the same check-in sent again
    changes nothing but `last_at` (a later status of the same visit, e.g. the inpatient
    admission). Times are never later than the receipt of the message that brought them
    (healthbook.intake.timing). `first_contact` and `other_province` are what the province's
    alert on unusual check-ins reads (view healthbook_check_in_view).
    """

    book = models.ForeignKey("healthbook.HealthBook", on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    submission = models.ForeignKey(
        "healthbook.Submission",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The submission that last brought this check-in.",
    )
    key = models.CharField(_("treatment key (MA_LK)"), max_length=100)
    source = models.CharField(max_length=8, choices=Encounter.Source.choices)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True, help_text="As sent.")
    occurred_at = models.DateTimeField(
        _("date"), help_text="The check-in time, or the receipt of its first message if that was earlier."
    )
    last_at = models.DateTimeField(
        help_text="Start of the current window: the latest time a message of this check-in reported "
        "(never later than that message's receipt)."
    )
    visit_type = models.CharField(_("visit type (MA_LOAI_KCB)"), max_length=4, blank=True)
    first_contact = models.BooleanField(
        default=False, help_text="No visit, check-in or primary-care card at this facility before it."
    )
    other_province = models.BooleanField(
        default=False, help_text="The citizen lives in another province than the facility's."
    )
    patient_as_sent = models.JSONField(default=dict, blank=True, help_text="name, birth date … as the facility sent")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "healthbook_check_in"
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [models.UniqueConstraint(fields=["facility", "key"], name="check_in_facility_key_unique")]
        indexes = [
            # the access decision: a book's check-ins at one facility in the window, newest first
            models.Index(fields=["book", "-last_at"], name="check_in_book_time"),
            # the rollups: the check-ins first recorded on a day
            models.Index(fields=["created_at"], name="check_in_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id}/{self.key}"
