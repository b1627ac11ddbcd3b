from typing import Any

from django.conf import settings
from django.http import HttpRequest


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
