"""Cohorts as data (issue 20): a named rule over the book, kept in versions, and what the nightly
job computed from it.

A version is never changed once written: editing a cohort adds a version, and the runs, members
and counts name the version they were computed from, so a figure always says which rule made it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CohortDefinition(models.Model):
    """A cohort by its stable key (URLs, exports); its rule lives in its versions."""

    key = models.SlugField(_("key"), max_length=80, unique=True)
    active = models.BooleanField(_("active"), default=True, help_text=_("Inactive cohorts are not computed."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")

    def __str__(self):
        return self.key


class CohortVersionQuerySet(models.QuerySet):
    def current(self):
        """The newest version of each active cohort."""
        return (
            self.filter(definition__active=True)
            .order_by("definition_id", "-number")
            .distinct("definition_id")
            .select_related("definition")
        )


class CohortVersion(models.Model):
    """One version of a cohort's rule: a name, a description and the criteria (JSON, validated by
    cohorts.criteria.validate). Written once, never updated."""

    definition = models.ForeignKey(CohortDefinition, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    criteria = models.JSONField(_("criteria"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CohortVersionQuerySet.as_manager()

    class Meta:
        ordering = ["definition_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["definition", "number"], name="cohort_version_unique")]

    def __str__(self):
        return f"{self.definition.key} v{self.number}"


class CohortRun(models.Model):
    """One computation of every current cohort for one province, or for the nation (province
    empty: the sum of a nightly run over every province). Its time is the job's time."""

    province = models.ForeignKey("geo.Province", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    as_of = models.DateField(_("as of"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    members = models.PositiveIntegerField(_("members"), default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["province", "-started_at"], name="cohort_run_province")]

    def __str__(self):
        return f"{self.province_id or 'national'} {self.started_at:%Y-%m-%d %H:%M}"


class CohortMembership(models.Model):
    """A citizen in a cohort version, as of the last run of their province of residence: the
    commune of residence and the facility of their last visit. Rows of a province are replaced
    in one transaction by each run (cohorts.services.memberships_compute)."""

    version = models.ForeignKey(CohortVersion, on_delete=models.CASCADE, related_name="+")
    citizen = models.ForeignKey(
        "healthbook.Citizen", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    province = models.ForeignKey("geo.Province", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    commune_code = models.CharField(max_length=5, blank=True)
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    run = models.ForeignKey(CohortRun, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    # When that last visit was, as of the run (the line list's "last contact"; the job reads it with
    # the facility, so a list of 5,000 people does not probe every visit partition per person).
    last_visit_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "citizen"], name="cohort_membership_unique"),
        ]
        indexes = [
            models.Index(fields=["province", "version", "commune_code"], name="cohort_member_province"),
        ]

    def __str__(self):
        return f"{self.version_id}:{self.citizen_id}"


class CohortTotal(models.Model):
    """What the counts pages and exports read: members of a cohort version in one run, in all
    (dimension "all": one row), by commune of residence ("commune": a row per commune with
    members, code empty when not known) and by facility of last visit ("facility": a row per
    facility, empty when no visit). Written by the job in the run's transaction (one GROUP BY
    GROUPING SETS over the memberships) and kept for every run (the trend), so a page reads a
    few hundred rows and sums none."""

    ALL, COMMUNE, FACILITY = "all", "commune", "facility"
    DIMENSIONS = [(ALL, ALL), (COMMUNE, COMMUNE), (FACILITY, FACILITY)]

    run = models.ForeignKey(CohortRun, on_delete=models.CASCADE, related_name="totals")
    version = models.ForeignKey(CohortVersion, on_delete=models.CASCADE, related_name="+")
    province = models.ForeignKey("geo.Province", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    dimension = models.CharField(max_length=8, choices=DIMENSIONS)
    commune_code = models.CharField(max_length=5, blank=True)
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    members = models.PositiveIntegerField()
    # The facility table as the job suppressed it (cohorts.suppression, once per run: the table is
    # fixed for the run's life): a facility row's state and its place on the page; on the "all"
    # row, the state of the facility table's total. Empty on runs from before the job kept them.
    cell = models.CharField(max_length=6, blank=True, db_default="")
    rank = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "dimension", "version"], name="cohort_total_run")]

    def __str__(self):
        return (
            f"{self.run_id}:{self.version_id} {self.dimension} {self.commune_code or self.facility_id} {self.members}"
        )
