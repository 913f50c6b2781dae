from django.urls import path

from healthbook.api import CardBatchCreateApi, CardBatchDetailApi, CardBatchRejectedApi
from healthbook.intake.api import SubmissionCreateApi, SubmissionDetailApi

urlpatterns = [
    path("card-batches/", CardBatchCreateApi.as_view(), name="api-card-batches"),
    path("card-batches/<uuid:public_id>/", CardBatchDetailApi.as_view(), name="api-card-batch"),
    path(
        "card-batches/<uuid:public_id>/rejected-rows.csv", CardBatchRejectedApi.as_view(),
        name="api-card-batch-rejected",
    ),
    path("submissions/", SubmissionCreateApi.as_view(), name="api-submissions"),
    path("submissions/<uuid:public_id>/", SubmissionDetailApi.as_view(), name="api-submission"),
]
