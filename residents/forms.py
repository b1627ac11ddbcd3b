"""Forms of the residents pages: shape and type checks only; rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models import Category
from residents.models import CareLevel, Presence, Relation, Tag, VisitKind


def _date() -> forms.DateInput:
    # <input type="date"> needs ISO dates whatever the locale's display format.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PurposeForm(forms.Form):
    purpose = forms.CharField(label=_("查看目的"), max_length=200, min_length=2,
                              widget=forms.TextInput(attrs={"placeholder": _("如：核实低保申请")}))


class OverrideForm(forms.Form):
    level = forms.ModelChoiceField(label=_("关注等级"), queryset=CareLevel.objects.all(),
                                   empty_label=None)
    reason = forms.CharField(label=_("调整原因"), max_length=200)
    until = forms.DateField(label=_("有效期至"), widget=_date())


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("走访日期"), initial=timezone.localdate,
                                 widget=_date())
    kind = forms.ChoiceField(label=_("走访方式"), choices=VisitKind.choices,
                             widget=forms.RadioSelect, initial=VisitKind.HOME)
    situation = forms.CharField(label=_("情况"), required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 3}))
    needs = forms.CharField(label=_("发现的需求"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.ImageField(label=_("照片"), required=False)
    next_suggested_on = forms.DateField(label=_("建议下次走访"), required=False,
                                        widget=_date())
    wish = forms.CharField(label=_("微心愿（可选）"), required=False, max_length=100)

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and photo.size > settings.REPORT_PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("照片过大"))
        return photo


class CaseForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("案件类别"), queryset=Category.objects.filter(is_active=True,
                                                              parent__isnull=False),
    )


class WishClaimForm(forms.Form):
    claimed_by = forms.CharField(label=_("认领人"), max_length=64)


class TagsForm(forms.Form):
    """One checkbox per typed tag, and a grade for graded tags."""

    def __init__(self, *args: Any, tags: list[Tag], current: dict[int, int | None],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tag_list = tags
        for tag in tags:
            self.fields[f"tag_{tag.pk}"] = forms.BooleanField(
                label=tag.name, required=False, initial=tag.pk in current
            )
            if tag.graded:
                self.fields[f"grade_{tag.pk}"] = forms.TypedChoiceField(
                    label=_("%(tag)s等级") % {"tag": tag.name}, required=False, coerce=int,
                    empty_value=None, choices=[("", "—")] + [(g, f"{g}级") for g in range(1, 5)],
                    initial=current.get(tag.pk),
                )

    def chosen(self) -> dict[Tag, int | None]:
        return {
            t: (self.cleaned_data.get(f"grade_{t.pk}") if t.graded else None)
            for t in self.tag_list if self.cleaned_data.get(f"tag_{t.pk}")
        }


class UploadForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None, empty_label=None)
    file = forms.FileField(label=_("台账文件（.xlsx）"))

    def __init__(self, *args: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities  # type: ignore[attr-defined]


class ExportForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None, empty_label=None)
    purpose = forms.CharField(label=_("导出目的"), max_length=200, min_length=2)

    def __init__(self, *args: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities  # type: ignore[attr-defined]


class SearchForm(forms.Form):
    id_number = forms.CharField(label=_("身份证号"), max_length=18, min_length=18)


class MemberForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=32)
    relation = forms.ChoiceField(label=_("与户主关系"), choices=Relation.choices)
    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=16, required=False)
    presence = forms.ChoiceField(label=_("居住状态"), choices=Presence.choices)
    moved_in_on = forms.DateField(label=_("迁入日期"), required=False, widget=_date())


class EraseForm(forms.Form):
    confirm = forms.BooleanField(label=_("确认删除此人的个人信息（不可恢复）"))
