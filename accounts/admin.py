"""Django admin for users, with their assignments (roles) inline.

Superusers see every user. Other staff see themselves and the users assigned inside
their scope (never a superuser), and cannot grant admin-site powers: the superuser,
staff, group and permission fields are read-only for them. They may change a user (any
field, the password included) only when every one of that user's assignments lies
inside their scope (``grids.selectors.can_manage_user``); a user who also holds a role
elsewhere is read-only to them (403 on a change or password POST).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import PermissionChoiceField
from grids import services as grid_services
from grids.admin import AssignmentInline
from grids.models import Assignment
from grids.selectors import can_manage_user, users_visible_to

# Fields that would let scoped staff widen their own (or anyone's) powers.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


class AccountCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "phone")


class AccountChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


def _permissions_in_words(db_field: Any, kwargs: dict[str, Any]) -> None:
    """Permission pickers show translated labels (accounts.permissions), not "Can add …"."""
    if db_field.name in ("permissions", "user_permissions"):
        kwargs["form_class"] = PermissionChoiceField


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest | None = None, **kwargs: Any
    ) -> Any:
        _permissions_in_words(db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    inlines = (AssignmentInline,)
    list_display = ("username", "full_name", "phone", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "assignments__role")
    search_fields = ("username", "full_name", "phone")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("full_name", "phone", "email")}),
        (
            _("权限"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username", "full_name", "phone", "usable_password", "password1", "password2"
                ),
            },
        ),
    )

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        _permissions_in_words(db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return users_visible_to(request.user).order_by(*self.get_ordering(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Also guards the password page (admin/accounts/user/<id>/password/).
        if obj is not None and not can_manage_user(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (
            obj.pk == request.user.pk or not can_manage_user(request.user, obj)
        ):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("delete_selected", None)  # it would not check each user's scope
        return actions

    def get_list_filter(self, request: HttpRequest) -> Any:
        if request.user.is_superuser:
            return self.list_filter
        return ("is_active", "assignments__role")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return (*readonly, *PRIVILEGE_FIELDS, "last_login", "date_joined")

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        """Roles granted or taken away on the user page go through the same services as
        the assignment admin and the demo loader."""
        if formset.model is not Assignment:
            super().save_formset(request, form, formset, change)
            return
        assignments = formset.save(commit=False)
        for assignment in formset.deleted_objects:
            grid_services.assignment_revoke(assignment=assignment)
        for assignment in assignments:
            grid_services.assignment_save(assignment=assignment)
