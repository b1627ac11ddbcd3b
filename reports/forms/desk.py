"""Forms of the desk pages: one small form per workflow action, and the board's filters.

Each action form's ``cleaned_data`` maps straight onto the keyword arguments of the
matching ``reports.workflow.report_<action>`` function (see ``reports.views.case``)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Department, Level, Region
from reports.forms.text import LimitedTextField
from reports.models import OPEN_STATES, Category, Report, State, Urgency
from reports.selectors import near_deadline_q, overdue_q

REJECT_REASONS = [
    ("", _("请选择")),
    (_("不属于受理范围"), _("不属于受理范围")),
    (_("重复上报"), _("重复上报")),
    (_("信息不全，无法核实"), _("信息不全，无法核实")),
    (_("现场核实问题不存在"), _("现场核实问题不存在")),
    (_("其他"), _("其他")),
]


def _note(label: Any = None, *, required: bool = False) -> forms.CharField:
    return LimitedTextField(
        label=label or _("备注"),
        required=required,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写%(what)s") % {"what": label or _("备注")}},
    )


class NoteForm(forms.Form):
    """accept, transfer_up, acknowledge, close: an optional note."""

    note = _note()


class ReasonForm(forms.Form):
    """send_down, return, request_extension: a reason is required."""

    reason = _note(_("理由"), required=True)


class UrgeForm(forms.Form):
    note = _note(_("督办意见"), required=True)


class RejectForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("不予立案理由"),
        choices=REJECT_REASONS,
        error_messages={"required": _("请选择不予立案的理由")},
    )
    detail = _note(_("补充说明"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice, detail = data.get("choice", ""), (data.get("detail") or "").strip()
        if choice == str(_("其他")) and not detail:
            raise forms.ValidationError(_("选择“其他”时请填写补充说明"))
        data["reason"] = f"{choice}：{detail}" if detail else choice
        return data


class DispatchForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("处置部门"),
        queryset=Department.objects.none(),
        empty_label=_("请选择处置部门"),
        error_messages={
            "required": _("请选择处置部门"),
            "invalid_choice": _("请选择本中心可派遣的处置部门"),
        },
    )
    note = _note()

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any) -> None:
        initial_dept = kwargs.pop("proposed", None)
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        # Choices from the list already loaded: rendering makes no query.
        field.choices = [("", field.empty_label), *((d.pk, d.name) for d in departments)]
        if initial_dept is not None:
            self.initial.setdefault("department", initial_dept.pk)


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(
        label=_("合并到案件"),
        queryset=Report.objects.none(),
        empty_label=_("请选择附近的案件"),
        error_messages={
            "required": _("请选择要合并到的案件"),
            "invalid_choice": _("只能合并到附近未办结的案件"),
        },
    )
    note = _note()

    def __init__(self, *args: Any, candidates: QuerySet[Report], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["into"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Report.objects.filter(pk__in=[r.pk for r in candidates])
        field.choices = [
            ("", field.empty_label),
            *((r.pk, f"{r.number} {r.category.name} {r.description[:20]}") for r in candidates),
        ]


class RecategorizeForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("正确类别"),
        queryset=Category.objects.filter(parent__isnull=False, is_active=True).select_related(
            "parent"
        ),
        empty_label=_("请选择小类"),
        error_messages={"required": _("请选择正确的类别"), "invalid_choice": _("类别无效")},
    )
    note = _note()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class HandleForm(forms.Form):
    note = _note(_("处置结果"), required=True)
    photos = MultipleImageField(
        label=_("处置结果照片"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )


class VerifyForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("核查结果"),
        choices=[("1", _("已解决，核查通过")), ("0", _("未解决，返工"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择核查结果")},
    )
    note = _note()
    photos = MultipleImageField(
        label=_("核查照片"), required=False, widget=MultipleFileInput(attrs={"accept": "image/*"})
    )


class SuspensionForm(forms.Form):
    reason = _note(_("挂账理由"), required=True)
    until = forms.DateField(
        label=_("挂账至"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("请选择挂账截止日期"), "invalid": _("日期格式不正确")},
    )

    def clean_until(self) -> datetime:
        day = self.cleaned_data["until"]
        return timezone.make_aware(datetime.combine(day, time(23, 59)))


class DecideForm(forms.Form):
    grant = forms.TypedChoiceField(
        label=_("审批结果"),
        choices=[("1", _("批准")), ("0", _("驳回"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择批准或驳回")},
    )
    note = _note(_("审批意见"))


# -- board filters ------------------------------------------------------------------------

DEADLINE_CHOICES = [("overdue", _("已超期")), ("near", _("临近时限（24小时内）"))]


ALL_STATES = "all"


class BoardFilter(django_filters.FilterSet):
    """The board's filters; every choice list is read within the viewer's scope."""

    q = django_filters.CharFilter(label=_("关键词"), method="filter_text")
    # With no state chosen the board shows the open cases; closed, rejected and merged
    # ones are found by their state, or all together with "all".
    state = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=[(ALL_STATES, _("全部状态")), *State.choices],
        empty_label=_("未结案件"),
        method="filter_state",
    )
    category = django_filters.ModelChoiceFilter(
        label=_("大类"),
        queryset=Category.objects.filter(parent__isnull=True, is_active=True),
        method="filter_category",
        empty_label=_("全部类别"),
    )
    department = django_filters.ModelChoiceFilter(
        label=_("处置部门"), queryset=Department.objects.none(), empty_label=_("全部部门")
    )
    grid = django_filters.ModelChoiceFilter(
        label=_("网格"), queryset=Region.objects.none(), empty_label=_("全部网格")
    )
    urgency = django_filters.ChoiceFilter(
        label=_("紧急程度"), choices=Urgency.choices, empty_label=_("全部")
    )
    deadline = django_filters.ChoiceFilter(
        label=_("时限"), choices=DEADLINE_CHOICES, method="filter_deadline", empty_label=_("全部")
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("上报日期"),
        field_name="created_at",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = Report
        fields: list[str] = []

    def __init__(
        self,
        data: Any,
        queryset: QuerySet[Report],
        *,
        departments: QuerySet[Department],
        regions: QuerySet[Region],
        now: datetime,
    ) -> None:
        super().__init__(data, queryset=queryset)
        self.now = now
        self.filters["department"].queryset = departments.filter(is_active=True).order_by("code")
        self.filters["grid"].queryset = regions.filter(level=Level.GRID).order_by("code")
        start, end = self.form.fields["created"].widget.widgets
        start.attrs["aria-label"] = _("上报日期起")
        end.attrs["aria-label"] = _("上报日期止")

    def filter_queryset(self, queryset: QuerySet[Report]) -> QuerySet[Report]:
        qs = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("state"):
            qs = qs.filter(state__in=OPEN_STATES)
        return qs

    def filter_state(self, qs: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        return qs if value == ALL_STATES else qs.filter(state=value)

    def filter_text(self, qs: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(number=value) | Q(description__icontains=value) | Q(address__icontains=value)
        )

    def filter_category(
        self, qs: QuerySet[Report], name: str, value: Category | None
    ) -> QuerySet[Report]:
        if value is None:
            return qs
        return qs.filter(Q(category=value) | Q(category__parent=value))

    def filter_deadline(self, qs: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        if value == "overdue":
            return qs.filter(overdue_q(self.now))
        if value == "near":
            return qs.filter(near_deadline_q(self.now))
        return qs


class _FiledBetween(django_filters.FilterSet):
    """A history list: by the date the cases were filed (two labelled date inputs)."""

    created = django_filters.DateFromToRangeFilter(
        label=_("上报日期"),
        field_name="created_at",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = Report
        fields: list[str] = []

    def __init__(self, data: Any, queryset: QuerySet[Report]) -> None:
        super().__init__(data, queryset=queryset)
        self.form.order_fields(["state"])  # the subclass's state first, then the dates
        start, end = self.form.fields["created"].widget.widgets
        start.attrs["aria-label"] = _("上报日期起")
        end.attrs["aria-label"] = _("上报日期止")


class DoneFilter(_FiledBetween):
    """已办: the department's handled cases by state and by the date they were filed."""

    state = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=[(s.value, s.label) for s in (State.HANDLED, State.VERIFIED, State.CLOSED)],
        empty_label=_("全部"),
    )

    class Meta(_FiledBetween.Meta):
        fields: list[str] = []


class MineFilter(_FiledBetween):
    """我的上报: the worker's own cases, by state and by the date they were filed."""

    state = django_filters.ChoiceFilter(
        label=_("状态"), choices=State.choices, empty_label=_("全部状态")
    )

    class Meta(_FiledBetween.Meta):
        fields: list[str] = []
