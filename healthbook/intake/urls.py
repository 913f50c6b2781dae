"""Submission pages (status and problems of what facility software sent), mounted under /books/."""

from django.urls import path

from healthbook.intake import views

urlpatterns = [
    path("submissions/", views.submission_list_view, name="submission-list"),
    path("submissions/<uuid:public_id>/", views.submission_detail_view, name="submission-detail"),
    path("submissions/<uuid:public_id>/reprocess/", views.submission_reprocess_view, name="submission-reprocess"),
    path("submissions/<uuid:public_id>/review/", views.submission_review_view, name="submission-review"),
]
