import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from facilities.validators import tax_code_normalize, validate_tax_code


class Ownership(models.TextChoices):
    PUBLIC = "public", pgettext_lazy("facility ownership", "Public")
    PRIVATE = "private", pgettext_lazy("facility ownership", "Private")


class Level(models.TextChoices):
    CENTRAL = "central", _("Central hospital")
    PROVINCIAL = "provincial", _("Provincial hospital")
    REGIONAL = "regional", _("Regional medical centre")
    COMMUNE_STATION = "commune_station", _("Commune health station")
    PRIVATE_HOSPITAL = "private_hospital", _("Private hospital")
    PRIVATE_CLINIC = "private_clinic", _("Private clinic")
    OTHER = "other", _("Other facility")


class FacilityStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    CONNECTED = "connected", _("Connected")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


# Statuses in which a facility is expected to send data (and can be "silent").
EXPECTED_TO_SEND = (FacilityStatus.APPROVED, FacilityStatus.CONNECTED)
# Statuses in which a facility's staff read nothing and its keys and tokens work for nothing
# (issue 15, attack 8): the province suspended it, it closed, or its registration was rejected.
STOPPED = (FacilityStatus.SUSPENDED, FacilityStatus.CLOSED, FacilityStatus.REJECTED)


class FacilityQuerySet(models.QuerySet):
    def silent(self, *, cutoff):
        """Facilities expected to send data with nothing accepted since `cutoff`.

        A facility that never sent anything counts from its approval.
        """
        return self.filter(status__in=EXPECTED_TO_SEND).filter(
            Q(last_accepted_at__lt=cutoff) | Q(last_accepted_at__isnull=True, approved_at__lt=cutoff)
        )

    def not_silent(self, *, cutoff):
        return self.exclude(pk__in=self.silent(cutoff=cutoff).values("pk"))


