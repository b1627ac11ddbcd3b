"""Uploaded files answered only after the view's permission check (photos of cases).

`/media/` is never served as a public folder: every photo and thumbnail link goes through a
view that checks the viewer may see the case, then answers with this response. Behind nginx
(``PHOTO_ACCEL_REDIRECT_PREFIX`` set, e.g. ``/_protected/``) the view only says which file:
an ``X-Accel-Redirect`` header to an ``internal`` nginx location aliased to MEDIA_ROOT, and
nginx sends the bytes (deploy/nginx/jinzhitong.conf). Without it (``make run``, tests, any
server without nginx) the file is streamed by Django.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase

CACHE_CONTROL = "private, max-age=3600"


def protected_file_response(
    field: FieldFile, *, content_type: str | None = None
) -> HttpResponseBase:
    """The file of ``field``, to a viewer the caller has already checked."""
    name = field.name
    if not field or not name:
        raise Http404
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    prefix: str = getattr(settings, "PHOTO_ACCEL_REDIRECT_PREFIX", "")
    response: HttpResponseBase
    if prefix:
        # nginx keeps Content-Type and Cache-Control from this answer and sends the file
        # from its internal location (a missing file is nginx's 404).
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(name.lstrip("/"))
    else:
        try:
            handle = field.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = CACHE_CONTROL
    return response
