"""Import a CSV or XLSX file into a draft (preview first, then confirm) and export versions.

A file is checked as a whole first (format, encoding, columns), then row by row through
django-import-export in a dry run. The preview counts new / changed / unchanged / invalid
rows and lists every invalid row with its row number (the header is row 1) and reason.
A file with any invalid row cannot be applied; applying re-runs the import inside one
transaction, so the draft is either fully updated or left untouched.
"""

import hashlib
import io
import uuid
from dataclasses import dataclass

import charset_normalizer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import RowResult

from accounts.models import User
from accounts.services import audit_record
from codelists.models import ChangeAction, CodeSystemVersion, ImportJob, VersionStatus
from codelists.resources import COLUMNS, REQUIRED_COLUMNS, ConceptResource
from codelists.services import _lock_draft, _require_ministry, _touch, change_log
from core.spreadsheet import FileRefused, xlsx_inspect

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_LISTED_ERRORS = 1000
MAX_LISTED_CHANGES = 200


class FileRejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ParsedImport:
    result: object
    resource: ConceptResource


def _format_of(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    raise FileRejected(_("Only .csv and .xlsx files can be imported."))


def _dataset(content: bytes, file_format: str):
    if not content:
        raise FileRejected(_("The file is empty."))
    if len(content) > MAX_FILE_BYTES:
        raise FileRejected(_("The file is larger than 20 MB."))
    if file_format == "csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            guess = charset_normalizer.from_bytes(content).best()
            encoding = guess.encoding if guess else _("unknown")
            raise FileRejected(
                _(
                    'The file is not UTF-8 encoded (it looks like %(encoding)s). Save it as "CSV UTF-8" and '
                    "upload it again."
                )
                % {"encoding": encoding}
            ) from None
        try:
            dataset = CSV().create_dataset(text)
        except Exception:  # noqa: BLE001 — tablib raises assorted errors on malformed CSV
            raise FileRejected(_("The file could not be read as CSV.")) from None
    else:
        unreadable = _("The file could not be read as an Excel workbook (.xlsx).")
        try:  # the card import's bomb checks, before openpyxl sees the file
            xlsx_inspect(io.BytesIO(content))
        except FileRefused as exc:
            raise FileRejected(unreadable if exc.code == "xlsx_invalid" else str(exc.message)) from None
        try:
            dataset = XLSX().create_dataset(content)
        except Exception:  # noqa: BLE001 — openpyxl raises assorted errors on a damaged workbook
            raise FileRejected(unreadable) from None
    headers = [str(h or "").strip().lower() for h in (dataset.headers or [])]
    if not headers:
        raise FileRejected(_("The file has no header row."))
    unknown = [h for h in headers if h not in COLUMNS]
    missing = [h for h in REQUIRED_COLUMNS if h not in headers]
    duplicated = sorted({h for h in headers if headers.count(h) > 1})
    if unknown or missing or duplicated:
        parts = []
        if missing:
            parts.append(_("missing columns: %(cols)s") % {"cols": ", ".join(missing)})
        if unknown:
            parts.append(_("unknown columns: %(cols)s") % {"cols": ", ".join(unknown)})
        if duplicated:
            parts.append(_("repeated columns: %(cols)s") % {"cols": ", ".join(duplicated)})
        raise FileRejected(
            _("Wrong columns (%(problems)s). The header must be: %(expected)s.")
            % {"problems": "; ".join(parts), "expected": ",".join(COLUMNS)}
        )
    dataset.headers = headers
    if len(dataset) == 0:
        raise FileRejected(_("The file has a header but no rows."))
    return dataset


def _run(version: CodeSystemVersion, actor: User, dataset, *, dry_run: bool) -> ParsedImport:
    resource = ConceptResource(version=version, actor=actor)
    result = resource.import_data(dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True)
    return ParsedImport(result=result, resource=resource)


def _summarise(parsed: ParsedImport) -> tuple[dict, list[dict]]:
    result, resource = parsed.result, parsed.resource
    totals = result.totals
    summary = {
        "rows": result.total_rows,
        "new": totals.get(RowResult.IMPORT_TYPE_NEW, 0),
        "changed": totals.get(RowResult.IMPORT_TYPE_UPDATE, 0),
        "unchanged": totals.get(RowResult.IMPORT_TYPE_SKIP, 0),
        "invalid": totals.get(RowResult.IMPORT_TYPE_INVALID, 0) + totals.get(RowResult.IMPORT_TYPE_ERROR, 0),
        "changes": dict(list(resource.changes.items())[:MAX_LISTED_CHANGES]),
        "kept_empty": dict(resource.kept_empty),
    }
    errors = []
    for invalid in result.invalid_rows[:MAX_LISTED_ERRORS]:
        reasons = []
        for field, messages in invalid.error_dict.items():
            reasons.extend(f"{field}: {m}" for m in messages)
        errors.append(
            {
                "row": invalid.number + 1,
                "code": str(invalid.values[0] if invalid.values else ""),
                "reason": "; ".join(reasons),
            }
        )
    for number, row_errors in result.row_errors()[:MAX_LISTED_ERRORS]:
        errors.append({"row": number + 1, "code": "", "reason": "; ".join(str(e.error) for e in row_errors)})
    for base in result.base_errors:
        errors.append({"row": None, "code": "", "reason": str(base.error)})
        summary["invalid"] = max(summary["invalid"], 1)
    return summary, errors


def import_preview(*, version: CodeSystemVersion, acting_user: User, filename: str, content: bytes) -> ImportJob:
    """Dry-run a file against a draft and keep it for confirmation; nothing in the draft changes."""
    _require_ministry(acting_user)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("Files can only be imported into a draft."), code="not_draft")
    job = ImportJob(
        public_id=uuid.uuid4(),
        version=version,
        uploaded_by=acting_user,
        filename=filename[:255],
        content=content,
        checksum=hashlib.sha256(content).hexdigest(),
        draft_edit_count=version.edit_count,
    )
    try:
        job.file_format = _format_of(filename)
        dataset = _dataset(content, job.file_format)
    except FileRejected as exc:
        job.file_format = job.file_format if hasattr(job, "file_format") and job.file_format else "?"
        job.status, job.errors = ImportJob.Status.REJECTED, [{"row": None, "code": "", "reason": exc.reason}]
        job.summary = {"rows": 0, "new": 0, "changed": 0, "unchanged": 0, "invalid": 0, "file_error": True}
        job.save()
        return job
    summary, errors = _summarise(_run(version, acting_user, dataset, dry_run=True))
    job.summary, job.errors = summary, errors
    job.status = ImportJob.Status.REJECTED if summary["invalid"] or errors else ImportJob.Status.PREVIEWED
    job.save()
    return job


