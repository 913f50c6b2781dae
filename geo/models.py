"""The ground everything stands on: Vietnam's provinces since 1 July 2025, and the old codes
still carried by personal ID numbers and facility codes.

The tables keep the names they were created with (`provinces_*`): these models moved here from
the dashboards app without moving a row.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Province(models.Model):
    """One of the 34 provincial-level units (tỉnh / thành phố) in force since 1 July 2025."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    name_vi = models.CharField(_("Vietnamese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    population_approx = models.PositiveBigIntegerField(_("approximate population"), null=True, blank=True)
    population_is_approximate = models.BooleanField(_("population is approximate"), default=True)

    class Meta:
        db_table = "provinces_province"
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name_vi


class OldProvinceCode(models.Model):
    """A province code of the old 63-unit numbering, absorbed into one of today's provinces.

    Personal ID numbers (first three digits) and facility codes (first two) still carry it.
    """

    code = models.CharField(_("old code"), max_length=2, unique=True)
    province = models.ForeignKey(Province, on_delete=models.CASCADE, related_name="old_codes")

    class Meta:
        db_table = "provinces_oldprovincecode"
        ordering = ["code"]
        verbose_name = _("old province code")
        verbose_name_plural = _("old province codes")

    def __str__(self) -> str:
        return f"{self.code} → {self.province.code}"
