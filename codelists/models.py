"""National code lists: code systems → versions → concepts → mappings.

A version moves draft → in review → published → retired. Published and retired versions
never change: besides the services, database triggers (migration 0002) refuse any write to
their concepts and mappings and any change to a published version other than retiring it.
"""

import datetime as dt
import unicodedata

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

CODE_MAX_LENGTH = 64


def search_normalise(text: str) -> str:
    """Return text lower-cased, without Vietnamese diacritics (đ → d) and single-spaced.

    Both the stored search column and every search query go through this function, so a
    user typing "viem phoi khong dac hieu" finds "Viêm phổi, không đặc hiệu".
    """
    text = (text or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    # Punctuation between words ("Viêm phổi, không đặc hiệu") must not stop a phrase match;
    # dots, dashes and slashes stay because codes use them (J18.9, A00-A09).
    spaced = "".join(ch if ch.isalnum() or ch in ".-/" else " " for ch in stripped.lower())
    return " ".join(spaced.split())


def concept_search_text(code: str, display_vi: str, display_en: str) -> str:
    return search_normalise(f"{code} {display_vi} {display_en}")


class CodeSystem(models.Model):
    """A national code list such as ICD-10 or the ethnic groups, issued by a legal act."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name_vi = models.CharField(_("Vietnamese name"), max_length=255)
    name_en = models.CharField(_("English name"), max_length=255, blank=True)
    canonical_url = models.URLField(_("canonical URL"), max_length=255, unique=True)
    legal_basis = models.CharField(_("legal basis"), max_length=255, blank=True)
    description_vi = models.TextField(_("description"), blank=True)
    source_note = models.TextField(_("source note"), blank=True)
    max_code_length = models.PositiveSmallIntegerField(_("maximum code length"), default=CODE_MAX_LENGTH)
    groups = models.JSONField(
        _("code groups"),
        default=dict,
        blank=True,
        help_text=_("Named groups of codes by code prefix, e.g. the chronic conditions the book shows."),
    )
    property_definitions = models.JSONField(
        _("declared properties"),
        default=list,
        blank=True,
        help_text=_(
            "The typed properties of the list's codes, as in FHIR CodeSystem.property: a list of "
            '{"code", "type", "label_vi", "label_en"[, "choices"]}; the concept form is built from them.'
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("code system")
        verbose_name_plural = _("code systems")
        constraints = [
            models.CheckConstraint(
                name="codesystem_max_code_length_range",
                condition=Q(max_code_length__gte=1) & Q(max_code_length__lte=CODE_MAX_LENGTH),
            )
        ]

    def __str__(self) -> str:
        return self.name_vi

    def get_absolute_url(self) -> str:
        return reverse("codelists:system-detail", kwargs={"key": self.key})


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


FROZEN_STATUSES = (VersionStatus.PUBLISHED, VersionStatus.RETIRED)


# English words in the labels of the versions loaded from codelists/seed/systems.json, in
# Vietnamese (issue 18: a Vietnamese label for every version; developer provenance, such as the
# package a list was built from, stays in the administrators' technical note).
SEED_LABEL_WORDS = (
    ("seed-0 (project-defined, unofficial)", "Bản tạm thời 0 (dự án tự đặt mã, chưa ban hành chính thức)"),
    (
        "seed-1 (project-defined, unofficial; LOINC map)",
        "Bản tạm thời 1 (dự án tự đặt mã, chưa ban hành chính thức; kèm bảng đối chiếu LOINC)",
    ),
    ("(project codes, rev 1)", "(mã do dự án đặt, bản sửa 1)"),
    ("(unchanged by QĐ 4750)", "(QĐ 4750 giữ nguyên)"),
    (", labels per QĐ 4750/QĐ-BYT", ", tên gọi theo QĐ 4750/QĐ-BYT"),
    ("— 43 codes", "— 43 mã"),
    ("— 54 groups", "— 54 dân tộc"),
    (" (vietnam-provinces 2025.10.1)", ""),
)


class VersionState(models.TextChoices):
    """Where a version stands on a given day, as the pages and FHIR say it.

    The stored status is the editorial one: publishing a version dated in the future retires
    the current one at once, although that one stays in force until the new one starts.
    """

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    UPCOMING = "upcoming", pgettext_lazy("code-list version", "Upcoming")
    IN_FORCE = "in_force", pgettext_lazy("code-list version", "In force")
    IN_FORCE_UNTIL = "in_force_until", pgettext_lazy("code-list version", "In force until an announced date")
    ENDED = "ended", pgettext_lazy("code-list version", "No longer in force")


class CodeSystemVersion(models.Model):
    """One edition of a code list, in force from `effective_from` until `effective_to`.

    Data is validated against the version whose [effective_from, effective_to) holds the
    date of the visit, so a retired version still answers for dates in its period.
    """

    system = models.ForeignKey(CodeSystem, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(_("version label"), max_length=120)
    status = models.CharField(_("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    change_note = models.TextField(_("change note"), blank=True)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source_checksum = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_edited_at = models.DateTimeField(null=True, blank=True)
    edit_count = models.PositiveIntegerField(default=0, help_text="Bumped on every change to the draft.")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system", "-effective_from", "-id"]
        verbose_name = _("code system version")
        verbose_name_plural = _("code system versions")
        constraints = [
            models.UniqueConstraint(fields=["system", "label"], name="codesystemversion_unique_label"),
            models.UniqueConstraint(
                fields=["system"],
                condition=Q(status__in=["draft", "in_review"]),
                name="codesystemversion_one_open_draft",
            ),
            models.CheckConstraint(
                name="codesystemversion_published_has_dates",
                condition=Q(status__in=["draft", "in_review"])
                | (Q(effective_from__isnull=False) & Q(published_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="codesystemversion_period_order",
                condition=Q(effective_to__isnull=True) | Q(effective_from__lt=models.F("effective_to")),
            ),
        ]
        indexes = [models.Index(fields=["system", "status", "effective_from"], name="codelists_version_inforce")]

    def __str__(self) -> str:
        return f"{self.system.key} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse("codelists:version-detail", kwargs={"key": self.system.key, "version_id": self.pk})

    @property
    def display_label(self) -> str:
        """The label as staff read it: a published label never changes (it is the version's name in
        FHIR), so the English words of the seed loader's labels are put into Vietnamese here."""
        text = self.label
        for english, vietnamese in SEED_LABEL_WORDS:
            text = text.replace(english, vietnamese)
        return text

    @property
    def is_frozen(self) -> bool:
        """Published and retired versions are public record and never change."""
        return self.status in FROZEN_STATUSES

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def state_on(self, day=None) -> str:
        """Return the VersionState on `day` (today in Vietnam by default), from status and period."""
        if self.status == VersionStatus.DRAFT:
            return VersionState.DRAFT
        if self.status == VersionStatus.IN_REVIEW:
            return VersionState.IN_REVIEW
        day = day or timezone.localdate()
        if self.effective_from and self.effective_from > day:
            return VersionState.UPCOMING
        if self.effective_to is None:
            return VersionState.IN_FORCE
        if self.effective_to > day:
            return VersionState.IN_FORCE_UNTIL
        return VersionState.ENDED

    @property
    def last_day_in_force(self):
        """The last day the version answers for: `effective_to` is the next version's first day."""
        return self.effective_to - dt.timedelta(days=1) if self.effective_to else None

    @property
    def state(self) -> str:
        return self.state_on()

    @property
    def state_label(self) -> str:
        """The state in words: "Đang hiệu lực đến 01/01/2027" rather than a bare "retired"."""
        state = self.state
        if state == VersionState.IN_FORCE_UNTIL:
            return _("In force until %(day)s") % {"day": date_format(self.last_day_in_force, "d/m/Y")}
        if state == VersionState.UPCOMING:
            return _("Upcoming, in force from %(day)s") % {"day": date_format(self.effective_from, "d/m/Y")}
        return str(VersionState(state).label)


class Concept(models.Model):
    """One code of one version, e.g. ICD-10 "J18.9 Viêm phổi, không đặc hiệu".

    `properties` holds the typed attributes of the list: unit and reference range for a
    lab indicator; sex, age limits, dagger/asterisk pairs and "not main diagnosis" for
    ICD-10; antigen and schedule for a vaccine. `revision` grows on every edit so that
    two editors saving the same concept cannot overwrite each other silently.
    """

    version = models.ForeignKey(CodeSystemVersion, on_delete=models.PROTECT, related_name="concepts")
    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH)
    display_vi = models.CharField(_("Vietnamese display"), max_length=500)
    display_en = models.CharField(_("English display"), max_length=500, blank=True)
    parent_code = models.CharField(_("parent code"), max_length=CODE_MAX_LENGTH, blank=True)
    active = models.BooleanField(_("active"), default=True)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    search = models.TextField(editable=False, default="")
    revision = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("concept")
        verbose_name_plural = _("concepts")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="concept_unique_code_per_version"),
            models.CheckConstraint(name="concept_code_not_blank", condition=~Q(code="")),
        ]
        indexes = [
            models.Index(fields=["version", "parent_code"], name="codelists_concept_parent"),
            models.Index(fields=["code"], name="codelists_concept_code"),
            GinIndex(fields=["search"], name="codelists_concept_search_trgm", opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_vi}"


class MappingRelationship(models.TextChoices):
    EQUIVALENT = "equivalent", _("Equivalent")
    WIDER = "source-is-narrower-than-target", _("Target is wider")
    NARROWER = "source-is-broader-than-target", _("Target is narrower")
    RELATED = "related-to", _("Related")


class MappingTarget(models.TextChoices):
    LOINC = "http://loinc.org", "LOINC"
    ATC = "http://www.whocc.no/atc", "ATC"
    CVX = "http://hl7.org/fhir/sid/cvx", "CVX"
    ICD10_WHO = "http://hl7.org/fhir/sid/icd-10", "WHO ICD-10"
    SNOMED = "http://snomed.info/sct", "SNOMED CT"
    # Issue 17: the DVKT list's mappings to the ministry's ICD-9-CM list (ConceptMap/dvkt-icd9cm)
    ICD9CM = "https://terminology.sskdt.example.vn/CodeSystem/icd9cm", "ICD-9-CM (QĐ 4440/QĐ-BYT)"


class ConceptMapping(models.Model):
    """A link from one concept to a code of an external system (LOINC, ATC, CVX, WHO ICD-10)."""

    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="mappings")
    target_system = models.CharField(_("target system"), max_length=64, choices=MappingTarget.choices)
    target_code = models.CharField(_("target code"), max_length=64)
    target_display = models.CharField(_("target display"), max_length=500, blank=True)
    relationship = models.CharField(
        _("relationship"), max_length=40, choices=MappingRelationship.choices, default=MappingRelationship.EQUIVALENT
    )

    class Meta:
        ordering = ["target_system", "target_code"]
        verbose_name = _("mapping")
        verbose_name_plural = _("mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["concept", "target_system", "target_code"], name="conceptmapping_unique_target"
            )
        ]

    def __str__(self) -> str:
        return f"{self.concept.code} → {self.get_target_system_display()} {self.target_code}"


