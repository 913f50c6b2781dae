"""OAuth2 for facility software reading books for a doctor (facilities.software_grants)."""

from django.urls import path

from facilities import views_oauth

urlpatterns = [
    path("authorize/", views_oauth.authorize_view, name="oauth-authorize"),
    path("token/", views_oauth.token_view, name="oauth-token"),
    path("mine/", views_oauth.my_software_view, name="oauth-my-software"),
    path("mine/<uuid:public_id>/revoke/", views_oauth.my_software_revoke_view, name="oauth-my-software-revoke"),
]
