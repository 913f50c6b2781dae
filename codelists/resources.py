"""django-import-export resource for the concepts of one version.

Import goes into a draft only and runs through the library's workflow (dry run, row
results new / update / skip / invalid, bulk create and update). Two things are tuned so a
15,000-row ICD-10 file imports in a few seconds: the draft's concepts are loaded once into
a dict (no query per row), and rows are parsed by this class rather than per-field widgets.
"""

import json

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from codelists.models import CodeSystemVersion, Concept, concept_search_text
from core.spreadsheet import neutralise_formula, unquote_formula
from core.textsafe import json_poison, storable

_INSERT_SQL = """
INSERT INTO codelists_concept
    (version_id, code, display_vi, display_en, parent_code, active, properties, search, revision,
     updated_by_id, updated_at)
SELECT %s, v.code, v.display_vi, v.display_en, v.parent_code, v.active, v.properties::jsonb, v.search,
       v.revision, %s, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::boolean[], %s::text[], %s::text[], %s::int[])
     AS v(code, display_vi, display_en, parent_code, active, properties, search, revision)
"""
_UPDATE_SQL = """
UPDATE codelists_concept c SET
    display_vi = v.display_vi, display_en = v.display_en, parent_code = v.parent_code, active = v.active,
    properties = v.properties::jsonb, search = v.search, revision = v.revision,
    updated_by_id = %s, updated_at = %s
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::boolean[], %s::text[], %s::text[], %s::int[])
     AS v(id, display_vi, display_en, parent_code, active, properties, search, revision)
WHERE c.id = v.id
"""

COLUMNS = ["code", "display_vi", "display_en", "parent_code", "active", "properties"]
REQUIRED_COLUMNS = ["code", "display_vi"]
# Optional columns: an empty cell in them means "leave as it is" for a code already in the draft.
OPTIONAL_COLUMNS = ["display_en", "parent_code", "active", "properties"]
COMPARED = ("display_vi", "display_en", "parent_code", "active", "properties")
TRUE_VALUES = {"1", "true", "yes", "x", "có", "co"}
FALSE_VALUES = {"0", "false", "no", "không", "khong"}


class PropertiesWidget(widgets.Widget):
    def render(self, value, obj=None, **kwargs):
        return json.dumps(value or {}, ensure_ascii=False, sort_keys=True)


class ActiveWidget(widgets.Widget):
    def render(self, value, obj=None, **kwargs):
        return "1" if value else "0"


