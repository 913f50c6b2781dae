"""`{% facilities_in_scope user as n %}`: how many facilities the user's scope holds (the home pages)."""

from django import template

from facilities.access import facilities_visible_to

register = template.Library()


@register.simple_tag
def facilities_in_scope(user) -> int:
    return facilities_visible_to(user).count()
