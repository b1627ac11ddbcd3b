"""Error answers: JSON for JSON clients, the HTML pages for browsers.

JSON clients are the phone's scripts (``Accept: application/json``) and the ``/api/``
and ``*.json`` paths; they get ``{"error": <Chinese message>, "status": <code>}`` so a
script can show the message instead of parsing an HTML page. Browsers get the templates
(``templates/<code>.html``); 500, 503 and 507 are drawn without the database, which may
be the very thing that failed.

A database that cannot be reached (``OperationalError``/``InterfaceError``) is 503 with
``Retry-After``: nothing was saved and the same request will work once it is back.
Storage that cannot take a file is 507 with ``"retry": false``: sending the same photos
again cannot help until an operator frees space, so the phone keeps them and says why.
"""

from __future__ import annotations

import logging
import sys

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import csrf, defaults

from reports.errors import StorageUnavailable

logger = logging.getLogger(__name__)

# Seconds a client should wait before trying again after a database outage.
RETRY_AFTER_SECONDS = 10

DATABASE_ERRORS = (OperationalError, InterfaceError)


def wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return True
    path = request.path
    return path.startswith("/api/") or "/api/" in path or path.endswith(".json")


def _json(status: int, message: str, **extra: object) -> JsonResponse:
    # "errors" in the shape of a refused form, so the filing page lists the message.
    body = {"error": message, "status": status, "errors": {"__all__": [message]}, **extra}
    return JsonResponse(body, status=status)


def _plain_page(template: str, status: int, message: str) -> HttpResponse:
    """A page drawn without the request's context processors, so without the database."""
    body = loader.get_template(template).render({"message": message})
    return HttpResponse(body, status=status)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("系统暂时无法连接数据库，本次操作未保存，请稍后重试。")
    if wants_json(request):
        response: HttpResponse = _json(503, message, retry=True)
    else:
        response = _plain_page("503.html", 503, message)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def storage_unavailable(request: HttpRequest, exc: StorageUnavailable) -> HttpResponse:
    message = str(exc)
    if wants_json(request):
        return _json(507, message, retry=False, reason=exc.reason)
    return _plain_page("507.html", 507, message)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
            return _json(400, _("提交的内容太大，请减少照片或文字后重试。"))
        return _json(400, _("请求无效，请刷新页面后重试。"))
    return defaults.bad_request(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a page left open past its session gets a message, not a
    technical 403; the phone's queue sends again once the worker has logged in again."""
    if wants_json(request):
        return _json(403, _("页面已过期或登录已失效，请重新登录后再提交。"), retry=True)
    return csrf.csrf_failure(request, reason=reason)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        detail = str(exception) if exception and str(exception) else ""
        return _json(403, detail or _("您没有权限执行此操作。"))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return _json(404, _("您要找的页面或案件不存在，或不在您的管辖范围内。"))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: also reached when a middleware (sessions, auth) fails, where no
    ``process_exception`` sees the error; the exception being handled decides."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        return database_unavailable(request)
    if isinstance(exc, StorageUnavailable):
        return storage_unavailable(request, exc)
    if wants_json(request):
        return _json(500, _("服务器出错了，本次操作可能未保存，请稍后重试。"))
    return _plain_page("500.html", 500, "")

