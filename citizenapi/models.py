"""The VNeID platform as an API client: its registered signing keys and the token ids it has
used (docs/citizen-api.md).

The platform holds the private key; the portal keeps only the public key, registered with
`manage.py citizen_platform_key`. A token id (jti) is kept until the token's expiry: the same
token presented twice is a replay and is refused.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlatformClient(models.Model):
    """The citizen platform (VNeID) that calls the citizen API for citizens it identified.

    `issuer` is the `iss` claim of its tokens. A revoked client's tokens are all refused."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    issuer = models.CharField(_("issuer"), max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("citizen platform client")
        verbose_name_plural = _("citizen platform clients")

    def __str__(self) -> str:
        return f"{self.name} ({self.issuer})"


class PlatformKey(models.Model):
    """One Ed25519 public key of the platform (tokens name it in their `kid` header), so keys can
    be rotated: a new key is registered before the old one is revoked."""

    client = models.ForeignKey(PlatformClient, on_delete=models.PROTECT, related_name="keys")
    kid = models.CharField(_("key id"), max_length=64, unique=True)
    public_key_pem = models.TextField()
    fingerprint_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("citizen platform key")
        verbose_name_plural = _("citizen platform keys")

    def __str__(self) -> str:
        return f"{self.kid} ({self.fingerprint_sha256[:16]}…)"


class TokenUse(models.Model):
    """A token id seen once: a second presentation before `expires_at` is a replay. Rows past
    their expiry are purged by `token_uses_purge_task` (the token itself is refused by then)."""

    client = models.ForeignKey(PlatformClient, on_delete=models.PROTECT, related_name="+")
    jti = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="citizenapi_token_use_once")]
        indexes = [models.Index(fields=["expires_at"], name="citizenapi_token_use_expiry")]

    def __str__(self) -> str:
        return self.jti
