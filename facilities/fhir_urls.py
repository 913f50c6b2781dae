from django.urls import path

from facilities.fhir import LocationReadView, OrganizationReadView

urlpatterns = [
    path("Organization/<str:code>", OrganizationReadView.as_view(), name="fhir-organization-read"),
    path("Location/<str:code>", LocationReadView.as_view(), name="fhir-location-read"),
]
