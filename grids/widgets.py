"""The boundary editor of the region admin: a GeoJSON textarea with a Leaflet map.

The textarea stays the source of truth (keyboard users and administrators can paste
GeoJSON into it); ``static/js/boundary-editor.js`` draws it on a map, lets the admin draw,
edit and delete polygons with Leaflet.draw and writes GeoJSON back. Configuration goes
to the script as a ``json_script`` block, so the page needs no inline JavaScript.

Leaflet and Leaflet.draw are vendored in static/vendor/ (django-leaflet's widgets need GDAL).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

# Leaflet.draw's user-visible strings (merged into L.drawLocal by boundary-editor.js).
DRAW_STRINGS: dict[str, Any] = {
    "draw": {
        "toolbar": {
            "actions": {"title": _("取消绘制"), "text": _("取消")},
            "finish": {"title": _("完成绘制"), "text": _("完成")},
            "undo": {"title": _("删除上一个点"), "text": _("删除上一个点")},
            "buttons": {"polygon": _("绘制多边形"), "rectangle": _("绘制矩形")},
        },
        "handlers": {
            "polygon": {
                "tooltip": {
                    "start": _("点击地图开始绘制边界"),
                    "cont": _("点击继续绘制"),
                    "end": _("点击第一个点闭合边界"),
                }
            },
            "polyline": {"error": _("错误：边界线不能交叉！")},
            "rectangle": {"tooltip": {"start": _("按住并拖动以绘制矩形")}},
            "simpleshape": {"tooltip": {"end": _("松开鼠标完成绘制")}},
        },
    },
    "edit": {
        "toolbar": {
            "actions": {
                "save": {"title": _("保存修改"), "text": _("保存")},
                "cancel": {"title": _("取消编辑，放弃所有修改"), "text": _("取消")},
                "clearAll": {"title": _("清除全部边界"), "text": _("全部清除")},
            },
            "buttons": {
                "edit": _("编辑边界"),
                "editDisabled": _("没有可编辑的边界"),
                "remove": _("删除边界"),
                "removeDisabled": _("没有可删除的边界"),
            },
        },
        "handlers": {
            "edit": {
                "tooltip": {
                    "text": _("拖动顶点以修改边界"),
                    "subtext": _("点击“取消”撤销修改"),
                }
            },
            "remove": {"tooltip": {"text": _("点击要删除的边界")}},
        },
    },
}

MESSAGES: dict[str, Any] = {
    "invalidJson": _("文本框中的内容不是有效的 GeoJSON，地图未更新"),
    "noTiles": _("未配置底图，仅显示边界"),
    "contextLegend": _("灰色：上级与同级区划"),
}


def _resolve(value: Any) -> Any:
    """Force lazy translations so the structure can go through json_script."""
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    return str(value)


def map_config() -> dict[str, Any]:
    """Tile layer and default view from settings; an empty tile URL means no tiles."""
    subdomains = settings.MAP_TILE_SUBDOMAINS
    return {
        "tileUrl": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        # Leaflet takes a string of one-letter subdomains or a list.
        "subdomains": [s.strip() for s in subdomains.split(",") if s.strip()]
        if "," in subdomains
        else subdomains,
        "center": list(settings.MAP_DEFAULT_CENTER),
        "zoom": settings.MAP_DEFAULT_ZOOM,
    }


class BoundaryMapWidget(forms.Textarea):
    """A GeoJSON textarea followed by a map that edits it.

    ``context_features`` (set by the form) are drawn in grey, not editable: the parent's
    and siblings' boundaries, so a new boundary can be drawn against its neighbours.
    """

    template_name = "django/forms/widgets/textarea.html"
    map_template_name = "admin/grids/widgets/boundary_map.html"

    class Media:
        css = {
            "all": (
                "vendor/leaflet-1.9.4/leaflet.css",
                "vendor/leaflet-draw-1.0.4/leaflet.draw.css",
                "css/admin-map.css",
            )
        }
        js = (
            "vendor/leaflet-1.9.4/leaflet.js",
            "vendor/leaflet-draw-1.0.4/leaflet.draw.js",
            "js/boundary-editor.js",
        )

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            attrs={"rows": 6, "cols": 80, "class": "boundary-geojson", "spellcheck": "false"}
            | (attrs or {})
        )
        self.context_features: list[dict[str, Any]] = []

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        attrs = dict(attrs or {})
        widget_id = attrs.get("id") or f"id_{name}"
        attrs["id"] = widget_id
        # The textarea itself comes from Django's form renderer; the map markup from the
        # project's templates (the form renderer does not see the project's template dirs).
        textarea = super().render(name, value, attrs, renderer)
        config = map_config() | {
            "textareaId": widget_id,
            "context": self.context_features,
            "drawLocal": _resolve(DRAW_STRINGS),
            "messages": _resolve(MESSAGES),
        }
        return render_to_string(
            self.map_template_name,
            {
                "textarea": textarea,
                "widget_id": widget_id,
                "map_id": f"{widget_id}_map",
                "config_id": f"{widget_id}_map_config",
                "config": config,
            },
        )
