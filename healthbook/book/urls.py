"""The doctor's pages, mounted under /doctor/ (a book prefix: every view here declares
itself in book.access.BOOK_VIEWS)."""

from django.urls import path

from healthbook.book import views as v

urlpatterns = [
    path("", v.citizen_search_view, name="citizen-search"),
    path("share-code/", v.share_code_open_view, name="share-code-open"),
    path("books/<uuid:public_id>/", v.book_detail_view, name="book-detail"),
    path("books/<uuid:public_id>/emergency/", v.emergency_access_view, name="book-emergency"),
    path("books/<uuid:public_id>/share-code/", v.book_share_code_view, name="book-share-code"),
    path("books/<uuid:public_id>/timeline/", v.book_timeline_view, name="book-timeline"),
    path("books/<uuid:public_id>/visits/<int:visit_id>/", v.book_visit_view, name="book-visit"),
    path("books/<uuid:public_id>/labs/", v.book_labs_view, name="book-labs"),
    # the indicator code is data sent by facilities (it may hold "/", "?", "#"...): a query parameter
    path("books/<uuid:public_id>/labs/chart/", v.book_lab_chart_view, name="book-lab-chart"),
    path("books/<uuid:public_id>/vaccinations/", v.book_vaccinations_view, name="book-vaccinations"),
    path("books/<uuid:public_id>/pregnancies/", v.book_pregnancies_view, name="book-pregnancies"),
    path("books/<uuid:public_id>/prescriptions/", v.book_prescriptions_view, name="book-prescriptions"),
    path("books/<uuid:public_id>/follow-ups/", v.book_follow_ups_view, name="book-follow-ups"),
    path("books/<uuid:public_id>/certificates/", v.book_certificates_view, name="book-certificates"),
    path(
        "books/<uuid:public_id>/certificates/<slug:kind>/<int:cert_id>/",
        v.book_certificate_view,
        name="book-certificate",
    ),
    path(
        "books/<uuid:public_id>/certificates/<slug:kind>/<int:cert_id>/file/",
        v.book_certificate_file_view,
        name="book-certificate-file",
    ),
    path("books/<uuid:public_id>/record/", v.book_record_view, name="book-record"),
    path("books/<uuid:public_id>/access-log/", v.book_access_log_view, name="book-access-log"),
]