class Facility(models.Model):
    """An examination and treatment facility (cơ sở khám bệnh, chữa bệnh).

    The code (mã cơ sở KCB) is five characters kept as a string; its first two digits
    follow the old province numbering, so the province is stored on its own. "Connected"
    is never set by hand: the first accepted data submission sets it.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("facility code"), max_length=5, unique=True)
    name = models.CharField(_("name"), max_length=255)
    province = models.ForeignKey("geo.Province", on_delete=models.PROTECT, related_name="facilities")
    # The commune is chosen from the 3,321 communes of 1 July 2025 (geo.Commune); `commune` keeps
    # its name, written by the services and the import from the chosen unit (search, display).
    commune_unit = models.ForeignKey(
        "geo.Commune",
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="facilities",
    )
    commune = models.CharField(_("commune / ward"), max_length=150, blank=True, default="", editable=False)
    address = models.CharField(_("address"), max_length=300, blank=True, default="")
    ownership = models.CharField(_("ownership"), max_length=16, choices=Ownership.choices, default=Ownership.PUBLIC)
    level = models.CharField(_("level"), max_length=32, choices=Level.choices, default=Level.OTHER)
    has_insurance_contract = models.BooleanField(_("health-insurance contract"), default=False)
    # Mã số thuế: 10 digits, or 10-3 for a branch (facilities/validators.py). A signing
    # certificate must name the facility's code or this tax code in its subject.
    tax_code = models.CharField(
        _("tax code (MST)"),
        max_length=14,
        blank=True,
        default="",
        validators=[validate_tax_code],
        help_text=_("10 digits, or 10 digits, a dash and 3 digits for a branch. Signing certificates name it."),
    )
    signature_required = models.BooleanField(
        _("signature required"),
        default=True,
        help_text=_("Submissions must be signed with a registered certificate. Turn off only for a pilot."),
    )
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True, default="")
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True, default="")
    contact_email = models.EmailField(_("contact email"), blank=True, default="")
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    expected_monthly_visits = models.PositiveIntegerField(_("expected visits per month"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FacilityStatus.choices, default=FacilityStatus.PENDING
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    first_accepted_at = models.DateTimeField(_("first accepted submission"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    last_accepted_at = models.DateTimeField(_("last accepted submission"), null=True, blank=True)
    # Lower-case, accent-free code + name + commune + address, for search without
    # diacritics ("benh vien" finds "Bệnh viện"). Computed by PostgreSQL on every write path
    # (services, import, admin, fixtures), indexed with trigrams.
    search_text = models.GeneratedField(
        expression=Func(
            F("code"),
            F("name"),
            F("commune"),
            F("address"),
            template="lower(facilities_unaccent(%(expressions)s))",
            arg_joiner=" || ' ' || ",
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = FacilityQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        indexes = [
            models.Index(fields=["province", "status"], name="facility_province_status"),
            models.Index(fields=["status", "last_accepted_at"], name="facility_status_accepted"),
            GinIndex(OpClass(F("search_text"), name="gin_trgm_ops"), name="facility_search_trgm"),
        ]
        constraints = [
            models.CheckConstraint(name="facility_code_five_digits", condition=Q(code__regex=r"^[0-9]{5}$")),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("facility-detail", kwargs={"code": self.code})

    def clean(self):
        """Check the code against the province: its first two digits must be an old (63-unit)
        province code that was merged into this facility's province, because codes were
        issued under the old numbering. The tax code is kept in one written form."""
        from django.core.exceptions import ValidationError

        from geo.models import OldProvinceCode

        if self.tax_code:
            self.tax_code = tax_code_normalize(self.tax_code)
        if self.commune_unit_id and self.province_id and self.commune_unit.province_id != self.province_id:
            raise ValidationError({"commune_unit": _("This commune is not in the facility's province.")})
        if not self.code or not self.province_id:
            return
        if not (len(self.code) == 5 and self.code.isascii() and self.code.isdigit()):
            raise ValidationError({"code": _("The facility code must be exactly 5 digits.")})
        old = OldProvinceCode.objects.filter(code=self.code[:2]).values_list("province_id", flat=True).first()
        if old is None:
            raise ValidationError({"code": _("The first two digits of the code are not a province code.")})
        if old != self.province_id:
            raise ValidationError({"code": _("The first two digits of the code belong to another province.")})

    @property
    def is_operational(self) -> bool:
        """Whether facility software may send data now (approved or connected)."""
        return self.status in EXPECTED_TO_SEND

    @property
    def is_stopped(self) -> bool:
        """Suspended, closed or rejected: its doctors open no book by any path (pages, APIs,
        emergency access), and its keys and tokens are refused. A pending facility is not
        stopped: its doctors work once the province confirms them."""
        return self.status in STOPPED


class FacilityStatusChange(models.Model):
    """One step of a facility's status history: who moved it, when and why.

    `actor` is empty when the system made the change (the first accepted submission).
    """

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=FacilityStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=FacilityStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["facility", "-at"], name="facility_status_change_at")]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.facility_id}: {self.from_status or '∅'} → {self.to_status}"


def api_key_default_expiry():
    """When a key created now stops working (SSKDT_API_KEY_DAYS, read at creation)."""
    from datetime import timedelta

    return timezone.now() + timedelta(days=settings.SSKDT_API_KEY_DAYS)


class FacilityApiKey(models.Model):
    """A named API key of one facility's software. Only a SHA-256 digest of the key is kept.

    Keys are long random tokens, so a fast hash is enough (nothing to brute-force); the
    `prefix` finds the row without scanning. Several keys may live at once so that a
    facility can rotate without downtime; a revoked key stops working at once, and every key
    stops at `expires_at` (SSKDT_API_KEY_DAYS after its creation; the facility's administrators
    are reminded SSKDT_API_KEY_REMINDER_DAYS before, facilities.credentials.api_keys_expiry_remind).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"), default=api_key_default_expiry)
    expiry_reminded_at = models.DateTimeField(_("expiry reminder sent"), null=True, blank=True)
    # Where the portal may send a doctor back with an authorization code for this software (OAuth2
    # redirect URIs, one per line, matched exactly). Without one, the key cannot read books.
    redirect_uris = models.TextField(_("sign-in return addresses"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.facility_id}:{self.name} ({self.prefix}…)"

    @property
    def redirect_uri_list(self) -> list[str]:
        return [line.strip() for line in self.redirect_uris.splitlines() if line.strip()]

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def expires_soon(self) -> bool:
        """Active, and expiring within SSKDT_API_KEY_REMINDER_DAYS (its page warns)."""
        from datetime import timedelta

        if self.revoked_at is not None or self.is_expired:
            return False
        return self.expires_at <= timezone.now() + timedelta(days=settings.SSKDT_API_KEY_REMINDER_DAYS)


class SoftwareAuthorizationCode(models.Model):
    """A doctor's consent, signed in to the portal, that one facility software (API key) reads
    books for them: a one-time authorization code (OAuth2 RFC 6749 §4.1) bound to the key, the
    redirect address and a PKCE challenge (RFC 7636, S256), valid for a minute. Only its SHA-256
    digest is kept."""

    code_hash = models.CharField(max_length=64, unique=True)
    api_key = models.ForeignKey(FacilityApiKey, on_delete=models.CASCADE, related_name="authorization_codes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.TextField()
    scope = models.CharField(max_length=100)
    code_challenge = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("software authorization code")
        verbose_name_plural = _("software authorization codes")

    def __str__(self) -> str:
        return f"code for {self.user_id} via {self.api_key_id}"


class PractitionerToken(models.Model):
    """A short-lived bearer token with which one facility software (API key) reads books for
    one doctor, issued for an authorization code the doctor granted (SSKDT_PRACTITIONER_TOKEN_MINUTES).
    Only its SHA-256 digest is kept; revoking the key, deactivating the doctor or revoking the
    token stops it on the next request."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    api_key = models.ForeignKey(FacilityApiKey, on_delete=models.CASCADE, related_name="practitioner_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practitioner_tokens")
    code = models.ForeignKey(SoftwareAuthorizationCode, on_delete=models.SET_NULL, null=True, related_name="tokens")
    scope = models.CharField(max_length=100)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("practitioner token")
        verbose_name_plural = _("practitioner tokens")
        indexes = [models.Index(fields=["user", "expires_at"], name="practitioner_token_user")]

    def __str__(self) -> str:
        return f"token {self.public_id} for {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class TrustAnchor(models.Model):
    """A certification authority's certificate the ministry trusts (`manage.py ca_trust`):
    a facility's signing certificate is trusted only when it chains to one of these.

    Rows are never deleted: removing an anchor stamps `removed_at`, and every certificate that
    chained to it stops being trusted at once (FacilityCertificate.objects.trusted()).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pem = models.TextField()
    subject = models.CharField(_("subject"), max_length=500)
    fingerprint_sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=95, unique=True)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    added_at = models.DateTimeField(_("added at"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    class Meta:
        ordering = ["subject"]
        verbose_name = _("trust anchor")
        verbose_name_plural = _("trust anchors")

    def __str__(self) -> str:
        return self.subject


class CertificateTrust(models.TextChoices):
    ANCHORED = "anchored", _("Chains to a trusted certification authority")
    SELF_SIGNED = "self_signed", _("Self-signed (accepted in development only)")
    UNCHECKED = "unchecked", _("Registered before the trust rules; not trusted")


class FacilityCertificateQuerySet(models.QuerySet):
    def trusted(self):
        return self.filter(trusted_q())


def trusted_q() -> Q:
    """The certificates whose signatures are trusted now: chained at registration to an anchor
    that is still registered; self-signed ones only while DEBUG is on (read at call time)."""
    q = Q(trust=CertificateTrust.ANCHORED, anchor__removed_at__isnull=True, anchor__isnull=False)
    if settings.DEBUG:
        q |= Q(trust=CertificateTrust.SELF_SIGNED)
    return q


class FacilityCertificate(models.Model):
    """An X.509 signing certificate of a facility, as uploaded (PEM or DER, kept as PEM) with
    its parsed facts and how it is trusted (facilities/certificates.py).

    Expired and revoked certificates are kept: data signed while they were valid must
    still verify.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="certificates")
    pem = models.TextField()
    # Intermediate CA certificates uploaded with it (PEM), used to build the chain.
    chain_pem = models.TextField(blank=True, default="")
    subject = models.CharField(_("subject"), max_length=500)
    issuer = models.CharField(_("issuer"), max_length=500)
    serial_number = models.CharField(_("serial number"), max_length=100)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    fingerprint_sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=95)
    trust = models.CharField(
        _("trust"), max_length=16, choices=CertificateTrust.choices, default=CertificateTrust.UNCHECKED
    )
    anchor = models.ForeignKey(
        TrustAnchor, on_delete=models.PROTECT, null=True, blank=True, related_name="certificates"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.TextField(_("reason"), blank=True)

    objects = FacilityCertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-not_after"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "fingerprint_sha256"], name="facility_cert_unique"),
        ]
        verbose_name = _("signing certificate")
        verbose_name_plural = _("signing certificates")

    def __str__(self) -> str:
        return f"{self.facility_id}: {self.subject}"

    @property
    def is_expired(self) -> bool:
        return self.not_after < timezone.now()

    @property
    def is_trusted(self) -> bool:
        """The row form of trusted_q() (the anchor is read: select_related it for lists)."""
        if self.trust == CertificateTrust.SELF_SIGNED:
            return settings.DEBUG
        return self.trust == CertificateTrust.ANCHORED and self.anchor is not None and self.anchor.removed_at is None

    @property
    def distrust_reason(self) -> str:
        """Why its signatures are not accepted: "unchecked", "anchor_removed",
        "self_signed" (DEBUG is off), or "" when trusted."""
        if self.is_trusted:
            return ""
        if self.trust == CertificateTrust.ANCHORED:
            return "anchor_removed"
        return str(self.trust)

    def was_valid_at(self, at) -> bool:
        """Whether data signed at `at` may be verified with this certificate."""
        return self.not_before <= at <= self.not_after and (self.revoked_at is None or at < self.revoked_at)


class FacilityDailyHealth(models.Model):
    """What one facility sent on one day (Vietnam time): submissions received, accepted,
    rejected, and the last contact / last accepted moment of that day.

    Written only by `facility_connection_event_record` with one upsert per event. Each
    rejected submission adds one to `rejected` and one to its reason in `rejection_reasons`
    (reason code → count) in the same statement, so the dashboards' rejection trend and their
    "common rejection reasons" are the same count (issue 18).
    """

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="daily_health")
    day = models.DateField()
    received = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejection_reasons = models.JSONField(default=dict, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    last_accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["facility", "day"]
        constraints = [models.UniqueConstraint(fields=["facility", "day"], name="facility_daily_health_unique")]
        verbose_name = _("daily connection health")
        verbose_name_plural = _("daily connection health")

    def __str__(self) -> str:
        return f"{self.facility_id} {self.day}: {self.accepted}/{self.received}"


class FacilityReminder(models.Model):
    """An e-mail a province officer sent to a silent facility's registered contact, asking it to
    check its connection. At most one per facility and day, whoever asks (unique constraint)."""

    class Kind(models.TextChoices):
        SILENT = "silent", _("Silent facility")

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SILENT)
    day = models.DateField(help_text="The day in Vietnam the reminder was sent.")
    sent_to = models.EmailField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["facility", "kind", "day"], name="facility_reminder_once_a_day")]
        verbose_name = _("facility reminder")
        verbose_name_plural = _("facility reminders")

    def __str__(self) -> str:
        return f"{self.facility_id} {self.kind} {self.day}"


class FacilityImportUpload(models.Model):
    """A spreadsheet uploaded for bulk onboarding, kept between the preview and the
    confirmed import (in the database, so any web process can finish it)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("facility import file")
        verbose_name_plural = _("facility import files")

    def __str__(self) -> str:
        return self.file_name