@transaction.atomic
def import_apply(*, job: ImportJob, acting_user: User) -> ImportJob:
    """Apply a previewed file to its draft: all rows or none."""
    _require_ministry(acting_user)
    if job.uploaded_by_id != acting_user.pk:
        raise PermissionDenied
    draft = _lock_draft(job.version)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.PREVIEWED:
        raise ValidationError(_("This file was rejected or has already been applied."), code="not_previewed")
    if draft.edit_count != job.draft_edit_count:
        raise ValidationError(
            _("The draft changed after the preview. Upload the file again to see a fresh preview."),
            code="draft_changed",
        )
    dataset = _dataset(bytes(job.content), job.file_format)
    parsed = _run(draft, acting_user, dataset, dry_run=False)
    summary, errors = _summarise(parsed)
    if summary["invalid"] or errors:
        raise ValidationError(_("The file no longer imports cleanly; nothing was changed."), code="import_failed")
    _touch(draft, acting_user)
    change_log(
        version=draft,
        actor=acting_user,
        action=ChangeAction.IMPORT,
        after={k: summary[k] for k in ("rows", "new", "changed", "unchanged")},
        note=f"{job.filename} sha256={job.checksum}",
    )
    audit_record(
        actor=acting_user,
        action="codelist_import",
        target=draft,
        details={"file": job.filename, "new": summary["new"], "changed": summary["changed"]},
    )
    job.status, job.applied_at, job.summary = ImportJob.Status.APPLIED, timezone.now(), summary
    job.save(update_fields=["status", "applied_at", "summary"])
    return job


def version_export(version: CodeSystemVersion, file_format: str) -> bytes | str:
    """Return the whole version as CSV text or XLSX bytes (same columns as the import)."""
    dataset = ConceptResource(version=version).export(queryset=version.concepts.order_by("code"))
    fmt = CSV() if file_format == "csv" else XLSX()
    return fmt.export_data(dataset)
