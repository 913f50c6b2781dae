from django.urls import path

from geo.api import ProvinceListApi

urlpatterns = [path("provinces/", ProvinceListApi.as_view(), name="api-provinces")]
