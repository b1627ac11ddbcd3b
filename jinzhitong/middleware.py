"""Request id and fault middleware.

``RequestIdMiddleware`` (first): takes ``X-Request-ID`` from the proxy or makes one, puts
it in every log line of the request (``jinzhitong.requestid``) and in the response.

``FaultMiddleware`` (after sessions and auth): a view that meets a dropped database
connection answers 503 with ``Retry-After``, and one whose photo storage is full or
read-only answers 507 with ``"retry": false`` — not the generic 500 that the phone's
queue would resend forever. Failures outside views reach ``jinzhitong.errors.server_error``.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from jinzhitong import errors, requestid
from reports.errors import StorageUnavailable
from reports.photos import storage_error

logger = logging.getLogger("jinzhitong.faults")

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = requestid.from_header(request.headers.get(HEADER))
        # Not reset on the way out: Django logs "Internal Server Error: …" after the
        # middleware has returned; request_finished clears it (below).
        requestid.request_id.set(rid)
        response = self.get_response(request)
        response[HEADER] = rid
        return response


@receiver(request_finished)
def _forget_request_id(**_: Any) -> None:
    requestid.request_id.set("-")


class FaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, errors.DATABASE_ERRORS):
            logger.error("database unavailable: %s", exc, exc_info=True)
            return errors.database_unavailable(request)
        if isinstance(exc, StorageUnavailable):
            return errors.storage_unavailable(request, exc)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
            refusal = storage_error(exc)
            if refusal is not None:
                logger.error("storage unavailable: %s", exc)
                return errors.storage_unavailable(request, refusal)
        return None
