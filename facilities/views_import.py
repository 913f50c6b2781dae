"""Bulk onboarding page: upload → dry-run preview with row errors → confirm."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bodylimit import MULTIPART_OVERHEAD, accepts_large_body
from facilities import access
from facilities.forms import ImportUploadForm
from facilities.importing import MAX_FILE_BYTES, facility_import
from facilities.models import FacilityImportUpload
from facilities.resources import IMPORT_COLUMNS


def _require_importer(request):
    if not access.can_import(request.user):
        raise PermissionDenied


@accepts_large_body(lambda: MAX_FILE_BYTES + MULTIPART_OVERHEAD)
@login_required
def import_view(request):
    """GET: the upload form. POST with a file: a dry run, the file kept for confirmation."""
    _require_importer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": IMPORT_COLUMNS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            form.add_error("file", _("The file is larger than 5 MB; split it into several files."))
            return render(request, "facilities/facility_import.html", context, status=400)
        content = upload.read()
        try:
            report = facility_import(acting_user=request.user, content=content, file_name=upload.name, dry_run=True)
        except ValidationError as exc:
            form.add_error("file", exc.messages)
            return render(request, "facilities/facility_import.html", context, status=400)
        stored = None
        if report.ok:
            stored = FacilityImportUpload.objects.create(
                uploaded_by=request.user, file_name=upload.name[:255], content=content
            )
        context.update({"report": report, "upload": stored})
    return render(request, "facilities/facility_import.html", context)


@login_required
def import_confirm_view(request, upload_id):
    """Run the import of a previewed file; only its uploader may, and only once."""
    _require_importer(request)
    if request.method != "POST":
        return redirect("facility-import")
    with transaction.atomic():
        try:
            upload = FacilityImportUpload.objects.select_for_update().get(
                public_id=upload_id, uploaded_by=request.user, imported_at__isnull=True
            )
        except (FacilityImportUpload.DoesNotExist, ValueError):
            raise Http404 from None
        try:
            report = facility_import(
                acting_user=request.user, content=bytes(upload.content), file_name=upload.file_name, dry_run=False
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("facility-import")
        if report.ok:
            upload.imported_at = timezone.now()
            upload.content = b""
            upload.save(update_fields=["imported_at", "content"])
    if not report.ok:
        form = ImportUploadForm()
        return render(
            request,
            "facilities/facility_import.html",
            {"form": form, "columns": IMPORT_COLUMNS, "report": report},
            status=400,
        )
    messages.success(
        request,
        _("Import done: %(new)s new facilities, %(updated)s updated.") % {"new": report.new, "updated": report.updated},
    )
    return redirect("facility-list")
