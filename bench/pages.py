"""Page weight. Part 1: the filing page (/m/file/) as a grid worker's phone first loads it.

HTML + CSS + JS, each gzip-compressed as the web server sends it (level 6), summed; map
tiles and photos are excluded (tiles depend on the configured tile server, photos are
the worker's). The service worker script is counted: the phone fetches it on first load.
Target: ≤ 300 KB.

Prints `filing_page_bytes_gzip: N bytes` and one line per file.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from _common import metric, setup_django

TARGET = 300 * 1024


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    call_command("load_demo", "--quiet-logins", stdout=None)
    client = Client()
    client.force_login(User.objects.get(username="zhangxin"))
    response = client.get("/m/file/")
    assert response.status_code == 200, response.status_code
    html = response.content
    parts: list[tuple[str, int]] = [("html /m/file/", gz(html))]
    text = html.decode()
    urls = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    urls += re.findall(r'<script src="([^"]+)"', text)
    for url in urls:
        path = finders.find(url.removeprefix(settings.STATIC_URL))
        assert path, url
        parts.append((url, gz(Path(str(path)).read_bytes())))
    parts.append(("/sw.js", gz(client.get("/sw.js").content)))
    total = sum(n for _, n in parts)
    for name, n in parts:
        print(f"  {n:>8} B  {name}")
    metric("filing_page_bytes_gzip", total, "bytes")
    print(f"  target ≤ {TARGET} bytes: {'ok' if total <= TARGET else 'OVER'}")


if __name__ == "__main__":
    main()
