from django.urls import path

from healthbook.fhir_everything import PatientEverythingView

urlpatterns = [
    path("Patient/<str:id>/$everything", PatientEverythingView.as_view(), name="fhir-patient-everything"),
]
