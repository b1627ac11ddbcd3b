from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from grids.models import Role
from grids.selectors import scope_for
from grids.workspaces import WORKSPACE_ORDER, work_links
from reports.selectors import unread_count


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "MAP_CONFIG": {
            "tileUrl": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "subdomains": settings.MAP_TILE_SUBDOMAINS,
            "center": list(settings.MAP_DEFAULT_CENTER),
            "zoom": settings.MAP_DEFAULT_ZOOM,
        }
    }


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The role-aware navigation and the bell, computed only if a template uses them."""
    return {"nav": SimpleLazyObject(lambda: _navigation(request))}


def _navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"groups": [], "unread": 0, "bell": False}
    scope = scope_for(user)
    path = request.path
    groups = [
        {
            "label": str(Role(role).label),
            "links": [
                {"url": url, "label": label, "current": path == url}
                for url, label in work_links(role)
            ],
        }
        for role in WORKSPACE_ORDER
        if role in scope.roles
    ]
    # The bell concerns people whom notices are sent to: centers, departments, the grid
    # workers and heads told that a handled case waits for their check or was closed, and
    # leaders (urges and escalations addressed to them).
    bell = bool(
        scope.departments
        or scope.regions_for(
            Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.GRID_WORKER, Role.GRID_HEAD,
            Role.LEADER,
        )
    )
    return {"groups": groups, "unread": unread_count(user) if bell else 0, "bell": bell}
