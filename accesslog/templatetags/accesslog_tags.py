from django import template

from accesslog.selectors import viewed_label as _viewed_label

register = template.Library()


@register.filter
def viewed_label(value: str) -> str:
    """Plain words for what an access-log entry says was viewed."""
    return _viewed_label(value)
