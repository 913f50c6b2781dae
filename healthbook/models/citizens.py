"""Citizens, their health books and their health-insurance cards.

Table names are fixed (db_table) because the card import writes to them with plain SQL
(healthbook/cards/merge.py).
"""

import uuid

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Sex(models.IntegerChoices):
    """GIOI_TINH of XML 130: 1 male, 2 female, 3 undetermined."""

    MALE = 1, _("Male")
    FEMALE = 2, _("Female")
    UNDETERMINED = 3, _("Undetermined")


class BirthPrecision(models.TextChoices):
    """How much of a birth date is known (XML 130 writes 00 for an unknown day or month)."""

    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class ResidenceSource(models.TextChoices):
    """Where a citizen's residence (province, commune) came from. Card files (the insurance
    fund's data) win over facility data, which only fills a residence nobody knew."""

    UNKNOWN = "", _("Not known")
    CARD = "card", _("Insurance card file")
    FACILITY = "facility_data", _("Facility data")


class Citizen(models.Model):
    """A person who has (or will have) an electronic health book.

    The personal ID (số định danh cá nhân, 12 digits) and the social insurance number
    (mã số BHXH, 10 digits, lifelong) each identify at most one citizen; either may be
    unknown when the person came from facility data or was entered by hand.
    `search_name` is `full_name` in lower case without diacritics (đ → d), indexed with
    pg_trgm for name search.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    personal_id = models.CharField(_("personal ID number"), max_length=12, null=True, blank=True, unique=True)
    social_insurance_number = models.CharField(
        _("social insurance number"), max_length=10, null=True, blank=True, unique=True
    )
    legacy_id_number = models.CharField(
        _("other identity document"),
        max_length=12,
        blank=True,
        help_text=_("A 9-digit identity card (CMND) or passport number given instead of a personal ID."),
    )
    full_name = models.CharField(_("full name"), max_length=255)
    search_name = models.CharField(max_length=255, editable=False)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birth_date_precision = models.CharField(
        _("precision of the date of birth"), max_length=5, choices=BirthPrecision.choices, default=BirthPrecision.DAY
    )
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True, editable=False)
    sex = models.PositiveSmallIntegerField(_("sex"), choices=Sex.choices, null=True, blank=True)
    ethnicity_code = models.CharField(_("ethnicity"), max_length=8, blank=True)
    nationality_code = models.CharField(_("nationality"), max_length=8, blank=True)
    residence_province = models.ForeignKey(
        "geo.Province",
        verbose_name=_("province of residence"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # searches filter by province only with a name (citizen_year_province_name)
    )
    residence_commune_code = models.CharField(_("commune of residence"), max_length=5, blank=True)
    residence_source = models.CharField(
        _("residence known from"), max_length=16, choices=ResidenceSource.choices, blank=True, db_default=""
    )
    address = models.CharField(_("address"), max_length=500, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "healthbook_citizen"
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        indexes = [
            GinIndex(fields=["search_name"], name="citizen_search_name_trgm", opclasses=["gin_trgm_ops"]),
            # Exact and prefix name search (LIKE 'q%'), optionally with the birth year.
            models.Index(
                fields=["search_name", "birth_year"],
                name="citizen_name_year",
                opclasses=["text_pattern_ops", "int2_ops"],
            ),
            # Fuzzy search within a birth year (and province): an index-only scan over one year's names.
            models.Index(
                fields=["birth_year", "residence_province", "search_name"],
                name="citizen_year_province_name",
                include=["id"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="citizen_personal_id_12_digits", condition=Q(personal_id__regex=r"^[0-9]{12}$")
            ),
            models.CheckConstraint(
                name="citizen_sin_10_digits", condition=Q(social_insurance_number__regex=r"^[0-9]{10}$")
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        from healthbook.names import normalize_name, search_name

        self.full_name = normalize_name(self.full_name)
        self.search_name = search_name(self.full_name)
        self.birth_year = self.birth_date.year if self.birth_date else None
        super().save(*args, **kwargs)


class HealthBook(models.Model):
    """The citizen's electronic health book (Sổ sức khỏe điện tử): one per citizen, opened the
    first time the citizen appears, whichever way that was."""

    class CreatedVia(models.TextChoices):
        CARD_IMPORT = "card_import", _("Insurance card import")
        FACILITY_DATA = "facility_data", _("Facility data")
        MANUAL = "manual", _("Entered by hand")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    citizen = models.OneToOneField(Citizen, on_delete=models.PROTECT, related_name="book")
    created_via = models.CharField(_("created via"), max_length=16, choices=CreatedVia.choices)
    # The batch provenance columns (here, the cards' and their history's) carry no database
    # foreign key: only the card merge writes them, for the batch whose row it holds locked
    # (shards.py, pipeline.py), and deleting a batch clears them (the ORM here, any other DELETE
    # by the trigger healthbook_card_batch_unlink, migration 0033). A foreign key would check the
    # same batch row 2.5 million times a million-row import (bench/RESULTS.md, issue 21).
    created_by_batch = models.ForeignKey(
        "healthbook.CardBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by database triggers whenever a row the book pages cache is written (migration
    # 0013, healthbook.history.CACHED_SOURCES): the key of the cached header facts and timeline.
    content_version = models.BigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        db_table = "healthbook_book"
        verbose_name = _("health book")
        verbose_name_plural = _("health books")

    def __str__(self) -> str:
        return str(self.public_id)


class CardFields(models.Model):
    """The fields of one health-insurance card (mã thẻ BHYT), shared by the current card and
    its history."""

    social_insurance_number = models.CharField(_("social insurance number"), max_length=10)
    card_number = models.CharField(
        _("card number"),
        max_length=15,
        help_text=_(
            "The 15-character code (group, benefit level, province, social insurance number) or the 10-digit form."
        ),
    )
    beneficiary_group = models.CharField(_("beneficiary group"), max_length=2, blank=True)
    benefit_level = models.PositiveSmallIntegerField(_("benefit level"), null=True, blank=True)
    issuing_province_code = models.CharField(_("issuing province code"), max_length=2, blank=True)
    primary_care_facility_code = models.CharField(_("primary-care facility (MA_DKBD)"), max_length=5)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    source_batch = models.ForeignKey(
        "healthbook.CardBatch",
        verbose_name=_("source batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # see HealthBook.created_by_batch
    )
    source_line = models.PositiveIntegerField(_("line in the source file"), null=True, blank=True)

    class Meta:
        abstract = True


class InsuranceCard(CardFields):
    """The current health-insurance card of a citizen, one per social insurance number. A
    renewed or changed card replaces this row; the old values go to InsuranceCardHistory."""

    citizen = models.OneToOneField(Citizen, on_delete=models.PROTECT, related_name="card")
    # No index: nothing looks cards up by batch, and an indexed column that changes on every
    # renewal would make each renewal a non-HOT update (new entries in all four indexes).
    source_batch = models.ForeignKey(
        "healthbook.CardBatch",
        verbose_name=_("source batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,  # see HealthBook.created_by_batch
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "healthbook_card"
        verbose_name = _("health-insurance card")
        verbose_name_plural = _("health-insurance cards")
        constraints = [
            models.UniqueConstraint(fields=["social_insurance_number"], name="card_unique_current_per_sin"),
        ]
        indexes = [models.Index(fields=["card_number"], name="card_number_idx")]

    def __str__(self) -> str:
        return self.card_number


class InsuranceCardHistory(CardFields):
    """An earlier state of a citizen's card, kept when a batch renewed or changed it."""

    # db_index=False: card_history_citizen (citizen, replaced_at) serves every lookup by citizen.
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="card_history", db_index=False)
    replaced_at = models.DateTimeField(auto_now_add=True)
    replaced_by_batch = models.ForeignKey(
        "healthbook.CardBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # see HealthBook.created_by_batch
    )

    class Meta:
        db_table = "healthbook_card_history"
        verbose_name = _("earlier health-insurance card")
        verbose_name_plural = _("earlier health-insurance cards")
        indexes = [models.Index(fields=["citizen", "replaced_at"], name="card_history_citizen")]

    def __str__(self) -> str:
        return f"{self.card_number} ({self.valid_from}–{self.valid_to})"


class NameWord(models.Model):
    """A word that occurs in some citizen's search name ("nguyen", "van", "an"): the dictionary
    the finder corrects a misspelt family or middle name against before it falls back to the
    trigram index (healthbook.selectors). Vietnamese names use a few thousand distinct words.

    Filled by statement-level triggers on healthbook_citizen (migration 0012), so every way a
    citizen is created or renamed — the card merge, the intake, the ORM, plain SQL — adds its
    words, set-wise, once per statement. Words are never removed: a word no longer in any name
    only costs the finder a query that finds nobody.
    """

    word = models.CharField(max_length=255, primary_key=True, db_collation="C")

    class Meta:
        db_table = "healthbook_name_word"
        verbose_name = _("name word")
        verbose_name_plural = _("name words")

    def __str__(self) -> str:
        return self.word
