import time
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from grids.selectors import scope_for
from grids.workspaces import workspace_for
from jinzhitong import heartbeat


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


def _check_storage() -> str:
    """Write and delete a probe file where photos go: a full, read-only or unmounted photo
    disk makes every filing with a photo fail, so this process should take no filings."""
    storage = storages["default"]
    try:
        name = storage.save(f"reports/.healthz-{uuid.uuid4().hex}", ContentFile(b"ok"))
        storage.delete(name)
    except Exception as e:
        return f"error: {type(e).__name__}"
    return "ok"


def _age(name: str, now: float) -> float | None:
    at = heartbeat.last(name)
    return None if at is None else round(max(now - at, 0.0), 1)


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    return timezone.localtime(datetime.fromtimestamp(at, tz=UTC)).isoformat(timespec="seconds")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For a load balancer and the operations team: 200 when this process can serve,
    503 when its database, broker or photo storage fails.

    Also reports, without changing the status, how long ago the Celery worker last ran a
    task (``worker_heartbeat_age_s``; the beat sends it one every 30 s) and when a periodic
    sweep last ran (``beat_last_sweep``): a stopped worker or beat must be alerted on, but
    is no reason to take web processes out of the pool. ``null`` means never seen.
    """
    now = time.time()
    checks: dict[str, Any] = {
        "database": _check_database(),
        "broker": _check_broker(),
        "storage": _check_storage(),
        "worker_heartbeat_age_s": _age(heartbeat.WORKER, now),
        "beat_last_sweep": _iso(heartbeat.last(heartbeat.SWEEP)),
        "beat_last_sweep_age_s": _age(heartbeat.SWEEP, now),
    }
    healthy = (
        checks["database"] == "ok"
        and checks["broker"] in ("ok", "disabled")
        and checks["storage"] == "ok"
    )
    checks["status"] = "ok" if healthy else "error"
    return JsonResponse(checks, status=200 if healthy else 503)
