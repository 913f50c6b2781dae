import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Facility(models.Model):
    """An examination and treatment facility (cơ sở khám bệnh, chữa bệnh).

    The code (mã cơ sở KCB) is five characters kept as a string; its first two digits
    follow the old province numbering, so the province is stored on its own.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("facility code"), max_length=5, unique=True)
    name = models.CharField(_("name"), max_length=255)
    province = models.ForeignKey("provinces.Province", on_delete=models.PROTECT, related_name="facilities")

    class Meta:
        ordering = ["code"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"
