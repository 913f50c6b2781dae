from django.urls import path

from healthbook.book.fhir import PatientEverythingView

urlpatterns = [
    path("Patient/<str:id>/$everything", PatientEverythingView.as_view(), name="fhir-patient-everything"),
]
