from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from grids.selectors import scope_for
from grids.workspaces import workspace_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the workspace of their main role."""
    return redirect(workspace_for(scope_for(request.user)))


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as e:  # any failure means "down" to a load balancer
        return f"error: {type(e).__name__}"
    return "ok"


def _check_broker() -> str:
    if not settings.REDIS_URL:
        return "disabled"
    try:
        # Imported here on purpose: only a deployment with REDIS_URL needs the client.
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except Exception as e:
        return f"error: {type(e).__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability for a load balancer: 200 when usable, else 503."""
    checks: dict[str, Any] = {"database": _check_database(), "broker": _check_broker()}
    healthy = checks["database"] == "ok" and checks["broker"] in ("ok", "disabled")
    checks["status"] = "ok" if healthy else "error"
    return JsonResponse(checks, status=200 if healthy else 503)
