from django.urls import path

from cohorts import views

urlpatterns = [
    path("", views.cohorts_mine_view, name="cohorts-mine"),
    path("national/", views.cohorts_national_view, name="cohorts-national"),
    path("national/export/<slug:table>.<slug:fmt>", views.cohorts_national_export_view, name="cohorts-national-export"),
    path("definitions/", views.definitions_view, name="cohorts-definitions"),
    path("definitions/new/", views.definition_new_view, name="cohorts-definition-new"),
    path("definitions/<slug:key>/", views.definition_view, name="cohorts-definition"),
    path("province/<str:code>/", views.cohorts_province_view, name="cohorts-province"),
    path(
        "province/<str:code>/export/<slug:table>.<slug:fmt>",
        views.cohorts_province_export_view,
        name="cohorts-province-export",
    ),
    path("province/<str:code>/<slug:key>/", views.cohort_detail_view, name="cohorts-detail"),
    path(
        "province/<str:code>/<slug:key>/export/<slug:table>.<slug:fmt>",
        views.cohort_detail_export_view,
        name="cohorts-detail-export",
    ),
]
