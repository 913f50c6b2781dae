from django.urls import path

from publichealth import views

urlpatterns = [
    path("", views.cohort_index, name="ph-cohort-index"),
    path("cohorts/<int:version_id>/open/", views.line_list_open_view, name="ph-line-list-open"),
    path("lists/<uuid:public_id>/", views.line_list_view, name="ph-line-list"),
    path("lists/<uuid:public_id>/export/", views.line_list_export_view, name="ph-line-list-export"),
    path("lists/<uuid:public_id>/remind/", views.reminders_send_view, name="ph-reminders-send"),
]
