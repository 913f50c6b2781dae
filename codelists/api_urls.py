from django.urls import path

from codelists import api

urlpatterns = [
    path("codelists/systems/", api.SystemListApi.as_view(), name="api-codelists-systems"),
    path("codelists/systems/<slug:key>/", api.SystemDetailApi.as_view(), name="api-codelists-system"),
    path("codelists/systems/<slug:key>/versions/", api.VersionListApi.as_view(), name="api-codelists-versions"),
    path(
        "codelists/systems/<slug:key>/versions/<int:version_id>/concepts/",
        api.ConceptListApi.as_view(),
        name="api-codelists-concepts",
    ),
    path("codelists/systems/<slug:key>/validate/", api.ValidateApi.as_view(), name="api-codelists-validate"),
]
