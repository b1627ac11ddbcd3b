"""Permission names in the reader's language.

Django stores each model's built-in permissions with an English name made at migrate time
("Can add 区划"), which no catalogue translates. The admin's permission pickers show
instead the app, the model and the action, each translated: "网格与区划 | 区划 | 可以添加".
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth.models import Permission
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ACTIONS = {
    "add": gettext_lazy("可以添加"),
    "change": gettext_lazy("可以修改"),
    "delete": gettext_lazy("可以删除"),
    "view": gettext_lazy("可以查看"),
}


def permission_label(permission: Permission) -> str:
    """"app | model | action" for a built-in permission; a declared one keeps its name."""
    ct = permission.content_type
    model = ct.model_class()
    model_name = str(model._meta.verbose_name) if model is not None else ct.model
    try:
        app_name = str(apps.get_app_config(ct.app_label).verbose_name)
    except LookupError:
        app_name = ct.app_label
    action, _sep, rest = permission.codename.partition("_")
    if action in ACTIONS and rest == ct.model:
        what = str(ACTIONS[action])
    else:
        what = _(permission.name)
    return f"{app_name} | {model_name} | {what}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return permission_label(obj)
