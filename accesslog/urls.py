from django.urls import path

from accesslog import views

urlpatterns = [
    path("emergency-reviews/", views.emergency_review_list_view, name="emergency-review-list"),
    path("emergency-reviews/<uuid:public_id>/", views.emergency_review_view, name="emergency-review"),
]
