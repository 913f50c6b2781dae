from django.urls import path

from facilities.api import FacilityDetailApi, FacilityListApi

urlpatterns = [
    path("facilities/", FacilityListApi.as_view(), name="api-facility-list"),
    path("facilities/<str:code>/", FacilityDetailApi.as_view(), name="api-facility-detail"),
]
