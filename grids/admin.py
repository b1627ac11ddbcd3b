"""Django admin for the hierarchy, buildings, departments and assignments.

Two rules hold on every page here:
- Scope: a staff user who is not a superuser sees and picks only what the selectors in
  ``grids.selectors`` let them see (lists, change pages, foreign-key choices and
  autocomplete endpoints alike). Out of scope looks exactly like "does not exist".
- Region writes go through ``grids.tree`` (create / update / move / delete), so the level
  rule, the tree lock and the geo-stamp bump apply to the admin as to everything else.
"""

from __future__ import annotations

from typing import Any

import shapely
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.forms.fields import InvalidJSONInput
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from mptt.admin import MPTTModelAdmin
from shapely.geometry import mapping, shape

from accounts.models import User
from grids import geo, services, tree
from grids.admin_views import region_import_view
from grids.importer import (
    MAX_JSON_DEPTH,
    dumps_feature_collection,
    export_regions,
    json_depth,
)
from grids.models import (
    ROLE_REGION_LEVEL,
    Assignment,
    Building,
    Department,
    Entrance,
    GeoStamp,
    Level,
    Region,
    Role,
)
from grids.selectors import (
    assignments_visible_to,
    buildings_visible_to,
    can_manage_user,
    departments_visible_to,
    regions_visible_to,
    users_manageable_by,
)
from grids.widgets import BoundaryMapWidget

admin.site.site_header = gettext_lazy("津治通 管理后台")
admin.site.site_title = gettext_lazy("津治通 管理后台")
admin.site.index_title = gettext_lazy("网格化管理平台")

# Context shapes around the edited boundary are simplified to ~10 m: enough to draw
# against, and a district's sibling districts stay a few kilobytes.
CONTEXT_SIMPLIFY_DEG = 0.0001


def _is_global(request: HttpRequest) -> bool:
    return bool(request.user.is_superuser)


class ScopedForeignKeysMixin:
    """Foreign keys to regions and departments offer only what the user can see."""

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        model = db_field.remote_field.model
        if "queryset" not in kwargs:
            if model is Region:
                kwargs["queryset"] = regions_visible_to(request.user)
            elif model is Department:
                kwargs["queryset"] = departments_visible_to(request.user)
            elif model is Building:
                kwargs["queryset"] = buildings_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


# --- Regions -------------------------------------------------------------------------


class BoundaryField(forms.JSONField):
    """GeoJSON text; a Feature or a one-feature FeatureCollection is unwrapped."""

    widget = BoundaryMapWidget
    default_error_messages = {
        "invalid": gettext_lazy(
            "边界不是有效的 JSON，请粘贴 GeoJSON 的 Polygon 或 MultiPolygon，或在地图上绘制"
        ),
    }

    def prepare_value(self, value: Any) -> Any:
        # No boundary is an empty box, not the JSON text "null".
        return "" if value is None else super().prepare_value(value)

    @staticmethod
    def _too_deep(value: Any) -> bool:
        # The region import's bound, checked without parsing: json.loads recurses, and
        # 1,000 nested arrays raised RecursionError (a 500) in to_python and bound_data.
        return isinstance(value, str) and (
            json_depth(value.encode("utf-8", "surrogatepass")) > MAX_JSON_DEPTH
        )

    def bound_data(self, data: Any, initial: Any) -> Any:
        if self._too_deep(data):
            return InvalidJSONInput(data)  # shown back as typed, next to the error
        return super().bound_data(data, initial)

    def to_python(self, value: Any) -> Any:
        if self._too_deep(value):
            raise ValidationError(
                _("边界嵌套层数过多（超过 %(n)d 层），请粘贴 GeoJSON 的 Polygon 或 MultiPolygon")
                % {"n": MAX_JSON_DEPTH},
                code="too_deep",
            )
        value = super().to_python(value)
        if isinstance(value, dict) and value.get("type") == "FeatureCollection":
            features = value.get("features")
            if isinstance(features, list) and len(features) == 1:
                value = features[0]
        if isinstance(value, dict) and value.get("type") == "Feature":
            value = value.get("geometry")
        return value


