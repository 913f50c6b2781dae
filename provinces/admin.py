from django.contrib import admin

from provinces.models import RolloutTarget


@admin.register(RolloutTarget)
class RolloutTargetAdmin(admin.ModelAdmin):
    """Targets and denominators are data: ministry operations edit them here."""

    list_display = (
        "province",
        "year",
        "population",
        "population_is_approximate",
        "books_target",
        "users_target",
        "facilities_connected_target_pct",
        "population_as_of",
        "target_as_of",
    )
    list_filter = ("year", "population_is_approximate")
    search_fields = ("province__code", "province__name_vi")
