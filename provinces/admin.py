from django.contrib import admin

from provinces.models import OldProvinceCode, Province, Reminder, RolloutTarget


class OldProvinceCodeInline(admin.TabularInline):
    model = OldProvinceCode
    extra = 0


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name_vi", "name_en", "population_approx")
    search_fields = ("code", "name_vi", "name_en")
    inlines = [OldProvinceCodeInline]


@admin.register(RolloutTarget)
class RolloutTargetAdmin(admin.ModelAdmin):
    """Targets and denominators are data: ministry operations edit them here."""

    list_display = ("province", "year", "population", "population_is_approximate", "books_target", "users_target",
                    "facilities_connected_target_pct", "population_as_of", "target_as_of")
    list_filter = ("year", "population_is_approximate")
    search_fields = ("province__code", "province__name_vi")


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("kind", "due_date", "status", "channel", "sent_at", "attempts")
    list_filter = ("kind", "status", "channel")
    raw_id_fields = ("citizen", "facility")
    readonly_fields = ("kind", "subject_key", "citizen", "facility", "due_date", "vaccine_code", "dose", "channel",
                       "status", "attempts", "last_error", "created_at", "sent_at")
