"""How lab results read on every book page: values and ranges in the language's number format,
one-sided ranges with a sign, flags in words (healthbook.models.lab_ranges holds the rule)."""

from django import template
from django.utils.html import format_html

from core.templatetags.numbers import format_number
from healthbook.models.lab_ranges import FLAG_LABELS, parse_range

register = template.Library()

_FLAG_CLASSES = {"H": "text-danger", "L": "text-primary", "A": "text-warning-emphasis"}


@register.filter
def ref_range(text):
    """ "3.9–5.2" → "3,9 – 5,2" (Vietnamese), "–37" → "≤ 37", "4–" → "≥ 4"; other text as sent."""
    parsed = parse_range(text)
    if parsed is None:
        return text or ""
    low, high = parsed
    if low is not None and high is not None:
        return f"{format_number(low)} – {format_number(high)}"
    return f"≤ {format_number(high)}" if high is not None else f"≥ {format_number(low)}"


@register.filter
def lab_flag(flag):
    """The flag as a word ("cao", "thấp", "bất thường"), coloured; an unknown flag as sent."""
    if not flag:
        return ""
    label = FLAG_LABELS.get(flag)
    if label is None:
        return flag
    return format_html('<span class="lab-flag {}" data-flag="{}">{}</span>', _FLAG_CLASSES[flag], flag, label)
