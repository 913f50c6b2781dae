from csp.decorators import csp_update
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from codelists.fhir import unknown_route as fhir_unknown_route

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("geo.api_urls")),
    path("", include("codelists.api_urls")),
    path("", include("facilities.api_urls")),
    path("", include("healthbook.cards.api_urls")),
    path("", include("healthbook.intake.api_urls")),
    path("", include("healthbook.book.api_urls")),
]

urlpatterns = [
    path("", account_views.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page says; the icon is a static file (its
    # hashed name is looked up per request: the manifest may not exist at import time).
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("favicon.svg")), name="favicon"),
    path("accounts/", include("allauth.urls")),
    path("staff/", include("accounts.urls")),
    path("codelists/", include("codelists.urls")),
    path("books/", include("healthbook.cards.urls")),
    path("books/", include("healthbook.intake.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("language/", account_views.language_set_view, name="language-set"),
    path("facilities/", include("facilities.urls")),
    path("dashboards/data-protection/", include("healthbook.copies.urls")),
    path("dashboards/", include("provinces.urls")),
    path("cohorts/", include("cohorts.urls")),
    # FHIR R4: terminology (code lists) and the facility directory share one base.
    path("fhir/", include("codelists.fhir_urls")),
    path("fhir/", include("facilities.fhir_urls")),
    path("fhir/", include("healthbook.book.fhir_urls")),
    path("fhir/<path:rest>", fhir_unknown_route, name="fhir-unknown"),  # any other FHIR URL: an OperationOutcome 404
    path("doctor/", include("healthbook.book.urls")),
    path("access-log/", include("accesslog.urls")),
    path("notifications/", include("healthbook.notifications.urls")),
    path("public-health/", include("publichealth.urls")),
    path("oauth/", include("facilities.oauth_urls")),
    path("api/v1/", include(api_v1)),
    # The citizen API for the VNeID platform (citizen tokens only, docs/citizen-api.md).
    path("api/citizen/v1/", include("citizenapi.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The Swagger UI's start script is a file (split view, ?script); its React components set
    # style attributes, so this page alone may apply inline styles (never inline scripts).
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("django-admin/", admin.site.urls),
]

handler403 = "accounts.views.error_403"
handler404 = "accounts.views.error_404"
handler500 = "accounts.views.error_500"
handler429 = "accounts.views.error_429"  # read by allauth's rate limits
