from django.urls import path

from accounts.api import MeApi, StaffListApi

urlpatterns = [
    path("me/", MeApi.as_view(), name="api-me"),
    path("staff/", StaffListApi.as_view(), name="api-staff"),
]
