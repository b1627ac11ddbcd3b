"""Admin of the score weights (考核权重). Only a global administrator sets a city's weights;
a row already in force is read-only, so a past period keeps its score."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluation.models import ScoreWeights
from evaluation.services import rate_table_for, weights_clean, weights_set


class ScoreWeightsForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ScoreWeights
        fields = ["city", "kind", "valid_from", "weights", "note"]
        help_texts = {
            "weights": _(
                '如 {"handle_on_time_rate": 40, "close_on_time_rate": 30, ...}，'
                "各项之和为 100；指标代码见 docs/evaluation.md"
            )
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, weights = data.get("kind"), data.get("weights")
        if kind and weights is not None:
            try:
                data["weights"] = weights_clean(kind, weights)
            except ValidationError as e:
                self.add_error("weights", e)
        return data


@admin.register(ScoreWeights)
class ScoreWeightsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ScoreWeightsForm
    list_display = ["city", "kind", "valid_from", "weights_text", "note", "updated_at"]
    list_filter = ["kind"]

    @admin.display(description=_("权重"))
    def weights_text(self, obj: ScoreWeights) -> str:
        table = rate_table_for(obj.kind)
        return "，".join(
            f"{table[k].label if k in table else k} {v}%" for k, v in obj.weights.items()
        )

    def _in_force(self, obj: ScoreWeights | None) -> bool:
        return obj is not None and obj.valid_from <= timezone.localdate()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if self._in_force(obj):
            return ["city", "kind", "valid_from", "weights"]
        return []

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and not self._in_force(obj)

    def save_model(self, request: HttpRequest, obj: ScoreWeights, form: Any, change: bool) -> None:
        # A row in force keeps its read-only fields, so only its note can change here.
        saved = weights_set(
            city=obj.city, kind=obj.kind, valid_from=obj.valid_from, weights=obj.weights,
            note=obj.note,
        )
        obj.pk = saved.pk
