"""Messages to citizens that could not be delivered (province and ministry), under /notifications/."""

from django.urls import path

from healthbook.notifications import views

urlpatterns = [
    path("failed/", views.dead_letter_list_view, name="notification-failed-list"),
    path("failed/<uuid:public_id>/retry/", views.dead_letter_retry_view, name="notification-retry"),
]
