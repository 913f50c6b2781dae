from django.urls import path

from healthbook import views
from healthbook.intake import views as intake_views

urlpatterns = [
    path("card-batches/", views.card_batch_list_view, name="card-batch-list"),
    path("card-batches/<uuid:public_id>/", views.card_batch_detail_view, name="card-batch-detail"),
    path("card-batches/<uuid:public_id>/progress/", views.card_batch_progress_view, name="card-batch-progress"),
    path("card-batches/<uuid:public_id>/rejected.csv", views.card_batch_rejected_view, name="card-batch-rejected"),
    path("submissions/", intake_views.submission_list_view, name="submission-list"),
    path("submissions/<uuid:public_id>/", intake_views.submission_detail_view, name="submission-detail"),
    path("submissions/<uuid:public_id>/reprocess/", intake_views.submission_reprocess_view,
         name="submission-reprocess"),
]
