"""Editorial pages for ministry staff: browse, edit drafts, review, publish, compare, history."""

import csv
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from codelists import imports, selectors, services
from codelists.access import MINISTRY, can_edit, can_review, system_get, version_get_for_user
from codelists.forms import ConceptForm, DraftStartForm, ImportForm, PublishForm, SearchForm, SendBackForm
from codelists.models import Concept, ImportJob, VersionStatus
from codelists.presentation import diff_rows, entry_rows, field_label, value_text
from core.bodylimit import MULTIPART_OVERHEAD, accepts_large_body
from core.replicas import lag_tolerant
from core.roles import role_required
from core.spreadsheet import neutralise_formula

PAGE_SIZE = 50
ministry_only = role_required(*MINISTRY)


def _errors_to_messages(request, exc: ValidationError, form=None) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if form is not None and field in form.fields:
                form.add_error(field, errors)
            else:
                messages.error(request, " ".join(errors))
    else:
        messages.error(request, " ".join(exc.messages))


def _version(request, key, version_id):
    system = system_get(key)
    return system, version_get_for_user(request.user, system, version_id)


@ministry_only
@lag_tolerant()  # browsing; every edit page and the editorial workflow read the primary
def system_list_view(request):
    systems = selectors.system_list_for_user(request.user)
    rows = [(s, selectors.latest_published(s), selectors.open_draft(s)) for s in systems]
    return render(request, "codelists/system_list.html", {"rows": rows})


@ministry_only
def system_detail_view(request, key):
    system = system_get(key)
    versions = list(selectors.version_list_for_user(request.user, system))
    draft = next((v for v in versions if v.status in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW)), None)
    form = DraftStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.draft_start(system=system, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_messages(request, exc, form)
        else:
            messages.success(
                request, _("Draft %(label)s started from the latest published version.") % {"label": new.label}
            )
            return redirect(new)
    return render(
        request,
        "codelists/system_detail.html",
        {
            "system": system,
            "versions": versions,
            "draft": draft,
            "form": form,
            "latest": selectors.latest_published(system),
        },
    )


@ministry_only
def version_detail_view(request, key, version_id):
    system, version = _version(request, key, version_id)
    search = SearchForm(request.GET or None)
    q, active = "", ""
    if search.is_valid():
        q, active = search.cleaned_data["q"], search.cleaned_data["active"]
    with lag_tolerant():  # access decided above (_version), on the primary
        return _version_page(request, system, version, search, q, active)


def _version_page(request, system, version, search, q, active):
    context = {}
    base = None
    if version.status in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW):
        base = selectors.review_base(version, timezone.localdate())
    if base is not None and not (q or active or request.GET.get("show") == "all"):
        # The review page: what this draft changes in the version in force, paged (issue 18).
        context.update(_changes(request, system, base, version), review_mode=True)
    else:
        concepts = selectors.concept_search(version, q, active=active)
        context["page"] = Paginator(concepts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "codelists/version_detail.html",
        {
            **context,
            "review_base": base,
            "system": system,
            "version": version,
            "search": search,
            "can_edit": can_edit(request.user) and version.is_editable,
            "can_review": can_review(request.user, version),
            "send_back_form": SendBackForm(),
            "settings_form": DraftStartForm(
                initial={
                    "label": version.label,
                    "effective_from": version.effective_from,
                    "change_note": version.change_note,
                }
            ),
            "other_versions": selectors.version_list_for_user(request.user, system).exclude(pk=version.pk),
        },
    )


CHANGE_FILTERS = ("added", "changed", "removed")


def _changes(request, system, base, version) -> dict:
    """The differences from `base` to `version`, one page of them, with field-level rows."""
    change = request.GET.get("change", "")
    change = change if change in CHANGE_FILTERS else ""
    summary = selectors.version_change_summary(base, version)  # one pass over both versions
    counts = {
        "added": summary["added"],
        "changed": summary["changed"] + summary["retired"],
        "removed": summary["removed"],
    }
    total = counts[change] if change else sum(counts.values())
    page = Paginator(range(total), PAGE_SIZE).get_page(request.GET.get("page"))
    offset = (page.number - 1) * PAGE_SIZE
    diffs = selectors.version_compare(base, version, change=change, offset=offset, limit=PAGE_SIZE)
    return {
        "change": change,
        "summary": summary,
        "page": page,
        "diffs": [(d, _diff_kind(d), diff_rows(system, d.before, d.after)) for d in diffs],
    }


