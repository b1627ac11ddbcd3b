"""Forms of the grid worker's phone pages. Each works as a plain POST; the page's script
only compresses photos, keeps drafts on the phone and posts the same fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from grids.models import Building, Entrance, Region
from reports.forms.text import LimitedTextField
from reports.forms.widgets import FastSelect
from reports.models import Category, FilingStandard, Urgency
from reports.photos import MAX_PHOTOS
from reports.services import MAX_ADDRESS, MAX_DESCRIPTION
from reports.sla import LimitUnit, format_amount


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Up to nine photos from one <input type=file multiple>; the server re-encodes them."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("最多上传 9 张照片"), code="too_many")
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


class EntranceSelect(FastSelect):
    """Each entrance option names its building (``data-building``), so the page's script
    offers only the entrances of the chosen building."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        instance = getattr(option["value"], "instance", None)
        if instance is not None:
            option["attrs"]["data-building"] = str(instance.building_id)
        return option


class _RowsIterator(forms.models.ModelChoiceIterator):
    """Options from plain ``(pk, label)`` rows (``field.option_rows``) rather than model
    instances: the category and standard selects list a whole catalogue on every filing
    page, and building a model per option was most of what they cost."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.field.option_rows(self.queryset)  # type: ignore[attr-defined]


class CategoryChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    iterator = _RowsIterator

    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.parent.name if obj.parent else ''} › {obj.name}"

    def option_rows(self, queryset: QuerySet[Category]) -> Any:
        for pk, major, name in queryset.values_list("pk", "parent__name", "name"):
            yield (pk, f"{major or ''} › {name}")


class StandardChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    iterator = _RowsIterator

    def option_rows(self, queryset: QuerySet[FilingStandard]) -> Any:
        units = dict(LimitUnit.choices)
        rows = queryset.values_list("pk", "condition", "limit_amount", "limit_unit")
        for pk, condition, amount, unit in rows:
            # As FilingStandard.__str__ writes it.
            yield (pk, f"{condition}（{format_amount(amount)}{units.get(unit, unit)}）")


def _minor_categories() -> QuerySet[Category]:
    return (
        Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
        .select_related("parent")
        .order_by("parent__sort", "parent__code", "sort", "code")
    )


class _PlaceForm(forms.Form):
    """Where: a position (GPS or a pin) or, without one, a grid; optionally a building."""

    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    grid = forms.ModelChoiceField(
        label=_("网格"),
        queryset=Region.objects.none(),
        required=False,
        empty_label=_("按位置自动判断"),
        widget=FastSelect,
    )
    building = forms.ModelChoiceField(
        label=_("楼栋"),
        queryset=Building.objects.none(),
        required=False,
        empty_label=_("不指定"),
        widget=FastSelect,
    )
    entrance = forms.ModelChoiceField(
        label=_("单元/楼门"),
        queryset=Entrance.objects.none(),
        required=False,
        empty_label=_("不指定"),
        widget=EntranceSelect,
        error_messages={"invalid_choice": _("请选择您负责网格内的单元")},
    )
    category = CategoryChoiceField(
        label=_("问题类别"),
        queryset=Category.objects.none(),
        empty_label=_("请选择"),
        widget=FastSelect,
        error_messages={"required": _("请选择问题类别"), "invalid_choice": _("请选择问题类别")},
    )
    description = LimitedTextField(
        label=_("问题描述"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写问题描述")},
    )
    address = LimitedTextField(label=_("地址补充"), max_length=MAX_ADDRESS, required=False)

    def __init__(self, *args: Any, grids: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids  # type: ignore[attr-defined]
        self.fields["building"].queryset = Building.objects.filter(  # type: ignore[attr-defined]
            grid__in=grids
        ).order_by("grid_id", "number")
        self.fields["entrance"].queryset = (  # type: ignore[attr-defined]
            Entrance.objects.filter(building__grid__in=grids)
            .select_related("building")
            .order_by("building__grid_id", "building__number", "number")
        )
        self.fields["category"].queryset = _minor_categories()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_point = data.get("lng") is not None and data.get("lat") is not None
        if not has_point and data.get("grid") is None and data.get("building") is None:
            raise forms.ValidationError(_("请定位或在地图上选点，或选择网格"), code="no_place")
        building, entrance = data.get("building"), data.get("entrance")
        if entrance is not None:
            if building is None:
                data["building"] = building = entrance.building
            elif entrance.building_id != building.pk:
                self.add_error("entrance", _("所选单元不属于该楼栋，请重新选择"))
        if building is not None and data.get("grid") is None and not has_point:
            data["grid"] = building.grid
        return data


class FilingForm(_PlaceForm):
    standard = StandardChoiceField(
        label=_("立案条件"),
        queryset=FilingStandard.objects.all(),
        required=False,
        empty_label=_("按类别默认"),
        widget=FastSelect,
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
    )
    photos = MultiplePhotoField(
        label=_("现场照片"), error_messages={"required": _("请至少拍摄或选择一张现场照片")}
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        standard, category = data.get("standard"), data.get("category")
        if standard is not None and category is not None and standard.category_id != category.pk:
            self.add_error("standard", _("立案条件与所选类别不符"))
        return data


class SelfHandledForm(_PlaceForm):
    before_photos = MultiplePhotoField(
        label=_("处置前照片"), error_messages={"required": _("请上传处置前照片")}
    )
    after_photos = MultiplePhotoField(
        label=_("处置后照片"), error_messages={"required": _("请上传处置后照片")}
    )


class VerifyForm(forms.Form):
    PASS, FAIL = "pass", "fail"
    result = forms.ChoiceField(
        label=_("核查结果"),
        choices=[(PASS, _("通过")), (FAIL, _("不通过（返工）"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择核查结果")},
    )
    note = LimitedTextField(
        label=_("核查说明"),
        max_length=MAX_DESCRIPTION,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    photos = MultiplePhotoField(label=_("核查照片"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("result") == self.FAIL:
            if not (data.get("note") or "").strip():
                self.add_error("note", _("核查不通过时请说明问题"))
            if not data.get("photos"):
                self.add_error("photos", _("核查不通过时请上传现场照片"))
        return data


class SightingForm(forms.Form):
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    note = LimitedTextField(
        label=_("补充说明"),
        max_length=MAX_DESCRIPTION,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    photos = MultiplePhotoField(label=_("照片"), required=False)


class NearbyQuery(forms.Form):
    category = forms.ModelChoiceField(queryset=Category.objects.none())
    lng = forms.FloatField(min_value=-180, max_value=180)
    lat = forms.FloatField(min_value=-90, max_value=90)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _minor_categories()  # type: ignore[attr-defined]
