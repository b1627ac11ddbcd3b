"""Admin pages that are not plain model forms: the GeoJSON import of the hierarchy.

``grids.admin.RegionAdmin.get_urls()`` mounts ``region_import_view`` at
``admin/grids/region/import/`` (name ``grids_region_import``) inside
``admin_site.admin_view``, which already requires an active staff user.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids.importer import (
    ImportResult,
    RegionImportError,
    import_regions,
    max_import_bytes,
    parse_geojson_bytes,
)
from grids.selectors import regions_visible_to

# One message per warning is readable up to a point; the rest are counted.
MAX_WARNING_MESSAGES = 50


class RegionImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("GeoJSON 文件"),
        help_text=gettext_lazy("GeoJSON FeatureCollection，与导出的区划文件格式相同"),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("先预检不写入（dry run）"), required=False
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        # Refused before the file is read (settings.GRID_IMPORT_MAX_BYTES).
        limit = max_import_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件过大（上限 %(mb)d MB）") % {"mb": limit // (1024 * 1024)}
            )
        return upload


def can_import_regions(user: Any) -> bool:
    """Superusers, or staff granted ``grids.add_region`` (then limited to their scope)."""
    allowed = user.is_superuser or user.has_perm("grids.add_region")
    return bool(user.is_active and user.is_staff and allowed)


def _after_import_url(request: HttpRequest) -> str:
    try:
        return reverse("admin:grids_region_changelist")
    except NoReverseMatch:  # the import page is also usable before Region is registered
        return request.path


def _report(request: HttpRequest, result: ImportResult, *, dry_run: bool) -> None:
    counts = {"c": result.created, "u": result.updated, "n": result.unchanged}
    if dry_run:
        messages.info(request, _("预检通过，未写入：将新建 %(c)d，更新 %(u)d，未变 %(n)d") % counts)
    else:
        messages.success(request, _("导入完成：新建 %(c)d，更新 %(u)d，未变 %(n)d") % counts)
    for warning in result.warnings[:MAX_WARNING_MESSAGES]:
        messages.warning(request, warning)
    if len(result.warnings) > MAX_WARNING_MESSAGES:
        hidden = len(result.warnings) - MAX_WARNING_MESSAGES
        messages.warning(request, _("另有 %(n)d 条警告未显示") % {"n": hidden})


def region_import_view(request: HttpRequest, model_admin: ModelAdmin[Any]) -> HttpResponse:
    """Upload a GeoJSON hierarchy; all or nothing, every error listed on failure."""
    if not can_import_regions(request.user):
        raise PermissionDenied
    errors: list[str] = []
    form = RegionImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        dry_run = form.cleaned_data["dry_run"]
        try:
            data = parse_geojson_bytes(form.cleaned_data["file"].read())
            within = None if request.user.is_superuser else regions_visible_to(request.user)
            result = import_regions(data, dry_run=dry_run, within=within)
        except RegionImportError as e:
            errors = e.errors
        else:
            _report(request, result, dry_run=dry_run)
            return redirect(request.path if dry_run else _after_import_url(request))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("导入区划（GeoJSON）"),
        "help_lines": [
            _(
                "上传 GeoJSON FeatureCollection：每个要素的 properties 含 code（代码）、"
                "name（名称）、level（city、district、street、community 或 grid）和 "
                "parent_code（上级代码，市级为 null）；geometry 为 Polygon 或 MultiPolygon，"
                "网格必须有边界。"
            ),
            _(
                "已有代码会被更新（名称、边界、上级），新代码会被新建；文件中 geometry 为 null "
                "时保留已有边界。文件中任何一处有误，整份文件都不导入。"
            ),
        ],
        "form": form,
        "errors": errors,
    }
    return render(request, "admin/table_import.html", context)
