from django.urls import path

from provinces.api import ProvinceListApi

urlpatterns = [path("provinces/", ProvinceListApi.as_view(), name="api-provinces")]
