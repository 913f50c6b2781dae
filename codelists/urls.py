from django.urls import path

from codelists import impact_views, views

app_name = "codelists"

V = "<slug:key>/versions/<int:version_id>/"

urlpatterns = [
    path("", views.system_list_view, name="system-list"),
    # issue 17: the retired-code impact reports (before <key>/: a list key never reads "retired-codes")
    path("retired-codes/", impact_views.impact_index_view, name="impact-index"),
    path("<slug:key>/", views.system_detail_view, name="system-detail"),
    path("<slug:key>/compare/", views.compare_view, name="compare"),
    path("<slug:key>/history/", views.history_view, name="history"),
    path(V, views.version_detail_view, name="version-detail"),
    path(V + "settings/", views.draft_update_view, name="draft-update"),
    path(V + "submit/", views.version_submit_view, name="version-submit"),
    path(V + "publish/", views.version_publish_view, name="version-publish"),
    path(V + "send-back/", views.version_send_back_view, name="version-send-back"),
    path(V + "discard/", views.draft_discard_view, name="draft-discard"),
    path(V + "export.<str:fmt>", views.version_export_view, name="version-export"),
    path(V + "impact/", impact_views.impact_view, name="version-impact"),
    path(V + "impact.<str:fmt>", impact_views.impact_export_view, name="version-impact-export"),
    path(V + "import/", views.import_upload_view, name="import-upload"),
    path(V + "import/<uuid:job_id>/", views.import_preview_view, name="import-preview"),
    path(V + "import/<uuid:job_id>/confirm/", views.import_confirm_view, name="import-confirm"),
    path(V + "concepts/new/", views.concept_add_view, name="concept-add"),
    # <code:…> (core.converters): a concept code may hold "/", "?", "#", "%" or be ".."
    path(V + "concepts/<code:code>/", views.concept_edit_view, name="concept-edit"),
    path(V + "concepts/<code:code>/retire/", views.concept_retire_view, name="concept-retire"),
]
