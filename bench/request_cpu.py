"""CPU time per request of the pages that carry a city's load, as production renders them.

Django runs with DEBUG=0 (templates without debug positions, the cached template loader
Django turns on by itself when ``loaders`` is not set) on a fresh SQLite file, and each
request goes through the test client (middleware, view, template; no network). The figure
is ``time.process_time()`` of this process around the request, the CPU a web worker
spends on it (waits for the database or disk excluded). Static files are served by the
plain storage (no manifest to collect); that changes no page's cost.

Part 1 (demo city, ``load_demo``): the grid worker 张鑫's filing page (GET) and a filing
(POST with one 1600×1200 photo, as the phone sends it after resizing it, idempotency key,
``Accept: application/json`` as the phone's queue posts it; routing in-process).
Part 2 (generated city, ``generate_cases``, ~60 cases waiting): the street staff's
triage queue at 50 rows, the board, and the department inbox.

Prints `<page>_cpu_p50: X ms`, `<page>_cpu_p95: X ms` and `triage_html_bytes: N bytes`.
Targets (issue 14): filing page GET ≤ 25 ms, triage at 50 rows ≤ 60 ms.

    .venv/bin/python bench/request_cpu.py            # both parts
    .venv/bin/python bench/request_cpu.py part2 --profile   # cProfile of one page
"""

from __future__ import annotations

import io
import math
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

SAMPLES = 40
WARMUP = 5


def _setup() -> None:
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "0123456789abcdefghij" * 3)
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("RESIDENTS_KEYS", "ZGV2LW9ubHktcmVzaWRlbnRzLWtleS0wMTIzNDU2Nzg=")
    os.environ.setdefault("RESIDENTS_HMAC_KEY", "bench-only-residents-hmac-key")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import ROOT

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    from _common import setup_django

    setup_django()
    import tempfile

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="jzt-bench-media-")
    # Routing and thumbnails run in the Celery worker in production, not in the web
    # request: queue them (in memory) instead of running them in-process.
    from jinzhitong.celery import app

    app.conf.task_always_eager = False
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)


def _metric(name: str, value: float, unit: str) -> None:
    from _common import metric

    metric(name, value, unit)


def _cpu(name: str, call: Callable[[int], Any], samples: int = SAMPLES) -> None:
    """p50/p95 of CPU milliseconds of ``call(i)`` (warm-up calls not counted)."""
    times = []
    for i in range(-WARMUP, samples):
        t0 = time.process_time()
        call(i)
        elapsed = (time.process_time() - t0) * 1000
        if i >= 0:
            times.append(elapsed)
    ordered = sorted(times)
    _metric(f"{name}_cpu_p50", statistics.median(ordered), "ms")
    _metric(f"{name}_cpu_p95", ordered[math.ceil(len(ordered) * 0.95) - 1], "ms")


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1600, 1200), (90, 120, 90))
    draw = ImageDraw.Draw(img)
    for i in range(0, 1600, 40):
        draw.line([(i, 0), (1600 - i, 1200)], fill=(i % 255, 80, 160), width=3)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def part1_filing(profile: bool = False) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from reports.models import Category
    from reports.selectors import filing_grids

    call_command("load_demo", "--quiet-logins", stdout=io.StringIO())
    worker = User.objects.get(username="zhangxin")
    client = Client()
    client.force_login(worker)
    url = reverse("reports:file")
    grid = filing_grids(worker).first()
    assert grid is not None and grid.boundary
    from shapely.geometry import shape

    point = shape(grid.boundary).representative_point()
    category = Category.objects.filter(parent__isnull=False, is_active=True).first()
    assert category is not None
    photo = _photo()

    def get(_: int) -> None:
        _ok(client.get(url))

    def post(_: int) -> None:
        data = {
            "idempotency_key": uuid.uuid4().hex,
            "grid": grid.pk, "lng": f"{point.x:.6f}", "lat": f"{point.y:.6f}",
            "category": category.pk, "urgency": "normal", "description": "路边垃圾堆放，影响通行",
            "photos": [SimpleUploadedFile("p.jpg", photo, "image/jpeg")],
        }
        _ok(client.post(url, data, headers={"accept": "application/json"}), 201)

    if profile:
        _profile(lambda: get(0))
        return
    _metric("filing_page_html_bytes", len(_ok(client.get(url)).content), "bytes")
    _cpu("filing_page_get", get)
    _cpu("filing_post", post, samples=20)


def part2_desk(profile: bool = False) -> None:
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from reports import selectors

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from pages import _viewers

    call_command(
        "generate_cases", count=3000, days=90, seed=1, stdout=io.StringIO(),
        districts=1, streets=2, communities=4, grids=4,
    )
    staff, handler, _case = _viewers()
    rows = min(50, selectors.triage_queue(staff).count())
    center, dept = Client(), Client()
    center.force_login(staff)
    dept.force_login(handler)
    triage, board, inbox = reverse("reports:triage"), reverse("reports:board"), reverse(
        "reports:inbox")
    if profile:
        _profile(lambda: _ok(center.get(triage)))
        return
    _metric("triage_rows", rows, "rows")
    _metric("triage_html_bytes", len(_ok(center.get(triage)).content), "bytes")
    _cpu("triage", lambda _: _ok(center.get(triage)))
    _cpu("board", lambda _: _ok(center.get(board)))
    _cpu("inbox", lambda _: _ok(dept.get(inbox)))


def _profile(call: Callable[[], Any]) -> None:
    import cProfile
    import pstats

    for _ in range(3):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


PARTS = {"part1": part1_filing, "part2": part2_desk}


def main() -> None:
    if len(sys.argv) > 1:
        _setup()
        PARTS[sys.argv[1]](profile="--profile" in sys.argv)
        return
    for name in PARTS:  # each part in its own process on its own fresh database
        subprocess.run([sys.executable, __file__, name], check=True)


if __name__ == "__main__":
    main()
