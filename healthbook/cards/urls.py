"""Card import pages, mounted under /books/."""

from django.urls import path

from healthbook.cards import views

urlpatterns = [
    path("card-batches/", views.card_batch_list_view, name="card-batch-list"),
    path("card-batches/<uuid:public_id>/", views.card_batch_detail_view, name="card-batch-detail"),
    path("card-batches/<uuid:public_id>/progress/", views.card_batch_progress_view, name="card-batch-progress"),
    path("card-batches/<uuid:public_id>/rejected.csv", views.card_batch_rejected_view, name="card-batch-rejected"),
]
