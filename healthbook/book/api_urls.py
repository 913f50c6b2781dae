from django.urls import path

from healthbook.book.api import CitizenAccessLogApi, CitizenHistoryApi, CitizenLookupApi

# Personal IDs never travel in a URL (they reach request and proxy logs): the citizen is named by
# the book's opaque public id, and lookups by personal ID send it in the body.
urlpatterns = [
    path("citizens/lookup/", CitizenLookupApi.as_view(), name="api-citizen-lookup"),
    path("citizens/access-log/", CitizenAccessLogApi.as_view(), name="api-citizen-access-log"),
    path("citizens/<uuid:book>/history/", CitizenHistoryApi.as_view(), name="api-citizen-history"),
]
