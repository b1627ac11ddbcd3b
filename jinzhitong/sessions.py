"""Database sessions that let a dropped database connection through as what it is.

Django's database session store turns *any* database error while saving an existing
session into ``UpdateError``, which ``SessionMiddleware`` reports as a 400 "session was
deleted before the request completed". When the database is unreachable the truthful
answer is 503 with ``Retry-After`` (``jinzhitong.errors``), so connection errors pass
through unchanged. Set as ``SESSION_ENGINE = "jinzhitong.sessions"``.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import InterfaceError, OperationalError


class SessionStore(DbSessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create=must_create)
        except UpdateError as exc:
            cause = exc.__context__
            if isinstance(cause, OperationalError | InterfaceError):
                raise cause from None
            raise

