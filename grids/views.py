from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grids import geo, workspaces
from grids.models import LEVEL_SLUGS, Entrance, Role
from grids.selectors import regions_visible_to, scope_for


def _error(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def _coordinate(request: HttpRequest, name: str, low: float, high: float) -> float | None:
    raw = request.GET.get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return value


@require_GET
def locate(request: HttpRequest) -> JsonResponse:
    """GET /api/v1/locate?lng=&lat= → the grid containing the point, its path, the nearest
    building, its entrances (for the filing page's select) and the nearest of them that
    has a position (None when none has)."""
    if not request.user.is_authenticated:
        return _error(401, _("请先登录"))
    lng = _coordinate(request, "lng", -180, 180)
    lat = _coordinate(request, "lat", -90, 90)
    if lng is None or lat is None:
        return _error(400, _("请提供有效的经纬度：lng 为 -180 到 180，lat 为 -90 到 90"))
    index = geo.get_index()
    hit = index.locate(lng, lat)
    if hit is None:
        return _error(404, _("该位置不在任何网格内，请在地图上手动选择位置"))
    grid = regions_visible_to(request.user).filter(pk=hit.id).first()
    if grid is None:
        # Same status as "no grid here": the answer must not reveal grids out of scope.
        return _error(404, _("该位置不在您负责的区域内，请确认位置或联系所在网格中心"))
    path = grid.get_ancestors(include_self=True).values("code", "name", "level")
    building = index.nearest_building(hit.id, lng, lat)
    entrances = (
        []
        if building is None
        else list(
            Entrance.objects.filter(building_id=building.id)
            .order_by("number", "pk")
            .values("id", "number", "name", "lng", "lat")
        )
    )
    nearest = geo.nearest_point(((e["id"], e["lng"], e["lat"]) for e in entrances), lng, lat)
    by_id = {e["id"]: e for e in entrances}
    body: dict[str, Any] = {
        "grid": {"id": hit.id, "code": hit.code, "name": hit.name},
        "path": [
            {"code": r["code"], "name": r["name"], "level": LEVEL_SLUGS[r["level"]]} for r in path
        ],
        "building": None
        if building is None
        else {
            "id": building.id,
            "number": building.number,
            "name": building.name,
            "distance_m": building.distance_m,
        },
        "entrances": [{"id": e["id"], "number": e["number"], "name": e["name"]} for e in entrances],
        "entrance": None
        if nearest is None
        else {
            "id": nearest[0],
            "number": by_id[nearest[0]]["number"],
            "name": by_id[nearest[0]]["name"],
            "distance_m": nearest[1],
        },
    }
    return JsonResponse(body)


@login_required
def no_role(request: HttpRequest) -> HttpResponse:
    """Signed in but assigned nowhere: say so, and who can fix it."""
    scope = scope_for(request.user)
    if scope.roles:
        return redirect(workspaces.workspace_for(scope))
    return render(request, "grids/no_role.html", status=403)


@login_required
def workspace(request: HttpRequest, role: str) -> HttpResponse:
    """/work/<role>/: the user's regions for that role on a map, with a summary."""
    if role not in Role.values:
        raise Http404
    scope = scope_for(request.user)
    if role not in scope.roles:
        ctx = {"role_label": Role(role).label, "role_links": workspaces.role_links(scope, role)}
        return render(request, "grids/forbidden.html", ctx, status=403)
    if role == Role.ADMIN:
        return redirect("admin:index")
    ws = workspaces.build_workspace(request.user, role)
    ctx = {
        "ws": ws,
        "role_links": workspaces.role_links(scope, role),
        "map_label": workspaces.map_label(ws),
        # The role's work pages, without the workspace itself (we are on it).
        "work_links": workspaces.work_links(role)[1:],
    }
    return render(request, "grids/workspace.html", ctx)
