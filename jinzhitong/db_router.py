"""Reads that may come from a PostgreSQL streaming replica, and nothing else.

With ``DATABASE_REPLICA_URL`` set, settings add a ``replica`` database alias. Reads go to
it only inside views marked ``@read_replica`` (statistics, the leader's screen, the board
and the exports): pages that read a lot and write nothing, where a second or two of
replication lag is harmless. Everything else reads the primary, never implicitly the
replica. Inside a marked view the primary still answers:

- every write (``db_for_write`` is always the primary), and every read inside a
  transaction (``atomic`` or ``select_for_update``, which needs one): what a transaction
  reads must be what it locks and writes;
- a person who has just changed something: any POST/PUT/PATCH/DELETE sets a short-lived
  cookie (``PrimaryAfterWriteMiddleware``), and while it lives that browser's reads stay
  on the primary, so the acting user sees their own writes even while the replica lags;
- the session and the user behind the request (read before the view switches over, so a
  login made a moment ago on the primary is never missed).

Migrations run only on the primary (a replica is read-only by construction).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

# Name of the cookie that keeps a browser on the primary after it wrote something.
STICKY_COOKIE = "jzt_primary"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

V = TypeVar("V", bound=Callable[..., HttpResponse])

_replica_reads: ContextVar[bool] = ContextVar("jzt_replica_reads", default=False)


def replica_alias() -> str:
    """The replica's database alias, or "" when none is configured."""
    alias: str = getattr(settings, "REPLICA_DATABASE", "")
    return alias if alias and alias in settings.DATABASES else ""


class ReplicaRouter:
    """Send reads to the replica only while a ``@read_replica`` view runs."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if not _replica_reads.get():
            return None
        alias = replica_alias()
        if not alias or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Both aliases hold the same rows: objects read from either may be related.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def read_replica(view: V) -> V:
    """Let this view's reads come from the replica (GET/HEAD only, see the module)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (
            request.method not in ("GET", "HEAD")
            or not replica_alias()
            or request.COOKIES.get(STICKY_COOKIE)
        ):
            return view(request, *args, **kwargs)
        # The session and the user come from the primary before reads switch over.
        if hasattr(request, "user"):
            request.user.is_authenticated  # noqa: B018 (loads the lazy user now)
        token = _replica_reads.set(True)
        try:
            return view(request, *args, **kwargs)
        finally:
            _replica_reads.reset(token)

    return wrapper  # type: ignore[return-value]


class PrimaryAfterWriteMiddleware:
    """After a request that may have written, keep this browser on the primary for
    ``REPLICA_STICKY_SECONDS`` (longer than the replica's usual lag)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in _SAFE_METHODS and replica_alias():
            response.set_cookie(
                STICKY_COOKIE,
                "1",
                max_age=int(getattr(settings, "REPLICA_STICKY_SECONDS", 30)),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