def _diff_kind(diff) -> str:
    if diff.change == "changed" and diff.before.get("active") and not diff.after.get("active"):
        return "retired"
    return diff.change


def _editable(request, key, version_id):
    system, version = _version(request, key, version_id)
    if not version.is_editable:
        messages.error(request, _("Only a draft can be changed."))
        raise _Redirect(version.get_absolute_url())
    return system, version


class _Redirect(Exception):
    def __init__(self, url):
        self.url = url


def _with_redirect(view):
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _Redirect as r:
            return redirect(r.url)

    wrapped.__name__ = view.__name__
    return wrapped


@ministry_only
@_with_redirect
def draft_update_view(request, key, version_id):
    system, version = _editable(request, key, version_id)
    form = DraftStartForm(request.POST)
    if form.is_valid():
        try:
            services.draft_update(version=version, acting_user=request.user, **form.cleaned_data)
            messages.success(request, _("Draft details saved."))
        except ValidationError as exc:
            _errors_to_messages(request, exc)
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(version)


@ministry_only
@_with_redirect
def concept_add_view(request, key, version_id):
    system, version = _editable(request, key, version_id)
    form = ConceptForm(request.POST or None, initial={"active": True}, definitions=system.property_definitions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            concept = services.concept_add(
                version=version, acting_user=request.user, code=data["code"], fields=_fields(data)
            )
        except ValidationError as exc:
            _errors_to_messages(request, exc, form)
        else:
            messages.success(request, _("Concept %(code)s added.") % {"code": concept.code})
            return redirect(version)
    return render(request, "codelists/concept_form.html", {"system": system, "version": version, "form": form})


def _fields(data) -> services.ConceptFields:
    return services.ConceptFields(
        display_vi=data["display_vi"],
        display_en=data.get("display_en") or "",
        parent_code=data.get("parent_code") or "",
        active=bool(data.get("active")),
        properties=data.get("properties") or {},
    )


def _concept(version, code) -> Concept:
    return get_object_or_404(Concept.objects.select_related("updated_by"), version=version, code=code)


@ministry_only
@_with_redirect
def concept_edit_view(request, key, version_id, code):
    system, version = _editable(request, key, version_id)
    concept = _concept(version, code)
    initial = {
        "code": concept.code,
        "display_vi": concept.display_vi,
        "display_en": concept.display_en,
        "parent_code": concept.parent_code,
        "active": concept.active,
        "revision": concept.revision,
    }
    form = ConceptForm(
        request.POST or None,
        initial=initial,
        editing=True,
        definitions=system.property_definitions,
        properties=concept.properties,
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.concept_edit(
                concept=concept,
                acting_user=request.user,
                expected_revision=data["revision"] or 0,
                fields=_fields(data),
            )
        except services.ConceptConflict as exc:
            conflict = exc
            # The next save is a deliberate choice made with both values in view.
            form.data = form.data.copy()
            form.data["revision"] = exc.current_revision
        except ValidationError as exc:
            _errors_to_messages(request, exc, form)
        else:
            messages.success(request, _("Concept %(code)s saved.") % {"code": concept.code})
            return redirect(version)
    conflict_rows = None
    if conflict:
        conflict_rows = _conflict_rows(system, conflict)
    history = selectors.change_history(system, code=concept.code)[:20]
    # 409 Conflict when someone else saved first: the page shows both values side by side.
    return render(
        request,
        "codelists/concept_form.html",
        {
            "system": system,
            "version": version,
            "form": form,
            "concept": concept,
            "conflict": conflict,
            "conflict_rows": conflict_rows,
            "history": [(e, entry_rows(system, e.before, e.after)) for e in history],
        },
        status=409 if conflict else 200,
    )


def _conflict_rows(system, conflict) -> list[tuple[str, str, str, bool]]:
    """(label, theirs, yours, differs) for every field, properties one by one where they differ."""
    rows = [
        (
            field_label(name),
            value_text(name, conflict.current[name]),
            value_text(name, conflict.submitted[name]),
            conflict.current[name] != conflict.submitted[name],
        )
        for name in services.EDITABLE_FIELDS
        if name != "properties"
    ]
    props = diff_rows(
        system, {"properties": conflict.current["properties"]}, {"properties": conflict.submitted["properties"]}
    )
    return rows + [(label, theirs, yours, True) for label, theirs, yours in props]


def _display(value) -> str:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


@ministry_only
@require_POST
@_with_redirect
def concept_retire_view(request, key, version_id, code):
    system, version = _editable(request, key, version_id)
    concept = _concept(version, code)
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        revision = -1
    try:
        services.concept_retire(concept=concept, acting_user=request.user, expected_revision=revision)
    except services.ConceptConflict:
        messages.error(
            request,
            _("Someone changed %(code)s after you opened the page. Look at it again before retiring it.")
            % {"code": code},
        )
        return redirect("codelists:concept-edit", key=key, version_id=version.pk, code=code)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("Concept %(code)s retired.") % {"code": code})
    return redirect(version)


def _workflow(action):
    @ministry_only
    @require_POST
    def view(request, key, version_id):
        system, version = _version(request, key, version_id)
        try:
            text = action(request, version)
        except PermissionDenied:
            messages.error(request, _("Only a ministry administrator can do this."))
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, text)
            if action is _discard:
                return redirect(system)
        return redirect(version)

    return view


