from django.urls import path

from healthbook.intake.api import SubmissionCreateApi, SubmissionDetailApi

urlpatterns = [
    path("submissions/", SubmissionCreateApi.as_view(), name="api-submissions"),
    path("submissions/<uuid:public_id>/", SubmissionDetailApi.as_view(), name="api-submission"),
]