class ChangeAction(models.TextChoices):
    LOAD = "load", _("Loaded from seed")
    DRAFT_START = "draft_start", _("Draft started")
    DRAFT_UPDATE = "draft_update", _("Draft details changed")
    CONCEPT_ADD = "concept_add", _("Concept added")
    CONCEPT_EDIT = "concept_edit", _("Concept edited")
    CONCEPT_RETIRE = "concept_retire", _("Concept retired")
    IMPORT = "import", _("File imported")
    SUBMIT = "submit", _("Submitted for review")
    SEND_BACK = "send_back", _("Sent back")
    PUBLISH = "publish", _("Published")
    DISCARD = "discard", _("Draft discarded")


# What counts as working on a draft: whoever did any of these may not review it (four eyes).
EDIT_ACTIONS = (
    ChangeAction.DRAFT_START,
    ChangeAction.DRAFT_UPDATE,
    ChangeAction.CONCEPT_ADD,
    ChangeAction.CONCEPT_EDIT,
    ChangeAction.CONCEPT_RETIRE,
    ChangeAction.IMPORT,
    ChangeAction.SUBMIT,
)


class ChangeLogEntry(models.Model):
    """Who changed what in a code list, and when: one row per editorial action.

    For concept edits `before` and `after` hold the changed fields; the log is append-only.
    """

    system = models.ForeignKey(CodeSystem, on_delete=models.PROTECT, related_name="changes")
    version = models.ForeignKey(CodeSystemVersion, on_delete=models.SET_NULL, null=True, related_name="changes")
    version_label = models.CharField(max_length=120)
    action = models.CharField(max_length=32, choices=ChangeAction.choices)
    code = models.CharField(max_length=CODE_MAX_LENGTH, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("code-list change")
        verbose_name_plural = _("code-list changes")
        indexes = [
            models.Index(fields=["system", "-at"], name="codelists_change_system"),
            models.Index(fields=["version", "code"], name="codelists_change_code"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.version_label} {self.code}"


class ImportJob(models.Model):
    """An uploaded CSV/XLSX file for a draft: previewed first (dry run), applied on confirm.

    The file is kept in the database so that any web process can apply it.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        REJECTED = "rejected", _("Rejected")
        APPLIED = "applied", _("Applied")

    public_id = models.UUIDField(unique=True)
    version = models.ForeignKey(CodeSystemVersion, on_delete=models.CASCADE, related_name="imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)
    content = models.BinaryField()
    checksum = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices)
    draft_edit_count = models.PositiveIntegerField()
    summary = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("code-list import")
        verbose_name_plural = _("code-list imports")

    def __str__(self) -> str:
        return f"{self.filename} → {self.version}"
