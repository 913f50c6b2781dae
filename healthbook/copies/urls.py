"""The ministry's data-protection report (mounted under /dashboards/data-protection/)."""

from django.urls import path

from healthbook.copies import views as v

urlpatterns = [
    path("", v.data_protection_view, name="data-protection"),
    path("copy-requests.csv", v.data_protection_csv_view, name="data-protection-csv"),
]