def cell_text(value) -> str:
    """Return a spreadsheet cell as text (Excel hands integers back as floats)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unquote_formula(str(value).strip())  # our exports prefix formula-like text with '


class ConceptResource(resources.ModelResource):
    code = fields.Field(attribute="code", column_name="code")
    display_vi = fields.Field(attribute="display_vi", column_name="display_vi")
    display_en = fields.Field(attribute="display_en", column_name="display_en")
    parent_code = fields.Field(attribute="parent_code", column_name="parent_code")
    active = fields.Field(attribute="active", column_name="active", widget=ActiveWidget())
    properties = fields.Field(attribute="properties", column_name="properties", widget=PropertiesWidget())

    class Meta:
        model = Concept
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["code"]
        use_bulk = True
        batch_size = 2000
        skip_unchanged = True
        report_skipped = True
        skip_diff = True
        clean_model_instances = False

    def __init__(self, *, version: CodeSystemVersion, actor=None):
        super().__init__()
        self.version = version
        self.actor = actor
        self.max_len = version.system.max_code_length
        self.existing: dict[str, Concept] = {}
        self.originals: dict[str, tuple] = {}
        self.code_rows: dict[str, list[int]] = {}
        self.file_codes: set[str] = set()
        self.changes: dict[str, dict] = {}
        self.kept_empty: dict[str, int] = {}
        self.now = timezone.now()

    def get_queryset(self):
        return Concept.objects.filter(version=self.version).order_by("code")

    def export_field(self, field, instance, **kwargs):
        """Formula-like text is exported with a leading ' (cell_text strips it on import)."""
        return neutralise_formula(super().export_field(field, instance, **kwargs))

    def before_import(self, dataset, **kwargs):
        self.existing = {c.code: c for c in self.get_queryset()}
        self.originals = {code: tuple(getattr(c, f) for f in COMPARED) for code, c in self.existing.items()}
        idx = dataset.headers.index("code")
        for number, row in enumerate(dataset, start=1):
            self.code_rows.setdefault(cell_text(row[idx]), []).append(number)
        self.file_codes = set(self.code_rows)

    def get_instance(self, instance_loader, row):
        return self.existing.get(cell_text(row.get("code")))

    def init_instance(self, row=None):
        return Concept(version=self.version, revision=1)

    def import_instance(self, instance, row, **kwargs):
        unstorable = [c for c in COLUMNS if isinstance(row.get(c), str) and not storable(row.get(c))]
        if unstorable:  # PostgreSQL cannot hold it (issue 15, attack 14): this row alone is refused
            message = _("The value contains a NUL character or an invalid Unicode character.")
            raise ValidationError(dict.fromkeys(unstorable, message))
        errors: dict[str, str] = {}
        code = cell_text(row.get("code"))
        number = kwargs.get("row_number")
        if not code:
            errors["code"] = _("The code is empty.")
        elif len(code) > self.max_len:
            errors["code"] = _("The code %(code)s is longer than %(n)s characters.") % {"code": code, "n": self.max_len}
        elif len(self.code_rows.get(code, ())) > 1:
            others = [str(n + 1) for n in self.code_rows[code] if n != number]
            errors["code"] = _("The code %(code)s appears more than once (also on row %(rows)s).") % {
                "code": code,
                "rows": ", ".join(others[:5]),
            }
        display_vi = cell_text(row.get("display_vi"))
        if not display_vi:
            errors["display_vi"] = _("The Vietnamese display is empty.")
        parent = cell_text(row.get("parent_code"))
        if parent and parent not in self.file_codes and parent not in self.existing:
            errors["parent_code"] = _("The parent code %(code)s is neither in the file nor in the draft.") % {
                "code": parent
            }
        elif parent and parent == code:
            errors["parent_code"] = _("A concept cannot be its own parent.")
        # An empty optional cell leaves the stored value alone (issue 18): a file that carries
        # only codes and names must not wipe ICD-10's DRG groups, age or sex limits.
        active = instance.active if instance.pk else True
        if "active" in row and cell_text(row.get("active")) != "":
            raw = cell_text(row.get("active")).lower()
            if raw in TRUE_VALUES:
                active = True
            elif raw in FALSE_VALUES:
                active = False
            else:
                errors["active"] = _("The active column must be 1 or 0, not %(value)s.") % {"value": raw}
        props = instance.properties if instance.pk else {}
        if "properties" in row and cell_text(row.get("properties")) != "":
            raw = cell_text(row.get("properties"))
            try:
                props = json.loads(raw)
            except json.JSONDecodeError:
                props = None
            if not isinstance(props, dict):
                errors["properties"] = _('The properties column must be a JSON object such as {"unit": "mmol/L"}.')
            elif json_poison(props, max_depth=8) is not None:  # \u0000, a lone surrogate, or nested too deep
                errors["properties"] = _(
                    "The properties hold a NUL or invalid Unicode character, or are nested too deeply."
                )
        if errors:
            raise ValidationError(errors)
        if instance.pk:
            self._count_kept(instance, row)
        instance.code = code
        instance.display_vi = display_vi
        if cell_text(row.get("display_en")):
            instance.display_en = cell_text(row.get("display_en"))
        if parent:
            instance.parent_code = parent
        instance.active = active
        instance.properties = props

    def _count_kept(self, instance: Concept, row) -> None:
        """Count the optional cells left empty where the draft holds a value (the preview says so)."""
        for column in OPTIONAL_COLUMNS:
            if column in row and cell_text(row.get(column)) == "":
                stored = getattr(instance, column)
                if stored not in ("", {}, None) and column != "active":
                    self.kept_empty[column] = self.kept_empty.get(column, 0) + 1

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or instance.pk is None:
            return False
        before = self.originals[instance.code]
        after = tuple(getattr(instance, f) for f in COMPARED)
        if before == after:
            return True
        self.changes[instance.code] = {f: [b, a] for f, b, a in zip(COMPARED, before, after, strict=True) if b != a}
        return False

    def before_save_instance(self, instance, row, **kwargs):
        instance.search = concept_search_text(instance.code, instance.display_vi, instance.display_en)
        if instance.pk:
            instance.revision += 1
        instance.updated_by = self.actor
        instance.updated_at = self.now

    def get_bulk_update_fields(self):
        return [*COMPARED, "search", "revision", "updated_by", "updated_at"]

    def _actor_id(self):
        return self.actor.pk if self.actor else None

    def _columns(self, instances):
        return [
            [c.code for c in instances],
            [c.display_vi for c in instances],
            [c.display_en for c in instances],
            [c.parent_code for c in instances],
            [c.active for c in instances],
            [json.dumps(c.properties, ensure_ascii=False) for c in instances],
            [c.search for c in instances],
            [c.revision for c in instances],
        ]

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Insert the batch with one set-based statement (Django's bulk_create is slower)."""
        if self.create_instances and not dry_run:
            try:
                with connection.cursor() as cur:
                    cur.execute(
                        _INSERT_SQL,
                        [self.version.pk, self._actor_id(), self.now, *self._columns(self.create_instances)],
                    )
            except Exception as e:  # noqa: BLE001 — reported as an import error by the library
                self.handle_import_error(result, e, raise_errors)
        self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Update the batch with one UPDATE … FROM unnest(…) (Django's bulk_update builds huge CASEs)."""
        if self.update_instances and not dry_run:
            try:
                with connection.cursor() as cur:
                    cur.execute(
                        _UPDATE_SQL,
                        [
                            self._actor_id(),
                            self.now,
                            [c.pk for c in self.update_instances],
                            *self._columns(self.update_instances)[1:],
                        ],
                    )
            except Exception as e:  # noqa: BLE001 — reported as an import error by the library
                self.handle_import_error(result, e, raise_errors)
        self.update_instances.clear()

    def dehydrate_code(self, concept):
        return concept.code
