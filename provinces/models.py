"""The dashboards' own tables: rollout targets and denominators, the daily facility and
province rollups the pages read, the connectivity digests and the rejection reasons per day."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RolloutTarget(models.Model):
    """A rollout target and its denominator for one province (or the whole country when
    `province` is empty) and one year: the population the coverage is measured against,
    the number of books and of people using the book aimed at, and the share of
    facilities that should be connected. Every figure carries its source and as-of date,
    because the population figures in use are approximate (they add up to about 113.6
    million against about 101 million people nationally).
    """

    province = models.ForeignKey(
        "geo.Province",
        verbose_name=_("province"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        help_text=_("Empty for the national target."),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    population = models.PositiveBigIntegerField(_("population (denominator)"))
    population_is_approximate = models.BooleanField(_("population is approximate"), default=True)
    population_source = models.CharField(_("source of the population figure"), max_length=300)
    population_as_of = models.DateField(_("population as of"))
    books_target = models.PositiveBigIntegerField(_("target: books"), null=True, blank=True)
    users_target = models.PositiveBigIntegerField(_("target: people using the book"), null=True, blank=True)
    facilities_connected_target_pct = models.PositiveSmallIntegerField(
        _("target: facilities connected (%)"), null=True, blank=True
    )
    target_source = models.CharField(_("source of the targets"), max_length=300, blank=True)
    target_as_of = models.DateField(_("targets as of"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    source_note = models.TextField(
        _("technical note on the sources"),
        blank=True,
        default="",
        help_text=_("Where the figures were taken from technically; shown to administrators only."),
    )

    class Meta:
        ordering = ["year", "province__code"]
        verbose_name = _("rollout target")
        verbose_name_plural = _("rollout targets")
        constraints = [
            models.UniqueConstraint(fields=["province", "year"], name="rollout_target_province_year"),
            models.UniqueConstraint(
                fields=["year"], condition=models.Q(province__isnull=True), name="rollout_target_national_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province.code if self.province_id else 'VN'} {self.year}"


class RollupFields(models.Model):
    """Counters a facility-day and a province-day share (submissions and connection)."""

    day = models.DateField(_("day"))
    submissions_received = models.PositiveIntegerField(default=0)
    submissions_accepted = models.PositiveIntegerField(default=0)
    submissions_rejected = models.PositiveIntegerField(default=0)
    # Clinical records (visits) received that day; NULL until the intake tables exist.
    visits_received = models.PositiveIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True


class FacilityDayRollup(RollupFields):
    """What one facility looked like at the end of one day (Vietnam time): its status as of
    that day (from the status history), what it sent that day, and the 7- and 30-day
    windows the connectivity monitor and the completeness table read.

    Written only by `provinces.rollups` (set-based upserts). `province_id`, `ownership`
    and `level` are copied so that a province page reads one indexed range.
    """

    facility = models.ForeignKey("facilities.Facility", on_delete=models.CASCADE, related_name="+")
    province = models.ForeignKey("geo.Province", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, blank=True)
    ownership = models.CharField(max_length=16)
    level = models.CharField(max_length=32)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    last_accepted_at = models.DateTimeField(null=True, blank=True)
    received_7d = models.PositiveIntegerField(default=0)
    rejected_7d = models.PositiveIntegerField(default=0)
    received_prev_7d = models.PositiveIntegerField(default=0)
    rejected_prev_7d = models.PositiveIntegerField(default=0)
    accepted_30d = models.PositiveIntegerField(default=0)
    days_with_data_30d = models.PositiveSmallIntegerField(default=0)
    expected_30d = models.PositiveIntegerField(null=True, blank=True)
    sent_7d = models.BooleanField(default=False)
    sent_30d = models.BooleanField(default=False)
    is_silent = models.BooleanField(default=False)
    went_silent = models.BooleanField(default=False)
    rejection_jumped = models.BooleanField(default=False)
    # Check-ins first recorded that day (healthbook_check_in_view): all, of people living in another
    # province, first-ever contacts with the facility; each against the facility's own daily average
    # of the 28 days before. `checkins_unusual`: one of the three is at least
    # SSKDT_CHECKIN_ALERT_MIN and more than SSKDT_CHECKIN_ALERT_FACTOR times its average (at least 1).
    checkins = models.PositiveIntegerField(default=0)
    checkins_other_province = models.PositiveIntegerField(default=0)
    checkins_first_contact = models.PositiveIntegerField(default=0)
    checkins_avg_28d = models.FloatField(default=0)
    checkins_other_avg_28d = models.FloatField(default=0)
    checkins_first_avg_28d = models.FloatField(default=0)
    checkins_unusual = models.BooleanField(default=False)

    class Meta:
        db_table = "provinces_facility_day"
        verbose_name = _("facility day rollup")
        verbose_name_plural = _("facility day rollups")
        constraints = [models.UniqueConstraint(fields=["facility", "day"], name="facility_day_unique")]
        indexes = [
            models.Index(fields=["province", "day"], name="facility_day_province"),
            # The province page's short lists read only their few rows of the day (not the
            # whole province's), so they stay cheap with thousands of facilities in a province.
            models.Index(fields=["province", "day"], condition=Q(is_silent=True), name="facility_day_silent"),
            models.Index(fields=["province", "day"], condition=Q(status="pending"), name="facility_day_pending"),
            models.Index(
                fields=["province", "day"],
                condition=Q(went_silent=True) | Q(rejection_jumped=True) | Q(checkins_unusual=True),
                name="facility_day_alerts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.day}"

    @property
    def rejection_rate_7d(self) -> float | None:
        return self.rejected_7d / self.received_7d if self.received_7d else None

    @property
    def rejection_rate_prev_7d(self) -> float | None:
        return self.rejected_prev_7d / self.received_prev_7d if self.received_prev_7d else None

    @property
    def completeness_pct(self) -> float:
        """Share of the last 30 days on which the facility had accepted data (DHIS2's reporting rate)."""
        return 100.0 * self.days_with_data_30d / 30

    @property
    def volume_pct(self) -> float | None:
        """Accepted submissions in the last 30 days against the expected monthly volume."""
        return 100.0 * self.accepted_30d / self.expected_30d if self.expected_30d else None


class ProvinceDayRollup(RollupFields):
    """One province at the end of one day (Vietnam time): books, cards, facilities by status
    and ownership, facilities sending data, silent facilities, submissions. The dashboards
    read only this table and FacilityDayRollup. Written only by `provinces.rollups`.

    Books and cards count citizens by their province of residence; citizens without one
    are in no province (see docs/dashboards.md).
    """

    province = models.ForeignKey("geo.Province", on_delete=models.CASCADE, related_name="rollups")
    books_total = models.PositiveBigIntegerField(default=0)
    books_new = models.PositiveIntegerField(default=0)
    citizens_valid_card = models.PositiveBigIntegerField(default=0)
    cards_imported = models.PositiveIntegerField(default=0)
    facilities_pending = models.PositiveIntegerField(default=0)
    facilities_rejected = models.PositiveIntegerField(default=0)
    facilities_approved = models.PositiveIntegerField(default=0)
    facilities_connected = models.PositiveIntegerField(default=0)
    facilities_suspended = models.PositiveIntegerField(default=0)
    facilities_closed = models.PositiveIntegerField(default=0)
    facilities_public_active = models.PositiveIntegerField(default=0)
    facilities_private_active = models.PositiveIntegerField(default=0)
    facilities_public_connected = models.PositiveIntegerField(default=0)
    facilities_private_connected = models.PositiveIntegerField(default=0)
    facilities_sending_7d = models.PositiveIntegerField(default=0)
    facilities_sending_30d = models.PositiveIntegerField(default=0)
    facilities_public_sending_7d = models.PositiveIntegerField(default=0)
    facilities_private_sending_7d = models.PositiveIntegerField(default=0)
    facilities_silent = models.PositiveIntegerField(default=0)
    # From the clinical tables once they exist (NULL until then): distinct citizens with a
    # record received in the last 365 days, and follow-ups past due with no visit since.
    people_using = models.PositiveBigIntegerField(null=True, blank=True)
    followups_missed = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "provinces_province_day"
        verbose_name = _("province day rollup")
        verbose_name_plural = _("province day rollups")
        constraints = [models.UniqueConstraint(fields=["province", "day"], name="province_day_unique")]
        indexes = [models.Index(fields=["day"], name="province_day_day")]

    def __str__(self) -> str:
        return f"{self.province_id} {self.day}"

    @property
    def facilities_active(self) -> int:
        """Facilities approved to send (approved, connected or suspended)."""
        return self.facilities_public_active + self.facilities_private_active


class CommuneDayRollup(models.Model):
    """One commune (of the 3,321 since 1 July 2025) at the end of one day (Vietnam time): books and
    people using the book among its residents, facilities in it approved to send and connected.
    A province officer's per-commune page reads one indexed range of this table (province, day).
    Written only by `provinces.rollups`, in the same set-based run as the province rows.

    Citizens count by their commune of residence (healthbook.Citizen.residence_commune_code);
    citizens whose commune is unknown are in no commune, as in docs/dashboards.md.
    """

    commune = models.ForeignKey("geo.Commune", on_delete=models.CASCADE, related_name="+")
    province = models.ForeignKey("geo.Province", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    books_total = models.PositiveBigIntegerField(default=0)
    books_new = models.PositiveIntegerField(default=0)
    people_using = models.PositiveBigIntegerField(default=0)
    facilities_active = models.PositiveIntegerField(default=0)
    facilities_connected = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "provinces_commune_day"
        verbose_name = _("commune day rollup")
        verbose_name_plural = _("commune day rollups")
        constraints = [models.UniqueConstraint(fields=["commune", "day"], name="commune_day_unique")]
        indexes = [models.Index(fields=["province", "day"], name="commune_day_province_day")]

    def __str__(self) -> str:
        return f"{self.commune_id} {self.day}"


class ConnectivityDigest(models.Model):
    """The daily connectivity e-mail of one province for one day: created before sending,
    so that a rerun of the job on the same day sends nothing twice."""

    province = models.ForeignKey("geo.Province", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    recipients = models.PositiveSmallIntegerField(default=0)
    went_silent = models.PositiveIntegerField(default=0)
    rejection_jumped = models.PositiveIntegerField(default=0)
    checkins_unusual = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "provinces_connectivity_digest"
        verbose_name = _("connectivity digest")
        verbose_name_plural = _("connectivity digests")
        constraints = [models.UniqueConstraint(fields=["province", "day"], name="connectivity_digest_unique")]

    def __str__(self) -> str:
        return f"{self.province_id} {self.day}"


class RejectionReasonDay(models.Model):
    """How often one rejection reason was given on one day, per province (empty: rows of
    national card batches, which belong to no single province). `source` says where the
    reason came from: card-batch rows today, data submissions once the intake records them."""

    class Source(models.TextChoices):
        CARD_BATCH = "card_batch", _("Insurance card import")
        SUBMISSION = "submission", _("Data submission")

    province = models.ForeignKey("geo.Province", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    day = models.DateField()
    source = models.CharField(max_length=16, choices=Source.choices)
    code = models.CharField(max_length=60)
    count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "provinces_rejection_reason_day"
        verbose_name = _("rejection reasons of a day")
        verbose_name_plural = _("rejection reasons per day")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "day", "source", "code"], nulls_distinct=False, name="rejection_reason_day_unique"
            ),
        ]
        indexes = [models.Index(fields=["day", "province"], name="rejection_reason_day_day")]

    def __str__(self) -> str:
        return f"{self.province_id} {self.day} {self.code}: {self.count}"
