"""Admin helpers shared by the apps."""

from django.contrib import admin


class RecordAdmin(admin.ModelAdmin):
    """A record of what happened (audit, sign-in attempts, access or change logs): staff may
    read it in the admin, never add, change or delete it (issue 15, attack 14). Records are
    written by the services that act; a record editable by an administrator proves nothing.
    tests/accounts/test_admin_records.py checks every registration of a record model."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
