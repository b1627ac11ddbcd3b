"""The query of a statistics page: period, place and breakdown, validated with Chinese
messages; a bad value falls back to the default and says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluation.selectors import (
    DRILL_METRICS,
    EvalScope,
    Period,
    get_department_for_scope,
    get_region_for_scope,
    period_for,
    top_regions,
)
from evaluation.tables import BY_CHOICES, Filters
from reports.models import Category, Source

PERIOD_CHOICES = [
    ("day", _("日")),
    ("week", _("周")),
    ("month", _("月")),
    ("quarter", _("季度")),
    ("year", _("年")),
    ("range", _("自定义")),
]


@dataclass
class Query:
    period: Period
    by: str
    filters: Filters
    top: Any
    rate: str = ""


class StatsForm(forms.Form):
    # The page opens on the month (query() falls back to it): the select says so.
    period = forms.ChoiceField(
        label=_("周期"), choices=PERIOD_CHOICES, required=False, initial="month"
    )
    date = forms.DateField(label=_("日期"), required=False)
    end = forms.DateField(label=_("至"), required=False)
    by = forms.ChoiceField(label=_("分组"), choices=list(BY_CHOICES.items()), required=False)
    region = forms.IntegerField(required=False, widget=forms.HiddenInput)
    department = forms.IntegerField(required=False, widget=forms.HiddenInput)
    category = forms.IntegerField(required=False, widget=forms.HiddenInput)
    source = forms.ChoiceField(
        label=_("来源"), choices=[("", _("全部来源")), *Source.choices], required=False
    )

    def __init__(self, data: Any, *, scope: EvalScope) -> None:
        super().__init__(data)
        self.scope = scope
        self.fields["by"].choices = [(k, v) for k, v in BY_CHOICES.items() if self._allows(k)]

    def _allows(self, by: str) -> bool:
        if by == "worker":
            return self.scope.sees_regions or self.scope.worker_id is not None
        if by in ("region", "street"):
            return self.scope.sees_regions
        return self.scope.sees_regions or bool(self.scope.departments)

    def query(self) -> Query:
        """The validated query (defaults where a value was missing or wrong); 404 for a
        region or department out of the viewer's scope."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        today = timezone.localdate()
        kind = data.get("period") or "month"
        anchor: date = data.get("date") or today
        try:
            period = period_for(kind, anchor, data.get("end") or anchor)
        except ValueError as e:
            self.add_error("end", str(e))
            period = period_for("month", today)
        allowed = [k for k, _label in self.fields["by"].choices]
        by = data.get("by") or ""
        if by not in allowed:
            by = allowed[0] if allowed else "worker"
        filters = Filters(source=data.get("source") or "")
        if data.get("region") is not None:
            filters.region = get_region_for_scope(self.scope, data["region"])
        if data.get("department") is not None:
            filters.department = get_department_for_scope(self.scope, data["department"])
        if data.get("category") is not None:
            filters.category = Category.objects.filter(pk=data["category"]).first()
            if filters.category is None:
                raise Http404(_("类别不存在"))
        tops = top_regions(self.scope)
        top = filters.region or (tops[0] if tops else None)
        return Query(period, by, filters, top)


class DrillForm(StatsForm):
    metric = forms.ChoiceField(choices=[(k, k) for k in DRILL_METRICS])
