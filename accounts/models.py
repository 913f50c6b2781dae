import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DOCTOR = "doctor", _("Doctor")
    FACILITY_ADMIN = "facility_admin", _("Facility administrator")
    PROVINCE_OFFICER = "province_officer", _("Provincial health officer")
    PUBLIC_HEALTH_OFFICER = "public_health_officer", _("Province public-health officer")
    MINISTRY_EDITOR = "ministry_editor", _("Ministry code-list editor")
    MINISTRY_ADMIN = "ministry_admin", _("Ministry administrator")


FACILITY_ROLES = frozenset({Role.DOCTOR, Role.FACILITY_ADMIN})
MINISTRY_ROLES = frozenset({Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN})
# Accounts that a second party must approve before they work (see User.is_pending).
APPROVAL_ROLES = frozenset({Role.DOCTOR, Role.MINISTRY_ADMIN})
# Letters, digits and the separators certificate numbers use ("000123/HNO-CCHN", "0012345/BYT-GPHN").
PRACTISING_CERTIFICATE_RE = r"^[0-9A-Za-z][0-9A-Za-z./ -]{3,39}$"


class User(AbstractUser):
    """A member of staff: a doctor or facility administrator (tied to one facility), a
    provincial health officer (one of the 34 provinces) or ministry staff (national).

    Superusers without a role exist only for Django admin and operations.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    province = models.ForeignKey(
        "geo.Province",
        verbose_name=_("province"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    facility = models.ForeignKey(
        "facilities.Facility",
        verbose_name=_("facility"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="vi")
    is_demo = models.BooleanField(
        _("demo account"), default=False, help_text=_("Demo accounts may skip MFA only while DEBUG is on.")
    )
    created_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A doctor's practising certificate (chứng chỉ hành nghề / giấy phép hành nghề), declared by the
    # facility and checked by the province against its register. Free text: the number's format is
    # not published in one place (e.g. "000123/HNO-CCHN"); see PRACTISING_CERTIFICATE_RE.
    practising_certificate = models.CharField(_("practising certificate number"), max_length=40, blank=True)
    # The second party's approval: the province for a doctor, another ministry administrator for a
    # ministry administrator (APPROVAL_ROLES). Until then the account cannot sign in.
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = UserManager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.CheckConstraint(
                name="user_role_scope_consistent",
                condition=(
                    Q(role="")
                    | (Q(role__in=["doctor", "facility_admin"]) & Q(facility__isnull=False) & Q(province__isnull=False))
                    | (
                        Q(role__in=["province_officer", "public_health_officer"])
                        & Q(province__isnull=False)
                        & Q(facility__isnull=True)
                    )
                    | (
                        Q(role__in=["ministry_editor", "ministry_admin"])
                        & Q(province__isnull=True)
                        & Q(facility__isnull=True)
                    )
                ),
            ),
            # One certificate number per doctor account at a facility (the province sees the others).
            models.UniqueConstraint(
                fields=["facility", "practising_certificate"],
                condition=Q(role="doctor") & ~Q(practising_certificate=""),
                name="user_doctor_certificate_unique",
            ),
        ]
        indexes = [models.Index(fields=["role", "province"]), models.Index(fields=["facility"])]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_pending(self) -> bool:
        """A doctor the province has not confirmed, or a ministry administrator no second
        administrator has approved: such an account exists but cannot sign in or be named by
        software (accounts.backends, healthbook.book.access)."""
        return self.role in APPROVAL_ROLES and self.approved_at is None

    @property
    def is_ministry(self) -> bool:
        return self.role in MINISTRY_ROLES

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class AuthEvent(models.Model):
    """One login, failed login or logout, kept for the security record."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logout")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="auth_events")
    username_tried = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("authentication event")
        verbose_name_plural = _("authentication events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username_tried}"


class AuditEvent(models.Model):
    """A change made by a member of staff to accounts or reference data: who, what, when."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="audit_events")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"


class DemoStepApplied(models.Model):
    """A step of `seed_demo` (accounts.management.commands.seed_demo.DEMO_STEPS) that ran to the
    end, with the fingerprint of what it ran (command, arguments, the command's source): a warm
    `make run` skips the steps whose fingerprint is unchanged."""

    name = models.CharField(max_length=100, unique=True)
    fingerprint = models.CharField(max_length=64)
    seconds = models.FloatField(default=0)
    applied_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("applied demo step")
        verbose_name_plural = _("applied demo steps")

    def __str__(self) -> str:
        return self.name
