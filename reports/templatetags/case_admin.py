"""``{% case_result_list cl %}``: the admin's ``{% result_list %}`` with rows from
``reports.admin_rows`` (same HTML, rendered once per page rather than once per cell)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from reports.admin_rows import result_list

register = template.Library()


@register.tag(name="case_result_list")
def case_result_list_tag(parser: Any, token: Any) -> InclusionAdminNode:
    # django-stubs name the first two parameters wrongly (name, parser).
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser, token, func=result_list, template_name="change_list_results.html",
        takes_context=False,
    )
