"""Card batch pages: list and upload, detail with a live progress bar, rejected rows as CSV."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.bodylimit import accepts_large_body
from core.roles import role_required
from healthbook.cards.access import CARD_IMPORT_ROLES, card_batch_get_for_user, card_batches_visible_to
from healthbook.cards.files import FileRefused
from healthbook.cards.forms import CardBatchUploadForm
from healthbook.cards.selectors import card_batch_is_stalled, card_batch_progress, card_batch_rejected_csv
from healthbook.cards.services import UploadNotStored, card_batch_create


@accepts_large_body("CARD_IMPORT_MAX_BYTES")
@login_required
@role_required(*CARD_IMPORT_ROLES)
def card_batch_list_view(request):
    form = CardBatchUploadForm(request.POST or None, request.FILES or None)
    unavailable = False
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = card_batch_create(acting_user=request.user, fh=upload, name=upload.name)
        except FileRefused as exc:
            form.add_error("file", str(exc.message))
        except UploadNotStored as exc:
            form.add_error("file", str(exc.message))
            unavailable = True
        except PermissionDenied:
            raise
        else:
            if not result.created:
                messages.info(request, _("This file was imported before; here is that import."))
            return redirect("card-batch-detail", public_id=result.batch.public_id)
    batches = card_batches_visible_to(request.user).select_related("uploaded_by", "scope_province")
    page = Paginator(batches, 25).get_page(request.GET.get("page"))
    status = 503 if unavailable else 400 if form.errors else 200
    return render(request, "healthbook/card_batch_list.html", {"form": form, "page": page}, status=status)


def _progress_context(batch):
    return {"batch": batch, "progress": card_batch_progress(batch), "stalled": card_batch_is_stalled(batch)}


@login_required
@role_required(*CARD_IMPORT_ROLES)
def card_batch_detail_view(request, public_id):
    batch = card_batch_get_for_user(request.user, public_id)
    top_codes = sorted(batch.problem_counts.items(), key=lambda kv: -kv[1])[:20]
    context = _progress_context(batch) | {"top_codes": top_codes}
    return render(request, "healthbook/card_batch_detail.html", context)


@require_GET
@login_required
@role_required(*CARD_IMPORT_ROLES)
def card_batch_progress_view(request, public_id):
    """The progress fragment htmx polls; it stops polling once the batch is finished."""
    batch = card_batch_get_for_user(request.user, public_id)
    return render(request, "healthbook/card_batch_progress.html", _progress_context(batch))


@require_GET
@login_required
@role_required(*CARD_IMPORT_ROLES)
def card_batch_rejected_view(request, public_id):
    batch = card_batch_get_for_user(request.user, public_id)
    response = StreamingHttpResponse(card_batch_rejected_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-{batch.public_id}.csv"'
    return response
