"""The request id: one per request, in every log line and in the ``X-Request-ID`` header.

A leaf module (no Django imports) so the logging configuration can load it early.
Celery tasks put their task id here instead (``jinzhitong.celery``).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")

# What a proxy may hand us: letters, digits and - _ . : up to 64 characters. Anything
# else (a log-injection attempt, a megabyte of header) is replaced by a fresh id.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def from_header(value: str | None) -> str:
    """The proxy's id if it is sane, else a fresh one."""
    if value and _ACCEPTED.fullmatch(value):
        return value
    return uuid.uuid4().hex