class RegionAdminForm(forms.ModelForm):
    boundary = BoundaryField(
        label=gettext_lazy("边界"),
        required=False,
        help_text=gettext_lazy(
            "在地图上绘制或修改边界，也可直接粘贴 GeoJSON；自相交等问题会自动修复并提示。"
            "清空即删除边界。"
        ),
    )

    # Set by RegionAdmin.get_form: who is editing (scope of the map's context shapes and
    # whether a top-level region may be created).
    request_user: Any = None

    class Meta:
        model = Region
        fields = ["parent", "code", "name", "boundary"]
        help_texts = {
            "parent": gettext_lazy(
                "层级由上级决定：没有上级为市，其下依次为区、街道、社区、网格。"
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.boundary_warnings: list[str] = []
        parent_field = self.fields.get("parent")
        if (
            isinstance(parent_field, forms.ModelChoiceField)
            and parent_field.queryset is not None
            and self.instance.parent_id
        ):
            # A street's own district is outside street staff's scope, yet the street must
            # stay savable: its current parent is always a valid choice.
            parent_field.queryset = Region.objects.filter(
                Q(pk__in=parent_field.queryset.values("pk")) | Q(pk=self.instance.parent_id)
            )
        widget = self.fields["boundary"].widget
        if isinstance(widget, BoundaryMapWidget):
            widget.context_features = self._context_features()

    def _context_features(self) -> list[dict[str, Any]]:
        """Parent and sibling boundaries the editing user may see, for drawing against."""
        region = self.instance
        if region.pk is None or region.parent_id is None or self.request_user is None:
            return []
        nearby = (
            regions_visible_to(self.request_user)
            .filter(Q(pk=region.parent_id) | Q(parent_id=region.parent_id))
            .exclude(pk=region.pk)
            .filter(boundary__isnull=False)
            .only("code", "name", "boundary")
        )
        features = []
        for other in nearby:
            try:
                geom = shape(other.boundary).simplify(CONTEXT_SIMPLIFY_DEG)
            except (ValueError, TypeError, AttributeError, shapely.errors.ShapelyError):
                continue  # context only: a broken neighbour must not block editing
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": other.name, "code": other.code},
                    "geometry": mapping(geom),
                }
            )
        return features

    def clean_boundary(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("boundary")
        if raw is None:
            return None
        try:
            normalized = geo.normalize_boundary(raw)
        except geo.BoundaryError as e:
            raise ValidationError(str(e), code="boundary") from e
        self.boundary_warnings = normalized.warnings
        return normalized.geometry

    def clean_parent(self) -> Region | None:
        parent: Region | None = self.cleaned_data.get("parent")
        region = self.instance
        user = self.request_user
        if parent is None:
            if region.pk is not None and region.level == Level.CITY:
                return None
            if region.pk is not None:
                raise ValidationError(_("请选择上级区划"), code="parent_required")
            if user is not None and not user.is_superuser:
                raise ValidationError(
                    _("请选择上级区划（只有超级管理员可以新建市级区划）"), code="parent_required"
                )
            return None
        if parent.level >= Level.GRID:
            raise ValidationError(
                _("“%(parent)s”是网格，网格之下不能再设下级区划") % {"parent": parent.name},
                code="grid_parent",
            )
        if region.pk is None:
            return parent
        if region.level == Level.CITY:
            raise ValidationError(_("市级区划不能设置上级"), code="city_parent")
        if parent.tree_id == region.tree_id and region.lft <= parent.lft <= region.rght:
            raise ValidationError(_("不能把区划移动到它自身或其下级之下"), code="cycle")
        if parent.level != region.level - 1:
            raise ValidationError(
                _("“%(name)s”是%(level)s，上级必须是%(parent_level)s")
                % {
                    "name": region.name,
                    "level": Level(region.level).label,
                    "parent_level": Level(region.level - 1).label,
                },
                code="parent_level",
            )
        return parent

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or self.cleaned_data
        boundary = data.get("boundary")
        if self.errors or boundary is None:
            return data
        if not ({"boundary", "parent"} & set(self.changed_data)) and self.instance.pk:
            return data
        parent = data.get("parent")
        region = self.instance if self.instance.pk else None
        level = self.instance.level if region else (0 if parent is None else parent.level + 1)
        # Shown next to the map; tree.region_* check again under the lock.
        try:
            tree.region_check_nesting(
                region=region, code=data.get("code") or self.instance.code, level=level,
                parent=parent, boundary=boundary,
            )
        except ValidationError as e:
            self.add_error("boundary", e)
        return data


@admin.display(description=gettext_lazy("层级"), ordering="level")
def _level(region: Region) -> str:
    return region.get_level_display()


@admin.display(description=gettext_lazy("名称"))
def _tree_name(region: Region) -> str:
    # django-mptt indents with a style attribute per row, which the CSP forbids: a class
    # per level instead (static/css/admin-region-list.css).
    return format_html(
        '<span class="tree-indent level-{}" aria-hidden="true"></span>{}',
        min(region.level, 5), region.name,
    )


@admin.register(Region)
class RegionAdmin(ScopedForeignKeysMixin, MPTTModelAdmin):
    form = RegionAdminForm
    # Django's own list template, not mptt's (whose rows carry inline styles).
    change_list_template = "admin/grids/region/change_list.html"
    list_display = (_tree_name, "code", "level", "parent")
    list_display_links = (_tree_name,)
    # The list is in tree order (mptt's get_ordering); other orders would break the tree.
    sortable_by = ()
    list_select_related = ("parent",)
    list_filter = ("level",)
    search_fields = ("name", "^code")
    list_per_page = 200
    autocomplete_fields = ("parent",)
    readonly_fields = ("level", "centroid_lng", "centroid_lat", "updated_at")
    fieldsets = (
        (None, {"fields": ("parent", "level", "code", "name")}),
        (
            gettext_lazy("边界"),
            {"fields": ("boundary", ("centroid_lng", "centroid_lat"), "updated_at")},
        ),
    )
    actions = ("export_selected",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Region]:
        qs = regions_visible_to(request.user)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        base = super().get_changelist(request, **kwargs)

        class RegionChangeList(base):  # type: ignore[valid-type,misc]
            def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> Any:
                # Rows show names and codes; polygons can be megabytes each.
                qs = super().get_queryset(request, exclude_parameters)
                return qs.defer("boundary", "parent__boundary")

        return RegionChangeList

    def get_form(
        self, request: HttpRequest, obj: Region | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        # modelform_factory made a fresh class for this request; binding the user is safe.
        form.request_user = request.user  # type: ignore[attr-defined]
        return form

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "parent":
            # A plain choice field: mptt's tree field prefixes labels with dashes, which
            # reads badly in an autocomplete box.
            kwargs.setdefault("form_class", forms.ModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Region], search_term: str
    ) -> tuple[QuerySet[Region], bool]:
        queryset, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        match = request.resolver_match
        if (
            match is not None
            and match.url_name == "autocomplete"
            and request.GET.get("model_name") == "region"
            and request.GET.get("field_name") == "parent"
        ):
            # A grid can never be a parent; do not offer one.
            queryset = queryset.filter(level__lt=Level.GRID)
        if match is not None and match.url_name == "autocomplete":
            queryset = queryset.defer("boundary")
        return queryset, may_have_duplicates

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Bulk delete would bypass grids.tree; delete one node at a time instead.
        actions.pop("delete_selected", None)
        return actions

    def save_model(
        self, request: HttpRequest, obj: Region, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if not change:
            saved = tree.region_create(
                code=data["code"], name=data["name"], parent=data["parent"],
                boundary=data["boundary"],
            )
        else:
            boundary_changed = "boundary" in form.changed_data
            saved = tree.region_update(
                obj,
                name=data["name"],
                code=data["code"],
                boundary=data["boundary"] if boundary_changed else None,
                clear_boundary=boundary_changed and data["boundary"] is None,
            )
            if "parent" in form.changed_data and data["parent"] is not None:
                saved = tree.region_move(saved, new_parent=data["parent"])
        # The admin goes on to log and redirect with ``obj``: give it the saved state.
        for field in Region._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        for warning in getattr(form, "boundary_warnings", []):
            messages.warning(request, warning)

    def delete_model(self, request: HttpRequest, obj: Region) -> None:
        tree.region_delete(obj)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as e:
            # Someone added a child between the confirmation page and the POST.
            for message in e.messages:
                messages.error(request, message)
            return HttpResponseRedirect(
                reverse("admin:grids_region_change", args=[object_id])
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Region]) -> None:
        for region in queryset.order_by("-depth"):
            tree.region_delete(region)

    # --- import / export -------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path("import/", self.admin_site.admin_view(self.import_view),
                 name="grids_region_import"),
            path("export/", self.admin_site.admin_view(self.export_view),
                 name="grids_region_export"),
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        return region_import_view(request, self)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The whole tree the user can see, as a GeoJSON download in import format."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if _is_global(request):
            return self._geojson_download(None)
        return self._geojson_download(list(self.get_queryset(request)))

    @admin.action(description=gettext_lazy("导出所选区划（含下级）为 GeoJSON"),
                  permissions=["view"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Region]) -> HttpResponse:
        return self._geojson_download(list(queryset))

    def _geojson_download(self, regions: list[Region] | None) -> HttpResponse:
        if regions is None:
            collection = export_regions()
        else:
            features: list[dict[str, Any]] = []
            for root in _topmost(regions):
                features += export_regions(root)["features"]
            collection = {"type": "FeatureCollection", "features": features}
        response = HttpResponse(
            dumps_feature_collection(collection), content_type="application/geo+json"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="regions-{stamp}.geojson"'
        return response


def _topmost(regions: list[Region]) -> list[Region]:
    """Drop regions inside another region of the list (their subtree is exported anyway)."""
    ordered = sorted(regions, key=lambda r: (r.tree_id, r.lft))
    roots: list[Region] = []
    for region in ordered:
        last = roots[-1] if roots else None
        if last is not None and last.tree_id == region.tree_id and region.rght <= last.rght:
            continue
        roots.append(region)
    return roots


# --- Buildings, departments ------------------------------------------------------------


class EntranceInline(admin.TabularInline):
    model = Entrance
    extra = 0
    fields = ("number", "name", "lng", "lat")


@admin.register(Building)
class BuildingAdmin(ScopedForeignKeysMixin, admin.ModelAdmin):
    list_display = ("name", "number", "code", "grid")
    list_select_related = ("grid",)
    search_fields = ("name", "^code")
    autocomplete_fields = ("grid",)
    inlines = (EntranceInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Building]:
        return buildings_visible_to(request.user).order_by("grid__code", "number")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would not bump the geo stamp
        return actions

    def save_model(
        self, request: HttpRequest, obj: Building, form: forms.ModelForm, change: bool
    ) -> None:
        # The service checks the grid and tells every process's spatial index.
        services.building_save(building=obj)

    def delete_model(self, request: HttpRequest, obj: Building) -> None:
        services.building_delete(building=obj)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        if formset.model is not Entrance:
            super().save_formset(request, form, formset, change)
            return
        entrances = formset.save(commit=False)
        for entrance in formset.deleted_objects:
            services.entrance_delete(entrance=entrance)
        for entrance in entrances:
            services.entrance_save(entrance=entrance)


@admin.register(Department)
class DepartmentAdmin(ScopedForeignKeysMixin, admin.ModelAdmin):
    list_display = ("name", "code", "region", "is_active")
    list_select_related = ("region",)
    list_filter = ("is_active",)
    search_fields = ("name", "^code")
    autocomplete_fields = ("region",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return departments_visible_to(request.user).order_by("code")

    def save_model(
        self, request: HttpRequest, obj: Department, form: forms.ModelForm, change: bool
    ) -> None:
        services.department_save(department=obj)


# --- Assignments ---------------------------------------------------------------------


class AssignmentForm(forms.ModelForm):
    """Role and target must agree; the messages say how (the database also checks)."""

    request_user: Any = None

    class Meta:
        model = Assignment
        fields = ["user", "role", "region", "department"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        region: Region | None = data.get("region")
        department: Department | None = data.get("department")
        actor = self.request_user
        if actor is not None:
            self._check_grant(actor, data)
        if not role:
            return data
        if role == Role.ADMIN and actor is not None and not actor.is_superuser:
            raise ValidationError(_("只有超级管理员可以分配“管理员”角色"), code="admin_role")
        if role == Role.HANDLER:
            if department is None or region is not None:
                raise ValidationError(
                    _("处置部门岗位必须选择部门，且不选择区划"), code="handler_target"
                )
            return data
        if region is None or department is not None:
            raise ValidationError(_("该岗位必须选择区划，且不选择部门"), code="region_target")
        expected = ROLE_REGION_LEVEL.get(role)
        if expected is not None and region.level != expected:
            raise ValidationError(
                _("%(role)s只能分配到%(level)s，“%(region)s”是%(actual)s")
                % {
                    "role": Role(role).label,
                    "level": Level(expected).label,
                    "region": region.name,
                    "actual": Level(region.level).label,
                },
                code="role_level",
            )
        return data


    def _check_grant(self, actor: Any, data: dict[str, Any]) -> None:
        """Nobody grants themselves a role; scoped staff grant only inside their scope and
        only to users whose every role is inside it (the choices say so too; this holds
        for forged posts)."""
        chosen = data.get("user")
        # Inline on a user's page the user is the parent (unsaved while being added).
        target_id = chosen.pk if chosen is not None else self.instance.user_id
        previous = self.instance.user_id if self.instance.pk is not None else None
        if actor.pk is not None and actor.pk in {target_id, previous}:
            raise ValidationError(
                _("不能为自己分配或修改岗位，请联系上级管理员"), code="self_grant"
            )
        if actor.is_superuser:
            return
        region: Region | None = data.get("region")
        department: Department | None = data.get("department")
        if region is not None and not regions_visible_to(actor).filter(pk=region.pk).exists():
            raise ValidationError(_("所选区划不在您的管辖范围内"), code="region_scope")
        if department is not None and not (
            departments_visible_to(actor).filter(pk=department.pk).exists()
        ):
            raise ValidationError(_("所选部门不在您的管辖范围内"), code="department_scope")
        targets = User.objects.filter(pk__in=[pk for pk in (target_id, previous) if pk])
        if any(not can_manage_user(actor, target) for target in targets):
            raise ValidationError(
                _("该用户还在您的管辖范围以外任职，只能由管辖其全部岗位的管理员分配岗位"),
                code="user_scope",
            )


class AssignmentFormSet(BaseInlineFormSet):
    default_error_messages = {
        "too_few_forms": gettext_lazy(
            "请至少为该用户分配一个岗位，否则保存后您将无法再看到该用户"
        ),
    }


class AssignmentInline(ScopedForeignKeysMixin, admin.TabularInline):
    """A user's roles, on the user page. Only assignments inside the editor's scope."""

    model = Assignment
    form = AssignmentForm
    formset = AssignmentFormSet
    fk_name = "user"
    extra = 0
    fields = ("role", "region", "department")
    autocomplete_fields = ("region", "department")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return assignments_visible_to(request.user).select_related("region", "department")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if self.get_min_num(request, obj):
            kwargs.setdefault("validate_min", True)
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.request_user = request.user  # type: ignore[attr-defined]  # fresh class per call
        return formset

    def _may_edit(self, request: HttpRequest, obj: Any) -> bool:
        # ``obj`` is the user whose page this is: never one's own roles, never a user who
        # also holds roles outside the editor's scope.
        if obj is None:
            return True
        return obj.pk != request.user.pk and can_manage_user(request.user, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and self._may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def get_min_num(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int | None:
        # A user created by scoped staff without a role would vanish from their list.
        if obj is None and not request.user.is_superuser:
            return 1
        return None


@admin.register(Assignment)
class AssignmentAdmin(ScopedForeignKeysMixin, admin.ModelAdmin):
    form = AssignmentForm
    list_display = ("user", "role", "region", "department")
    list_select_related = ("user", "region", "department")
    list_filter = ("role",)
    search_fields = ("user__username", "user__full_name", "region__name", "department__name")
    autocomplete_fields = ("user", "region", "department")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return assignments_visible_to(request.user).order_by("user__username", "role")

    def save_model(
        self, request: HttpRequest, obj: Assignment, form: forms.ModelForm, change: bool
    ) -> None:
        services.assignment_save(assignment=obj)

    def delete_model(self, request: HttpRequest, obj: Assignment) -> None:
        services.assignment_revoke(assignment=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> None:
        for assignment in queryset:
            services.assignment_revoke(assignment=assignment)

    def get_form(
        self, request: HttpRequest, obj: Assignment | None = None, change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user  # type: ignore[attr-defined]
        return form

    def _may_edit(self, request: HttpRequest, obj: Assignment | None) -> bool:
        if obj is None:
            return True
        return obj.user_id != request.user.pk and can_manage_user(request.user, obj.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "user" and "queryset" not in kwargs:
            # Only users one may grant roles to: never a user who also holds a role outside
            # one's scope. Oneself stays listed so the form can say why it refuses.
            kwargs["queryset"] = users_manageable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            # Bulk delete checks no row: it would remove one's own roles or the roles of a
            # user who is only partly in scope. Scoped staff delete one at a time.
            actions.pop("delete_selected", None)
        return actions


# --- Geo stamp: read-only, for superusers diagnosing a stale spatial index -------------


@admin.register(GeoStamp)
class GeoStampAdmin(admin.ModelAdmin):
    list_display = ("key", "version")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
