"""django-import-export resources for bulk onboarding and for exports.

Import: one row per facility keyed by code. New facilities are registered (pending): a second
officer of the province, not the importer, approves each one in the queue (facility_transition);
existing ones get their profile updated, never their status or province. Lookups (provinces, old
province codes, existing facilities) are loaded once per file, not once per row.
"""

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader

from core.spreadsheet import neutralise_formula, unquote_formula
from facilities.models import Facility, FacilityStatus, Level, Ownership
from geo.models import Commune, OldProvinceCode, Province

# Words provinces use in their own lists, whatever the interface language.
OWNERSHIP_ALIASES = {
    "công lập": Ownership.PUBLIC,
    "nhà nước": Ownership.PUBLIC,
    "ngoài công lập": Ownership.PRIVATE,
    "tư nhân": Ownership.PRIVATE,
    "tư": Ownership.PRIVATE,
}
IMPORT_COLUMNS = (
    "code",
    "name",
    "province",
    "commune",
    "address",
    "ownership",
    "level",
    "insurance_contract",
    "contact_name",
    "contact_phone",
    "contact_email",
    "latitude",
    "longitude",
    "expected_monthly_visits",
)


# The formula rule (= + - @, TAB, CR) is core.spreadsheet's, shared by every export.
_unquote = unquote_formula


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return _unquote(str(value).strip())


class CodeWidget(TextWidget):
    """A facility code; spreadsheets that turned 01001 into the number 1001 get it back."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            return str(int(value)).zfill(5)
        return super().clean(value, row, **kwargs)


class ChoiceWidget(widgets.Widget):
    """Accept a choice's value ("public") or its Vietnamese or English label ("Công lập")."""

    def __init__(self, choices_class, aliases=None, **kwargs):
        super().__init__(**kwargs)
        self.choices_class = choices_class
        self.aliases = aliases or {}

    def clean(self, value, row=None, **kwargs):
        text = TextWidget().clean(value).lower()
        if not text:
            return None
        if text in self.aliases:
            return self.aliases[text]
        from django.utils import translation

        for choice in self.choices_class:
            labels = {choice.value, str(choice.label).lower()}
            for lang in ("vi", "en"):
                with translation.override(lang):
                    labels.add(str(choice.label).lower())
            if text in labels:
                return choice.value
        raise ValueError(
            _("Unknown value “%(value)s”; use one of: %(choices)s.")
            % {"value": text, "choices": ", ".join(self.choices_class.values)}
        )

    def render(self, value, obj=None, **kwargs):
        return value or ""


class YesNoWidget(widgets.Widget):
    TRUE = {"1", "true", "yes", "x", "có", "co", "c"}
    FALSE = {"0", "false", "no", "không", "khong", "k", ""}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = TextWidget().clean(value).lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("Write 1 (yes) or 0 (no)."))

    def render(self, value, obj=None, **kwargs):
        return "1" if value else "0"


