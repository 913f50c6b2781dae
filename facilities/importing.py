"""Bulk onboarding from CSV or XLSX: read the file safely, run the import (or a dry run),
and report row by row. An import with any bad row changes nothing at all."""

import io
import zipfile
from dataclasses import dataclass, field

import tablib
from charset_normalizer import from_bytes
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.services import audit_record
from facilities import access
from facilities.resources import IMPORT_COLUMNS, FacilityImportResource

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_XLSX_RATIO = 100
PREVIEW_ROWS = 200


@dataclass
class RowProblem:
    line: int
    field: str
    message: str


@dataclass
class ImportReport:
    dry_run: bool
    total: int = 0
    new: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def invalid_lines(self) -> int:
        return len({p.line for p in self.problems if p.line})


def _decode_csv(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for encoding in ("utf-16",):
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError:
                break
    best = from_bytes(content).best()
    if best is None or best.encoding in ("ascii",):
        raise ValidationError(
            _("The CSV file could not be read as text; save it as UTF-8 and try again."), code="bad_encoding"
        )
    return str(best)


def _check_xlsx(content: bytes) -> None:
    """Refuse zip bombs before openpyxl inflates anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ValidationError(_("The XLSX file is damaged or is not an Excel workbook."), code="bad_xlsx") from None
    if total > MAX_XLSX_UNCOMPRESSED or total > MAX_XLSX_RATIO * max(len(content), 1):
        raise ValidationError(_("The workbook expands to too much data to be a facility list."), code="xlsx_too_big")


def dataset_read(*, content: bytes, file_name: str) -> tablib.Dataset:
    """Return the rows of an uploaded CSV or XLSX file, or raise ValidationError with a reason."""
    if not content:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(_("The file is larger than 5 MB; split it into several files."), code="too_large")
    name = (file_name or "").lower()
    try:
        if name.endswith(".xlsx") or content.startswith(b"PK\x03\x04"):
            _check_xlsx(content)
            dataset = tablib.Dataset().load(io.BytesIO(content), format="xlsx")
        elif name.endswith((".csv", ".txt")) or not name:
            text = _decode_csv(content)
            dataset = tablib.Dataset().load(text, format="csv")
        else:
            raise ValidationError(_("Upload a .csv or .xlsx file."), code="bad_format")
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 — any parser failure is a bad file, reported as such
        raise ValidationError(_("The file could not be read as CSV or XLSX."), code="unreadable") from None
    headers = [str(h or "").strip().lower() for h in (dataset.headers or [])]
    missing = [c for c in ("code", "name", "province") if c not in headers]
    if missing:
        raise ValidationError(
            _("Missing columns: %(missing)s. The first row must name the columns: %(columns)s.")
            % {"missing": ", ".join(missing), "columns": ", ".join(IMPORT_COLUMNS)},
            code="missing_columns",
        )
    dataset.headers = headers
    if len(dataset) > MAX_ROWS:
        raise ValidationError(_("The file has more than %(n)s rows; split it.") % {"n": MAX_ROWS}, code="too_many_rows")
    return dataset


def facility_import(*, acting_user, content: bytes, file_name: str, dry_run: bool) -> ImportReport:
    """Import (or preview) a facility list. A web user must be a province officer and may
    import only their province; `acting_user` None is the command line (any province)."""
    if acting_user is not None and not access.can_import(acting_user):
        raise PermissionDenied
    dataset = dataset_read(content=content, file_name=file_name)
    allowed = None if acting_user is None else {acting_user.province_id}
    resource = FacilityImportResource(acting_user=acting_user, allowed_province_ids=allowed)
    with transaction.atomic():
        result = resource.import_data(
            dataset,
            dry_run=dry_run,
            use_transactions=True,
            rollback_on_validation_errors=True,
            raise_errors=False,
        )
        report = _report(result, dry_run=dry_run)
        if not dry_run and report.ok and acting_user is not None:
            audit_record(
                actor=acting_user,
                action="facility_import",
                target=acting_user.province,
                details={"file": file_name[:200], "new": report.new, "updated": report.updated},
            )
    return report


def _report(result, *, dry_run: bool) -> ImportReport:
    report = ImportReport(dry_run=dry_run, total=result.total_rows)
    for error in result.base_errors:
        report.problems.append(RowProblem(line=0, field="", message=str(error.error)))
    for number, errors in result.row_errors():
        for error in errors:
            report.problems.append(RowProblem(line=number + 1, field="", message=str(error.error)))
    for invalid in result.invalid_rows:
        for field_name, messages in invalid.error_dict.items():
            for message in messages:
                report.problems.append(
                    RowProblem(
                        line=invalid.number + 1,
                        field="" if field_name == "__all__" else field_name,
                        message=str(message),
                    )
                )
    report.problems.sort(key=lambda p: p.line)
    for row in result.rows:
        if row.import_type == "new":
            report.new += 1
        elif row.import_type == "update":
            report.updated += 1
    for row in result.rows[:PREVIEW_ROWS]:
        report.preview.append({"action": row.import_type, "repr": row.object_repr})
    return report