def _submit(request, version):
    services.version_submit(version=version, acting_user=request.user)
    return _("Sent for review. A ministry administrator other than the last editor will publish it.")


def _send_back(request, version):
    form = SendBackForm(request.POST)
    services.version_send_back(version=version, acting_user=request.user, comment=form.data.get("comment", ""))
    return _("Version sent back to the editors.")


def _discard(request, version):
    services.draft_discard(version=version, acting_user=request.user)
    return _("Draft discarded.")


version_submit_view = _workflow(_submit)
version_send_back_view = _workflow(_send_back)
draft_discard_view = _workflow(_discard)


@ministry_only
def version_publish_view(request, key, version_id):
    """Publishing nationally is confirmed on its own page, with what changes and from when.

    GET shows the summary; a POST publishes only with the confirmation box ticked (checked on
    the server, not by a script), so one stray click never issues a code list."""
    system, version = _version(request, key, version_id)
    if not can_review(request.user, version):
        messages.error(request, _("Only a ministry administrator who edited nothing in this version can publish it."))
        return redirect(version)
    form = PublishForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.version_publish(version=version, acting_user=request.user)
        except PermissionDenied:
            messages.error(request, _("Only a ministry administrator can do this."))
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, _("Version published."))
        return redirect(version)
    today = timezone.localdate()
    base = selectors.review_base(version, today)
    current = selectors.latest_published(system)
    return render(
        request,
        "codelists/version_publish.html",
        {
            "system": system,
            "version": version,
            "form": form,
            "base": base,
            "summary": selectors.version_change_summary(base, version) if base else None,
            "concept_count": version.concepts.count(),
            "current": current,
            "starts_later": bool(version.effective_from and version.effective_from > today),
        },
        status=400 if request.method == "POST" else 200,
    )


@accepts_large_body(lambda: imports.MAX_FILE_BYTES + MULTIPART_OVERHEAD)
@ministry_only
@_with_redirect
def import_upload_view(request, key, version_id):
    system, version = _editable(request, key, version_id)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.import_preview(
                version=version, acting_user=request.user, filename=upload.name, content=upload.read()
            )
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            return redirect("codelists:import-preview", key=key, version_id=version.pk, job_id=job.public_id)
    return render(request, "codelists/import_upload.html", {"system": system, "version": version, "form": form})


def _job(request, version, job_id) -> ImportJob:
    return get_object_or_404(ImportJob, public_id=job_id, version=version, uploaded_by=request.user)


