"""Words for what changed in a code list: field and property labels, values in Vietnamese.

The compare page, the review page of a draft, the import preview and the history all show
differences through `diff_rows`, so an editor reads "Tên tiếng Việt: … → …" and "Trạng thái
mã: Đang dùng → Ngừng sử dụng", never `display_vi` or `active: True`.
"""

import json

from django.utils.translation import get_language, gettext_lazy, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

from codelists.models import CodeSystem

CONCEPT_FIELDS = ("display_vi", "display_en", "parent_code", "active", "properties")

FIELD_LABELS = {
    "code": gettext_lazy("Code"),
    "display_vi": gettext_lazy("Vietnamese display"),
    "display_en": gettext_lazy("English display"),
    "parent_code": gettext_lazy("Parent code"),
    "active": pgettext_lazy("code-list concept", "Code status"),
    "properties": gettext_lazy("Properties"),
    # draft details and import summaries in the change log
    "label": gettext_lazy("Version label"),
    "effective_from": gettext_lazy("In force from"),
    "change_note": gettext_lazy("Change note"),
    "rows": gettext_lazy("Rows"),
    "new": gettext_lazy("New"),
    "changed": gettext_lazy("Changed"),
    "unchanged": gettext_lazy("Unchanged"),
}


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def property_label(system: CodeSystem | None, key: str) -> str:
    """The label the list declares for a property (Vietnamese or English), else its code."""
    for definition in (system.property_definitions if system else None) or []:
        if definition.get("code") == key:
            english = (get_language() or "vi").startswith("en")
            return definition.get("label_en" if english else "label_vi") or key
    return key


def value_text(name: str, value) -> str:
    if name == "active":
        return pgettext("code-list concept", "In use") if value else pgettext("code-list concept", "Not in use")
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if name == "effective_from" and isinstance(value, str) and len(value) == 10:
        return "/".join(reversed(value.split("-")))  # the change log keeps ISO dates; pages show dd/mm/yyyy
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def diff_rows(system: CodeSystem | None, before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """(label, before, after) for every field or property that differs; properties one by one."""
    before, after = before or {}, after or {}
    rows = []
    for name in [*CONCEPT_FIELDS, *sorted((set(before) | set(after)) - set(CONCEPT_FIELDS))]:
        if name not in before and name not in after:
            continue
        old, new = before.get(name), after.get(name)
        if name == "properties":
            old, new = old or {}, new or {}
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    label = _("Property “%(name)s”") % {"name": property_label(system, key)}
                    rows.append((label, value_text(key, old.get(key)), value_text(key, new.get(key))))
        elif old != new:
            rows.append((field_label(name), value_text(name, old), value_text(name, new)))
    return rows


def entry_rows(system: CodeSystem | None, before: dict, after: dict) -> list[tuple[str, str, str]]:
    """Rows for a change-log entry, which records only the fields it changed (or a summary)."""
    if before:
        return diff_rows(system, before, after)
    # An addition or a summary: what it holds, properties one by one, nothing "before".
    return [(label, "", new) for label, _old, new in diff_rows(system, {}, after or {})]
