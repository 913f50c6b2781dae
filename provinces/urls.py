from django.urls import path

from provinces import views

urlpatterns = [
    path("", views.dashboard_mine_view, name="dashboard-mine"),
    path("national/", views.national_dashboard_view, name="dashboard-national"),
    path("national/export/<slug:table>.<slug:fmt>", views.national_export_view, name="dashboard-national-export"),
    path("province/<str:code>/", views.province_dashboard_view, name="dashboard-province"),
    path("province/<str:code>/communes/", views.province_communes_view, name="dashboard-province-communes"),
    path(
        "province/<str:code>/communes/export/<slug:table>.<slug:fmt>",
        views.province_communes_export_view,
        name="dashboard-province-communes-export",
    ),
    path(
        "province/<str:code>/export/<slug:table>.<slug:fmt>",
        views.province_export_view,
        name="dashboard-province-export",
    ),
]
