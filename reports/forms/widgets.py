"""Widgets written out in Python where Django's widget templates cost too much.

Django renders each ``<option>`` of a ``Select`` through two templates (option + attrs);
on the filing page's five selects (categories, standards, grids, buildings, entrances:
several hundred options) that was most of the page's server time (bench/request_cpu.py).
``FastSelect`` produces the same markup from the same ``get_context`` in one pass.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


class FastSelect(forms.Select):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{escape(widget["name"])}"{flatatt(widget["attrs"])}>']
        for group, options, _index in widget["optgroups"]:
            if group:
                out.append(f'<optgroup label="{escape(group)}">')
            out.extend(
                f'<option value="{escape("" if o["value"] is None else o["value"])}"'
                f'{flatatt(o["attrs"])}>{escape(o["label"])}</option>'
                for o in options
            )
            if group:
                out.append("</optgroup>")
        out.append("</select>")
        # Every value and label above went through escape(); flatatt escapes attributes.
        return mark_safe("".join(out))
