from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.staff_list_view, name="staff-list"),
    path("new/", views.staff_create_view, name="staff-create"),
    path("approvals/", views.staff_approval_list_view, name="staff-approvals"),
    path("<uuid:public_id>/approve/", views.staff_approve_view, name="staff-approve"),
    path("<uuid:public_id>/", views.staff_detail_view, name="staff-detail"),
    path("<uuid:public_id>/deactivate/", views.staff_deactivate_view, name="staff-deactivate"),
    path("<uuid:public_id>/reactivate/", views.staff_reactivate_view, name="staff-reactivate"),
]
