"""The rows of an admin change list, rendered with the per-page work done once.

Django's ``items_for_result`` decides, for every cell of every row, what kind of column
it is (model field, relation, choices, admin method), looks up the empty-value text,
builds the CSS class, reverses the change URL and merges the preserved filters into
it, and formats each cell with ``format_html``; then the template loops over every
cell. On the case list (100 rows × 7 columns) that was about 0.35 ms a row, more than
all of the page's SQL at a million cases. Here each column is classified once per page
and the change URL is reversed once (the case id goes into a placeholder); each row is
one string, and the template loops over rows only.

The HTML is the same as Django's, cell for cell (a test compares them). Pages this
module does not cover — editable lists, popups, ``to_field`` links, columns that are
model properties or bare callables — fall back to Django's own ``results``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value, quote
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

# Stands for the object's id in the change URL reversed once per page; the path comes
# before the query, so replacing the first occurrence never touches a search term.
_PK_MARK = "0pk0mark0"


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # "fk" | "choices" | "field" | "method"
    classes: str  # the cell's class list, without "nowrap" for date/time method values
    empty_raw: Any  # the empty-value text as the admin gives it …
    link: bool
    field: Any = None
    method: Any = None
    boolean: bool = False
    choices: dict[Any, str] | None = None  # value -> escaped label
    empty: str = ""  # … and escaped

    def __post_init__(self) -> None:
        object.__setattr__(self, "empty", str(conditional_escape(self.empty_raw)))


def _columns(cl: Any) -> list[_Column] | None:
    model_admin = cl.model_admin
    opts = cl.lookup_opts
    default_empty = model_admin.get_empty_value_display()
    links = cl.list_display_links
    columns = []
    first_link_seen = False
    for name in cl.list_display:
        if links is None:
            link = False
        elif not first_link_seen and not links:
            link = True
        else:
            link = name in links
        first_link_seen = first_link_seen or link
        if callable(name) or not isinstance(name, str):
            return None  # a bare callable: Django's path
        classes = f"field-{name}"
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is None:
            # Only the admin's own methods (time_left, action_checkbox); properties and
            # attributes of the model take Django's path.
            method = getattr(model_admin, name, None) if name != "__str__" else None
            if method is None or not callable(method):
                return None
            if name == "action_checkbox":
                classes = "action-checkbox"
            empty = getattr(method, "empty_value_display", default_empty)
            columns.append(_Column(
                name, "method", classes, empty, link,
                method=method, boolean=bool(getattr(method, "boolean", False)),
            ))
            continue
        if field.auto_created or not field.concrete or field.many_to_many or (
            field.is_relation and field.attname == name
        ):
            return None  # reverse relations, many-to-many, "x_id" names: Django's path
        if isinstance(field, (models.DateField, models.TimeField, models.ForeignKey)):
            classes += " nowrap"
        empty = default_empty
        if isinstance(field.remote_field, models.ManyToOneRel):
            columns.append(_Column(name, "fk", classes, empty, link, field=field))
        elif getattr(field, "flatchoices", None):
            try:
                choices = {k: str(conditional_escape(v)) for k, v in field.flatchoices}
            except TypeError:  # unhashable choice values: Django's path
                return None
            columns.append(_Column(name, "choices", classes, empty, link, field=field,
                                   choices=choices))
        else:
            columns.append(_Column(name, "field", classes, empty, link, field=field))
    return columns


def _change_url(cl: Any) -> tuple[str, str] | None:
    """The change URL around the id (escaped for an attribute), preserved filters included."""
    try:
        url = reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=(_PK_MARK,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return None
    url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts},
                                url)
    before, mark, after = url.partition(_PK_MARK)
    if not mark:
        return None
    return str(conditional_escape(before)), str(conditional_escape(after))


def _cell(column: _Column, result: Any) -> tuple[str, str]:
    """(class list, escaped HTML) of one cell, as ``items_for_result`` computes them."""
    try:
        if column.kind == "fk":
            related = getattr(result, column.field.name)
            shown = column.empty if related is None else str(conditional_escape(related))
            return column.classes, shown
        if column.kind == "method":
            value = column.method(result)
        else:
            value = getattr(result, column.name)
    except ObjectDoesNotExist:  # a missing related row: Django adds no "nowrap" then
        return f"field-{column.name}", column.empty
    if isinstance(value, str) and value.strip() == "":
        value = ""
    if column.kind == "choices":
        assert column.choices is not None
        return column.classes, column.choices.get(value, column.empty)
    if column.kind == "method":
        shown = display_for_value(value, column.empty_raw, column.boolean)
        if isinstance(value, (datetime.date, datetime.time)):
            return f"{column.classes} nowrap", str(conditional_escape(shown))
        return column.classes, str(conditional_escape(shown))
    shown = display_for_field(value, column.field, column.empty_raw,
                              avoid_link=column.link)
    return column.classes, str(conditional_escape(shown))


def _rows(cl: Any) -> list[ResultList] | None:
    if cl.formset or cl.is_popup or cl.to_field:
        return None
    columns = _columns(cl)
    if columns is None:
        return None
    url = _change_url(cl) if any(c.link for c in columns) else ("", "")
    if url is None:
        return None
    before, after = url
    pk_attname = cl.pk_attname
    rows = []
    for result in cl.result_list:
        cells = []
        first = True
        for column in columns:
            classes, shown = _cell(column, result)
            if column.link:
                tag = "th" if first else "td"
                first = False
                href = before + str(conditional_escape(quote(getattr(result, pk_attname)))) + after
                cells.append(f'<{tag} class="{classes}"><a href="{href}">'
                             f"{shown}</a></{tag}>")
            else:
                cells.append(f'<td class="{classes}">{shown}</td>')
        rows.append(ResultList(None, [SafeString("".join(cells))]))
    return rows


def result_list(cl: Any) -> dict[str, Any]:
    """The context of ``admin/change_list_results.html``, as Django's ``result_list``
    builds it, each row as one ready-made cell string."""
    headers = list(result_headers(cl))
    rows = _rows(cl)
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows if rows is not None else list(results(cl)),
    }

