"""What the catalogue and rule admins share: table import/export pages, and the rule that
city-wide tables (no region of their own) are written by city-level administrators only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reports import catalog as catalog_service
from reports.resources import CONTENT_TYPES
from reports.selectors import is_city_admin


class CityWideAdmin:
    """A table the whole deployment shares — stage limits, categories and filing
    standards, the work calendar. Delegated staff (a street's or district's own
    administrators, with admin rights over their subtree) may read it; only city-level
    administrators (superusers, or the administrator role at a city node:
    ``reports.selectors.is_city_admin``) add, change or delete rows. Listed first among the
    bases, so a subclass's own refusals still apply."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_city_admin(request.user) and super().has_add_permission(  # type: ignore[misc]
            request, *args
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_city_admin(request.user) and super().has_change_permission(  # type: ignore[misc]
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_city_admin(request.user) and super().has_delete_permission(  # type: ignore[misc]
            request, obj
        )


# A city's catalogue or rule table is well under a megabyte; 10 MB is a wrong file.
MAX_TABLE_UPLOAD = 10 * 1024 * 1024


def can_import_tables(user: Any) -> bool:
    """Catalogue and rule tables are city-wide: only superusers replace them in bulk."""
    return bool(user.is_active and user.is_staff and user.is_superuser)


class TableImportForm(forms.Form):
    file = forms.FileField(
        label=_("文件"), help_text=_("XLSX 或 CSV（UTF-8 或 GB18030 编码），首行为列名")
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_TABLE_UPLOAD:
            raise forms.ValidationError(
                gettext("文件过大（上限 %(mb)d MB）") % {"mb": MAX_TABLE_UPLOAD // (1024 * 1024)}
            )
        if catalog_service.file_format(upload.name) is None:
            raise forms.ValidationError(gettext("请上传 .xlsx 或 .csv 文件"))
        return upload


def table_import_view(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    *,
    title: str,
    help_lines: list[str],
    importer: Any,
) -> HttpResponse:
    """Upload → service → messages; on any error the rows are listed and nothing changed."""
    if not can_import_tables(request.user):
        raise PermissionDenied
    errors: list[str] = []
    form = TableImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = importer(upload.read(), fmt=catalog_service.file_format(upload.name))
        except catalog_service.TableImportError as e:
            errors = e.errors
        else:
            messages.success(request, gettext("导入完成：") + result.summary())
            for warning in result.warnings:
                messages.warning(request, warning)
            opts = model_admin.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "help_lines": help_lines,
        "form": form,
        "errors": errors,
    }
    return render(request, "admin/table_import.html", context)


def table_export_view(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    *,
    basename: str,
    exporter: Any,
    **scope: Any,
) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    fmt = request.GET.get("format", "xlsx")
    if fmt not in CONTENT_TYPES:
        fmt = "xlsx"
    response = HttpResponse(exporter(fmt=fmt, **scope), content_type=CONTENT_TYPES[fmt])
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{basename}-{stamp}.{fmt}"'
    return response
