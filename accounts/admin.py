from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import AuditEvent, AuthEvent, User
from core.admin import RecordAdmin

# The admin has no login of its own: it sends people to the portal login, which applies the
# rate limits and the TOTP step (found by the proof suite, S3: its own form had neither).
admin.site.login = secure_admin_login(admin.site.login)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "full_name", "role", "province", "facility", "is_active")
    list_filter = ("role", "is_active", "province")
    search_fields = ("username", "full_name", "email")
    fieldsets = UserAdmin.fieldsets + (
        ("Portal", {"fields": ("full_name", "role", "province", "facility", "language", "is_demo")}),
    )


@admin.register(AuthEvent)
class AuthEventAdmin(RecordAdmin):
    list_display = ("at", "kind", "username_tried", "ip_address")
    list_filter = ("kind",)
    search_fields = ("username_tried",)


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    list_display = ("at", "actor", "action", "target_type", "target_id")
    list_filter = ("action",)
