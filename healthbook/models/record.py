"""The rest of the clinical record a facility sends as FHIR (issue 17): problems and diagnoses
(Condition), allergies and intolerances, procedures and diagnostic reports. Lab and vital-sign
Observations are LabObservation rows, MedicationStatement/MedicationDispense Medication rows
(`kind`), and resources the book does not map ReceivedTable rows (kept as received).

Like every detail row (clinical.ClinicalRecord): tied to an encounter when the resource names
one (replaced with the encounter's new version), else upserted by (facility, source_key),
source_key = "<ResourceType>/<id>". Codes are kept as sent with their system; names come from
the code lists (ICD-10, ICD-9-CM) or the display as sent.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from healthbook.models.clinical import ClinicalRecord


class Condition(ClinicalRecord):
    """A problem-list entry or a visit diagnosis (FHIR Condition, ICD-10)."""

    ACTIVE_STATUSES = ("", "active", "recurrence", "relapse")

    code = models.CharField(_("code"), max_length=100, blank=True)
    code_system = models.CharField(max_length=255, blank=True)
    display = models.CharField(_("condition"), max_length=1024, blank=True)
    category = models.CharField(_("category"), max_length=50, blank=True)
    clinical_status = models.CharField(_("clinical status"), max_length=20, blank=True)
    verification_status = models.CharField(max_length=20, blank=True)
    severity = models.CharField(max_length=255, blank=True)
    onset_on = models.DateField(_("onset"), null=True, blank=True)
    abatement_on = models.DateField(_("resolved on"), null=True, blank=True)
    recorded_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_condition"
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        indexes = [models.Index(fields=["book", "-occurred_at"], name="condition_book_time")]
        constraints = [models.UniqueConstraint(fields=["facility", "source_key"], name="condition_source_unique")]

    def __str__(self) -> str:
        return self.code or self.display

    @property
    def is_active(self) -> bool:
        """Active unless the facility said otherwise (resolved, inactive, remission) or gave an end."""
        return self.clinical_status in self.ACTIVE_STATUSES and self.abatement_on is None


class Allergy(ClinicalRecord):
    """An allergy or intolerance (FHIR AllergyIntolerance): SNOMED CT, a national drug code, or
    free text -- all kept and shown."""

    code = models.CharField(_("code"), max_length=100, blank=True)
    code_system = models.CharField(max_length=255, blank=True)
    display = models.CharField(_("substance"), max_length=1024, blank=True)
    type = models.CharField(max_length=20, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    criticality = models.CharField(_("criticality"), max_length=20, blank=True)
    clinical_status = models.CharField(_("clinical status"), max_length=20, blank=True)
    verification_status = models.CharField(max_length=20, blank=True)
    reactions = models.TextField(_("reactions"), blank=True)
    onset_on = models.DateField(null=True, blank=True)
    recorded_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_allergy"
        verbose_name = _("allergy or intolerance")
        verbose_name_plural = _("allergies and intolerances")
        indexes = [models.Index(fields=["book", "-occurred_at"], name="allergy_book_time")]
        constraints = [models.UniqueConstraint(fields=["facility", "source_key"], name="allergy_source_unique")]

    def __str__(self) -> str:
        return self.display or self.code

    @property
    def is_active(self) -> bool:
        return self.clinical_status in ("", "active") and self.verification_status not in (
            "refuted",
            "entered-in-error",
        )


class ClinicalProcedure(ClinicalRecord):
    """A procedure performed (FHIR Procedure, ICD-9-CM)."""

    code = models.CharField(_("code"), max_length=100, blank=True)
    code_system = models.CharField(max_length=255, blank=True)
    display = models.CharField(_("procedure"), max_length=1024, blank=True)
    status = models.CharField(max_length=20, blank=True)
    performed_at = models.DateTimeField(_("performed at"), null=True, blank=True)
    performed_on = models.DateField(null=True, blank=True)
    performer = models.CharField(_("performed by"), max_length=255, blank=True)
    note = models.TextField(blank=True)

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_procedure"
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        indexes = [models.Index(fields=["book", "-occurred_at"], name="procedure_book_time")]
        constraints = [models.UniqueConstraint(fields=["facility", "source_key"], name="procedure_source_unique")]

    def __str__(self) -> str:
        return self.code or self.display


class DiagnosticReport(ClinicalRecord):
    """A diagnostic report grouping lab results (FHIR DiagnosticReport); its results are the
    LabObservation rows whose `report_key` is this row's `source_key`."""

    code = models.CharField(_("code"), max_length=100, blank=True)
    code_system = models.CharField(max_length=255, blank=True)
    display = models.CharField(_("report"), max_length=1024, blank=True)
    status = models.CharField(max_length=20, blank=True)
    category = models.CharField(max_length=50, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)

    class Meta(ClinicalRecord.Meta):
        db_table = "healthbook_diagnostic_report"
        verbose_name = _("diagnostic report")
        verbose_name_plural = _("diagnostic reports")
        indexes = [models.Index(fields=["book", "-occurred_at"], name="diagnostic_report_book_time")]
        constraints = [
            models.UniqueConstraint(fields=["facility", "source_key"], name="diagnostic_report_source_unique")
        ]

    def __str__(self) -> str:
        return self.display or self.code