@ministry_only
def import_preview_view(request, key, version_id, job_id):
    system, version = _version(request, key, version_id)
    job = _job(request, version, job_id)
    changes = [
        (code, diff_rows(system, {f: v[0] for f, v in fields.items()}, {f: v[1] for f, v in fields.items()}))
        for code, fields in (job.summary.get("changes") or {}).items()
    ]
    kept_empty = [(field_label(f), n) for f, n in (job.summary.get("kept_empty") or {}).items()]
    return render(
        request,
        "codelists/import_preview.html",
        {
            "system": system,
            "version": version,
            "job": job,
            "changes": changes,
            "kept_empty": kept_empty,
            "can_apply": job.status == ImportJob.Status.PREVIEWED and version.is_editable,
        },
    )


@ministry_only
@require_POST
def import_confirm_view(request, key, version_id, job_id):
    system, version = _version(request, key, version_id)
    job = _job(request, version, job_id)
    try:
        job = imports.import_apply(job=job, acting_user=request.user)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
        return redirect("codelists:import-preview", key=key, version_id=version.pk, job_id=job.public_id)
    s = job.summary
    messages.success(
        request,
        _("Imported: %(new)s new, %(changed)s changed, %(unchanged)s unchanged.")
        % {"new": s["new"], "changed": s["changed"], "unchanged": s["unchanged"]},
    )
    return redirect(version)


@ministry_only
def version_export_view(request, key, version_id, fmt):
    system, version = _version(request, key, version_id)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    data = imports.version_export(version, fmt)
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    response = HttpResponse(data, content_type=content_type)
    filename = f"{system.key}-{version.pk}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _Echo:
    def write(self, value):
        return value


def _chronological_key(version) -> tuple:
    """Order versions by the date they take effect; an undated draft comes last."""
    day = version.effective_from
    return (day is None, day or timezone.localdate(), version.pk)


@ministry_only
def compare_view(request, key):
    system = system_get(key)
    versions = list(selectors.version_list_for_user(request.user, system))
    by_id = {str(v.pk): v for v in versions}
    a, b = by_id.get(request.GET.get("a", "")), by_id.get(request.GET.get("b", ""))
    if a and b and _chronological_key(b) < _chronological_key(a):
        # "Before" is the earlier version whatever order the pickers were used in.
        a, b = b, a
    change = request.GET.get("change", "")
    context = {"system": system, "versions": versions, "a": a, "b": b, "change": change}
    if a and b:
        if request.GET.get("format") == "csv":
            writer = csv.writer(_Echo())

            def rows():
                yield "\ufeff" + writer.writerow(["code", "change", "field", "before", "after"])
                for diff in selectors.version_compare(a, b, change=change):
                    fields = diff.changed_fields or ["display_vi"]
                    for f in fields:
                        yield writer.writerow(
                            [
                                neutralise_formula(cell)
                                for cell in (
                                    diff.code,
                                    diff.change,
                                    f,
                                    _display(diff.before.get(f)) if diff.before else "",
                                    _display(diff.after.get(f)) if diff.after else "",
                                )
                            ]
                        )

            response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{system.key}-{a.pk}-{b.pk}.csv"'
            return response
        counts = selectors.version_compare_counts(a, b)
        total = counts[change] if change in counts else sum(counts.values())
        paginator = Paginator(range(total), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        offset = (page.number - 1) * PAGE_SIZE
        diffs = list(selectors.version_compare(a, b, change=change, offset=offset, limit=PAGE_SIZE))
        context.update(
            counts=counts,
            page=page,
            diffs=[(d, _diff_kind(d), diff_rows(system, d.before, d.after)) for d in diffs],
        )
    return render(request, "codelists/compare.html", context)


@ministry_only
def history_view(request, key):
    system = system_get(key)
    code = request.GET.get("code", "").strip()
    entries = selectors.change_history(system, code=code)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(e, entry_rows(system, e.before, e.after)) for e in page]
    return render(request, "codelists/history.html", {"system": system, "page": page, "rows": rows, "code": code})
