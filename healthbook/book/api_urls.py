from django.urls import path

from healthbook.book.api import CitizenAccessLogApi, CitizenHistoryApi

urlpatterns = [
    path("citizens/<str:personal_id>/history/", CitizenHistoryApi.as_view(), name="api-citizen-history"),
    path("citizens/<str:personal_id>/access-log/", CitizenAccessLogApi.as_view(), name="api-citizen-access-log"),
]
