from django.contrib import admin

from geo.models import OldProvinceCode, Province


class OldProvinceCodeInline(admin.TabularInline):
    model = OldProvinceCode
    extra = 0


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name_vi", "name_en", "population_approx")
    search_fields = ("code", "name_vi", "name_en")
    inlines = [OldProvinceCodeInline]
