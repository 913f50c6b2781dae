from django.urls import include, path

from citizenapi import api

# No personal ID in any URL: the citizen is the token's (citizenapi.auth).
app_name = "citizenapi"
urlpatterns = [
    path("summary/", api.SummaryApi.as_view(), name="summary"),
    path("visits/", api.VisitsApi.as_view(), name="visits"),
    path("labs/", api.LabsApi.as_view(), name="labs"),
    path("labs/<str:code>/", api.LabSeriesApi.as_view(), name="lab-series"),
    path("vaccinations/", api.VaccinationsApi.as_view(), name="vaccinations"),
    path("prescriptions/", api.PrescriptionsApi.as_view(), name="prescriptions"),
    path("follow-ups/", api.FollowUpsApi.as_view(), name="follow-ups"),
    path("pregnancies/", api.PregnanciesApi.as_view(), name="pregnancies"),
    path("certificates/", api.CertificatesApi.as_view(), name="certificates"),
    path("certificates/<slug:kind>/<int:cert_id>/", api.CertificateApi.as_view(), name="certificate"),
    path("certificates/<slug:kind>/<int:cert_id>/file/", api.CertificateFileApi.as_view(), name="certificate-file"),
    path("access-log/", api.AccessLogApi.as_view(), name="access-log"),
    path("", include("citizenapi.consent_urls")),  # consent and copies (issue 19, points 2-3)
]
