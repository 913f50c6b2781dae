from django.urls import path

from facilities import views, views_credentials, views_import

urlpatterns = [
    path("", views.facility_list_view, name="facility-list"),
    path("export/", views.facility_export_view, name="facility-export"),
    path("register/", views.facility_register_view, name="facility-register"),
    path("queue/", views.approval_queue_view, name="facility-queue"),
    path("import/", views_import.import_view, name="facility-import"),
    path("import/<uuid:upload_id>/confirm/", views_import.import_confirm_view, name="facility-import-confirm"),
    path("mine/credentials/", views_credentials.my_credentials_view, name="facility-my-credentials"),
    path("<str:code>/", views.facility_detail_view, name="facility-detail"),
    path("<str:code>/edit/", views.facility_edit_view, name="facility-edit"),
    path("<str:code>/decide/<str:action>/", views.facility_decide_view, name="facility-decide"),
    path("<str:code>/remind/", views.facility_silent_remind_view, name="facility-silent-remind"),
    path("<str:code>/credentials/", views_credentials.credentials_view, name="facility-credentials"),
    path("<str:code>/credentials/keys/", views_credentials.api_key_create_view, name="facility-key-create"),
    path(
        "<str:code>/credentials/keys/<uuid:key_id>/revoke/",
        views_credentials.api_key_revoke_view,
        name="facility-key-revoke",
    ),
    path("<str:code>/credentials/certificates/", views_credentials.certificate_add_view, name="facility-cert-add"),
    path(
        "<str:code>/credentials/certificates/<uuid:cert_id>/revoke/",
        views_credentials.certificate_revoke_view,
        name="facility-cert-revoke",
    ),
]
