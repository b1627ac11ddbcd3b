"""A text field whose length the server checks and says, instead of the browser cutting.

Django's ``CharField(max_length=…)`` renders ``maxlength`` on the input, and a browser
silently truncates pasted text at it: a 100,000-character description was saved as its
first 2,000 characters and nobody was told. ``LimitedTextField`` renders no ``maxlength``
and refuses a longer text with a Chinese message naming the limit and the length; the
services and the workflow check the same limits (``reports.workflow.check_text``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _


class LimitedTextField(forms.CharField):
    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # no max_length: no maxlength attribute, no validator
        self.limit = max_length

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and len(value) > self.limit:
            raise forms.ValidationError(
                _("%(what)s最多 %(limit)s 字，现有 %(n)s 字，请删减后再提交")
                % {"what": self.label or _("内容"), "limit": self.limit, "n": len(value)},
                code="max_length",
            )
