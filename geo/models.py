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


class CommuneKind(models.TextChoices):
    """The three kinds of commune-level unit since 1 July 2025 (Law 72/2025/QH15)."""

    XA = "xa", _("commune (xã)")
    PHUONG = "phuong", _("ward (phường)")
    DAC_KHU = "dac_khu", _("special zone (đặc khu)")


class Commune(models.Model):
    """One of the 3,321 commune-level units (xã / phường / đặc khu) in force since 1 July 2025,
    under its province: there is no district level any more.

    Codes are the national statistics office's five digits (QĐ 19/2025/QĐ-TTg), as XML 130 puts
    them in MAXA_CU_TRU. Reference data: loaded by a data migration, never edited by hand.
    """

    code = models.CharField(_("code"), max_length=5, unique=True)
    name_vi = models.CharField(_("Vietnamese name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=CommuneKind.choices)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="communes")

    class Meta:
        db_table = "geo_commune"
        ordering = ["code"]
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        indexes = [models.Index(fields=["province", "name_vi"], name="geo_commune_province_name")]
        constraints = [
            models.CheckConstraint(name="geo_commune_code_5_digits", condition=models.Q(code__regex=r"^[0-9]{5}$"))
        ]

    def __str__(self) -> str:
        return self.name_vi