class ProvinceWidget(widgets.Widget):
    """A province by its two-digit code; the 34 rows are loaded once per import."""

    def __init__(self, by_code=None, **kwargs):
        super().__init__(**kwargs)
        self.by_code = by_code or {}

    def clean(self, value, row=None, **kwargs):
        code = CodeWidget().clean(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            code = str(int(value)).zfill(2)
        if not code:
            raise ValueError(_("The province code is required."))
        if code not in self.by_code:
            raise ValueError(_("“%(code)s” is not one of the 34 province codes.") % {"code": code})
        return self.by_code[code]

    def render(self, value, obj=None, **kwargs):
        return value.code if value else ""


def _commune_key(name: str) -> str:
    return " ".join(name.split()).lower()


class FacilityImportResource(resources.ModelResource):
    code = fields.Field(attribute="code", column_name="code", widget=CodeWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    province = fields.Field(attribute="province", column_name="province", widget=ProvinceWidget())
    commune = fields.Field(attribute="commune", column_name="commune", widget=TextWidget())
    address = fields.Field(attribute="address", column_name="address", widget=TextWidget())
    ownership = fields.Field(
        attribute="ownership", column_name="ownership", widget=ChoiceWidget(Ownership, aliases=OWNERSHIP_ALIASES)
    )
    level = fields.Field(attribute="level", column_name="level", widget=ChoiceWidget(Level))
    has_insurance_contract = fields.Field(
        attribute="has_insurance_contract", column_name="insurance_contract", widget=YesNoWidget()
    )
    contact_name = fields.Field(attribute="contact_name", column_name="contact_name", widget=TextWidget())
    contact_phone = fields.Field(attribute="contact_phone", column_name="contact_phone", widget=TextWidget())
    contact_email = fields.Field(attribute="contact_email", column_name="contact_email", widget=TextWidget())
    latitude = fields.Field(attribute="latitude", column_name="latitude", widget=widgets.DecimalWidget())
    longitude = fields.Field(attribute="longitude", column_name="longitude", widget=widgets.DecimalWidget())
    expected_monthly_visits = fields.Field(
        attribute="expected_monthly_visits", column_name="expected_monthly_visits", widget=widgets.IntegerWidget()
    )

    class Meta:
        model = Facility
        fields = tuple("has_insurance_contract" if c == "insurance_contract" else c for c in IMPORT_COLUMNS)
        import_id_fields = ("code",)
        instance_loader_class = CachedInstanceLoader
        use_bulk = True
        batch_size = 500
        skip_diff = True
        clean_model_instances = False
        use_transactions = True

    def __init__(self, *, acting_user=None, allowed_province_ids=None):
        """`allowed_province_ids` None means every province (the command line)."""
        super().__init__()
        self.acting_user = acting_user
        self.allowed_province_ids = allowed_province_ids
        self.old_codes = dict(OldProvinceCode.objects.values_list("code", "province_id"))
        self.fields["province"].widget = ProvinceWidget(by_code={p.code: p for p in Province.objects.all()})
        # The commune column names a commune of the list: its 5-digit code, or its exact name in
        # the facility's province (3,321 rows, loaded once per import).
        self.communes = {c.code: c for c in Commune.objects.all()}
        self.commune_names = {(c.province_id, _commune_key(c.name_vi)): c for c in self.communes.values()}
        self.seen_codes: set[str] = set()
        self.created_codes: list[str] = []

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        is_new = instance.pk is None
        original_province_id = instance.province_id
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        code = instance.code
        if not (code and len(code) == 5 and code.isascii() and code.isdigit()):
            errors.setdefault("code", []).append(_("The facility code must be exactly 5 digits."))
        elif code in self.seen_codes:
            errors.setdefault("code", []).append(_("This code appears twice in the file."))
        self.seen_codes.add(code)
        if not is_new and instance.province_id != original_province_id:
            errors.setdefault("province", []).append(_("The province of a registered facility cannot be changed."))
        if "province" not in errors and instance.province_id is not None:
            if self.allowed_province_ids is not None and instance.province_id not in self.allowed_province_ids:
                errors.setdefault("province", []).append(_("You can import facilities only for your own province."))
            elif code and code.isdigit() and len(code) == 5 and self.old_codes.get(code[:2]) != instance.province_id:
                errors.setdefault("code", []).append(
                    _("The first two digits of the code do not belong to this province.")
                )
        self._commune(instance, errors)
        if not instance.ownership:
            instance.ownership = Ownership.PUBLIC
        if not instance.level:
            instance.level = Level.OTHER
        try:
            instance.clean_fields(exclude=[*errors.keys(), "search_text", "status"])
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def get_bulk_update_fields(self):
        fields = [self.fields[f].attribute for f in super().get_bulk_update_fields()]
        return [*fields, "commune_unit"]  # resolved from the commune column

    def _commune(self, instance, errors: dict) -> None:
        """Resolve the commune column to a commune of the list (never kept as free text)."""
        text = (instance.commune or "").strip()
        if not text:
            instance.commune_unit = None
            instance.commune = ""
            return
        unit = self.communes.get(text) or self.commune_names.get((instance.province_id, _commune_key(text)))
        if unit is None or unit.province_id != instance.province_id:
            errors.setdefault("commune", []).append(
                _("“%(value)s” is not a commune of this province: write its 5-digit code from the list.")
                % {"value": text[:60]}
            )
            return
        instance.commune_unit = unit
        instance.commune = unit.name_vi

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is None:
            now = timezone.now()
            instance.status = FacilityStatus.PENDING
            instance.registered_at = now
            instance.registered_by = self.acting_user
            self.created_codes.append(instance.code)

    def after_import(self, dataset, result, **kwargs):
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors() or not self.created_codes:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO facilities_facilitystatuschange (facility_id, from_status, to_status, actor_id, reason, at)
                SELECT id, '', %s, %s, %s, now() FROM facilities_facility WHERE code = ANY(%s)
                """,
                [
                    FacilityStatus.PENDING,
                    getattr(self.acting_user, "pk", None),
                    _("Registered by bulk import; waiting for approval by another officer."),
                    self.created_codes,
                ],
            )


class FacilityExportResource(resources.ModelResource):
    """Every column of the registry list, with formula-like text neutralised."""

    code = fields.Field(attribute="code", column_name="code")
    name = fields.Field(attribute="name", column_name="name")
    province = fields.Field(attribute="province__code", column_name="province")
    province_name = fields.Field(attribute="province__name_vi", column_name="province_name")
    commune = fields.Field(attribute="commune", column_name="commune")
    address = fields.Field(attribute="address", column_name="address")
    ownership = fields.Field(attribute="ownership", column_name="ownership")
    level = fields.Field(attribute="level", column_name="level")
    insurance_contract = fields.Field(
        attribute="has_insurance_contract", column_name="insurance_contract", widget=YesNoWidget()
    )
    contact_name = fields.Field(attribute="contact_name", column_name="contact_name")
    contact_phone = fields.Field(attribute="contact_phone", column_name="contact_phone")
    contact_email = fields.Field(attribute="contact_email", column_name="contact_email")
    latitude = fields.Field(attribute="latitude", column_name="latitude")
    longitude = fields.Field(attribute="longitude", column_name="longitude")
    expected_monthly_visits = fields.Field(attribute="expected_monthly_visits", column_name="expected_monthly_visits")
    status = fields.Field(attribute="status", column_name="status")
    last_contact_at = fields.Field(
        attribute="last_contact_at", column_name="last_contact_at", widget=widgets.DateTimeWidget("%Y-%m-%d %H:%M")
    )
    last_accepted_at = fields.Field(
        attribute="last_accepted_at", column_name="last_accepted_at", widget=widgets.DateTimeWidget("%Y-%m-%d %H:%M")
    )

    class Meta:
        model = Facility
        fields = (
            *IMPORT_COLUMNS[:3],
            "province_name",
            *IMPORT_COLUMNS[3:],
            "status",
            "last_contact_at",
            "last_accepted_at",
        )
        export_order = fields

    def export_field(self, field, instance, **kwargs):
        return neutralise_formula(super().export_field(field, instance, **kwargs))
