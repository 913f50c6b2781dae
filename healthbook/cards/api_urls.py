from django.urls import path

from healthbook.cards.api import CardBatchCreateApi, CardBatchDetailApi, CardBatchRejectedApi

urlpatterns = [
    path("card-batches/", CardBatchCreateApi.as_view(), name="api-card-batches"),
    path("card-batches/<uuid:public_id>/", CardBatchDetailApi.as_view(), name="api-card-batch"),
    path(
        "card-batches/<uuid:public_id>/rejected-rows.csv",
        CardBatchRejectedApi.as_view(),
        name="api-card-batch-rejected",
    ),
]
