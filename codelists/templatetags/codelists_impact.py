"""`{% retired_code_impact_summary version %}`: the retired-code impact block of the code-list
review page (issue 17, point 7; the report itself: codelists/impact_views.py)."""

from django import template

from codelists.impact import IMPACT_DAYS, retired_code_impact
from codelists.impact_views import province_of

SUMMARY_ROWS = 5


register = template.Library()


@register.inclusion_tag("codelists/_impact_summary.html", takes_context=True)
def retired_code_impact_summary(context, version):
    """The review page's block: the report's counts and its first rows, for a draft or a version
    in review (a published version's page only links to the report)."""
    request = context["request"]
    out = {"system": version.system, "version": version, "days": IMPACT_DAYS, "impact": None}
    if version.status in ("draft", "in_review"):
        impact = retired_code_impact(version, province_id=province_of(request.user))
        out.update(impact=impact, top=(impact.rows or [])[:SUMMARY_ROWS])
    return out
