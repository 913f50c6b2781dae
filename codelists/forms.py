from django import forms
from django.utils.translation import gettext_lazy as _

from codelists.models import CODE_MAX_LENGTH
from core.forms import DateField


class StyledForm(forms.Form):
    """Bootstrap classes and aria-invalid on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            if isinstance(field.widget, forms.Select):
                css = "form-select"
            field.widget.attrs.setdefault("class", css)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}-errors"
                self.fields[name].widget.attrs["class"] += " is-invalid"


class DraftStartForm(StyledForm):
    label = forms.CharField(
        label=_("Version label"),
        max_length=120,
        help_text=_("For example the decision that issues it: QĐ 1234/QĐ-BYT (2026)."),
    )
    effective_from = DateField(label=_("In force from"), required=False)
    change_note = forms.CharField(label=_("Change note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


PROPERTY_PREFIX = "prop_"


def _list_text(value) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else str(value))


def _property_field(definition: dict) -> forms.Field:
    """A form field for one property the code system declares, by its declared type."""
    label = definition.get("label_vi") or definition["code"]
    kind = definition.get("type", "string")
    if kind == "code":
        # A choice is a value or a [value, label] pair; "—" (no value) is always offered.
        choices = [tuple(c) if isinstance(c, list | tuple) else (c, c or "—") for c in definition.get("choices", [])]
        if "" not in {value for value, _label in choices}:
            choices.insert(0, ("", "—"))
        return forms.ChoiceField(label=label, required=False, choices=choices)
    if kind == "boolean":
        return forms.BooleanField(label=label, required=False)
    if kind == "integer":
        return forms.IntegerField(label=label, required=False)
    if kind == "decimal":
        return forms.DecimalField(label=label, required=False, max_digits=14, decimal_places=6)
    if kind in ("integer-list", "string-list"):
        return forms.CharField(label=label, required=False, help_text=_("Several values separated by commas."))
    if kind == "json":
        return forms.JSONField(
            label=label,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("A structured value (list or object), as the list's documentation describes it."),
        )
    return forms.CharField(label=label, required=False, max_length=500)


def _property_initial(definition: dict, value):
    kind = definition.get("type", "string")
    if kind in ("integer-list", "string-list"):
        return _list_text(value)
    if kind == "boolean":
        return bool(value)
    return value


class ConceptForm(StyledForm):
    """A concept of a draft. Properties are edited through the fields the code system declares
    (CodeSystem.property_definitions, with their types); properties it does not declare are kept
    as they are."""

    code = forms.CharField(label=_("Code"), max_length=CODE_MAX_LENGTH)
    display_vi = forms.CharField(label=_("Vietnamese display"), max_length=500)
    display_en = forms.CharField(label=_("English display"), max_length=500, required=False)
    parent_code = forms.CharField(label=_("Parent code"), max_length=CODE_MAX_LENGTH, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, editing: bool = False, definitions=None, properties=None, **kwargs):
        self.definitions = [d for d in (definitions or []) if d.get("code")]
        self.stored_properties = dict(properties or {})
        initial = dict(kwargs.pop("initial", None) or {})
        for d in self.definitions:
            initial.setdefault(PROPERTY_PREFIX + d["code"], _property_initial(d, self.stored_properties.get(d["code"])))
        super().__init__(*args, initial=initial, **kwargs)
        for d in self.definitions:
            field = _property_field(d)
            stored = self.stored_properties.get(d["code"])
            if isinstance(field, forms.ChoiceField) and stored not in (None, ""):
                if str(stored) not in {str(value) for value, _label in field.choices}:
                    # A value the declaration does not list is offered as it is, never silently replaced.
                    field.choices = [*field.choices, (stored, str(stored))]
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            if isinstance(field.widget, forms.Select):
                css = "form-select"
            field.widget.attrs.setdefault("class", css)
            self.fields[PROPERTY_PREFIX + d["code"]] = field
        if editing:
            self.fields["code"].disabled = True

    def main_fields(self):
        return [self[name] for name in self.fields if not name.startswith(PROPERTY_PREFIX)]

    def property_fields(self):
        return [self[PROPERTY_PREFIX + d["code"]] for d in self.definitions]

    def undeclared_properties(self) -> dict:
        declared = {d["code"] for d in self.definitions}
        return {k: v for k, v in self.stored_properties.items() if k not in declared}

    def clean(self):
        cleaned = super().clean()
        props = dict(self.stored_properties)
        for d in self.definitions:
            name, kind = PROPERTY_PREFIX + d["code"], d.get("type", "string")
            if name not in cleaned:
                continue
            value = cleaned[name]
            if kind == "integer-list":
                try:
                    value = [int(v) for v in str(value or "").replace(";", ",").split(",") if v.strip()]
                except ValueError:
                    self.add_error(name, _("Write whole numbers separated by commas, e.g. 6, 7."))
                    continue
            elif kind == "string-list":
                value = [v.strip() for v in str(value or "").split(",") if v.strip()]
            elif kind == "decimal" and value is not None:
                value = int(value) if value == value.to_integral_value() else float(value)
            elif kind == "boolean" and not value and d["code"] not in self.stored_properties:
                value = None  # an unticked box adds nothing to a code that never had the property
            if value in (None, "", []) and kind != "boolean":
                props.pop(d["code"], None)
            elif value is not None:
                props[d["code"]] = value
        cleaned["properties"] = props
        return cleaned

    def clean_code(self):
        return (self.cleaned_data.get("code") or "").strip()

    def clean_parent_code(self):
        return (self.cleaned_data.get("parent_code") or "").strip()


class SendBackForm(StyledForm):
    comment = forms.CharField(label=_("What must change"), widget=forms.Textarea(attrs={"rows": 3}))


class PublishForm(StyledForm):
    confirm = forms.BooleanField(
        label=_("I have checked the changes and publish this version nationally."),
        error_messages={"required": _("Tick the box to confirm the publication.")},
    )


class ImportForm(StyledForm):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("Columns: code, display_vi, display_en, parent_code, active, properties."),
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Code or text"), required=False, max_length=200)
    active = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), ("1", _("Active")), ("0", _("Retired"))]
    )
