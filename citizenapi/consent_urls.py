"""The citizen API's consent and copy endpoints (included by citizenapi.urls, namespace
`citizenapi`, under /api/citizen/v1/; citizenapi.consent_api)."""

from django.urls import path

from citizenapi import consent_api as v

urlpatterns = [
    path("consent/closures/", v.ClosureListApi.as_view(), name="closures"),
    path("consent/closures/<int:pk>/revoke/", v.ClosureRevokeApi.as_view(), name="closure-revoke"),
    path("consent/share-codes/", v.ShareCodeListApi.as_view(), name="share-codes"),
    path("consent/share-codes/<int:pk>/revoke/", v.ShareCodeRevokeApi.as_view(), name="share-code-revoke"),
    path("copies/", v.CopyListApi.as_view(), name="copies"),
    path("copies/<uuid:public_id>/", v.CopyDetailApi.as_view(), name="copy"),
    path("copies/<uuid:public_id>/download/", v.CopyDownloadApi.as_view(), name="copy-download"),
]
