"""Page weight and server time of the work pages.

Each part runs alone in its own process on its own fresh SQLite file (bench/_common.py);
`main()` runs them all. Prints `metric: value unit` lines.

Part 1 (phone): the filing page (/m/file/) as a grid worker's phone first loads it —
HTML + CSS + JS, each gzip-compressed as the web server sends it (level 6), summed; map
tiles and photos are excluded (tiles depend on the configured tile server, photos are
the worker's). The service worker script is counted: the phone fetches it on first load.
Target: ≤ 300 KB. Prints `filing_page_bytes_gzip: N bytes` and one line per file.

Part 2 (desk): p50/p95 server time of the triage queue, the board, the department inbox
and the case page, through Django's test client (middleware, view, template; no network),
at 10,000 and at 100,000 cases, and the 100k/10k ratio of the p50s (target ≤ 1.3).

The model of growth: a street's working set (new, at departments, waiting to close) stays
about the same while history piles up, so the first 10,000 cases have a realistic mix of
states and the next 90,000 are closed or rejected cases of the past year. Every case has
three timeline events; cases are bulk-inserted (data only, as a case generator would).
"""

from __future__ import annotations

import gzip
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import metric, setup_django

SAMPLES = 30
BATCH = 5000

# The state mix of the first 10,000 cases (the rest of the table is history).
OPEN_MIX = [
    ("reported", 0.02),
    ("accepted", 0.01),
    ("dispatched", 0.02),
    ("acknowledged", 0.03),
    ("handled", 0.01),
    ("verified", 0.01),
    ("closed", 0.85),
    ("rejected", 0.05),
]


def _insert_cases(n: int, start: int, *, history: bool, ctx: dict[str, Any]) -> None:
    from django.utils import timezone

    from reports.models import EventKind, Report, ReportEvent

    rng = random.Random(start)
    now = timezone.now()
    states = [s for s, _ in OPEN_MIX]
    weights = [w for _, w in OPEN_MIX]
    grids = ctx["grids"]
    done = 0
    while done < n:
        rows = []
        for i in range(start + done, start + min(n, done + BATCH)):
            state = (
                rng.choice(["closed", "closed", "closed", "rejected"])
                if history
                else rng.choices(states, weights)[0]
            )
            grid = grids[i % len(grids)]
            at_dept = state in ("dispatched", "acknowledged", "handled", "verified", "closed")
            rows.append(
                Report(
                    number=f"B-{i:08d}",
                    state=state,
                    reporter=ctx["user"],
                    idempotency_key=f"k{i}",
                    grid=grid,
                    community_id=grid.parent_id,
                    street_id=ctx["street_of"][grid.pk],
                    district_id=ctx["district_of"][grid.pk],
                    lng=117.0 + rng.random() * 0.2,
                    lat=39.0 + rng.random() * 0.2,
                    category=ctx["minor"],
                    standard=ctx["standard"],
                    urgency="urgent" if rng.random() < 0.1 else "normal",
                    description=f"测试案件{i}",
                    department=ctx["dept_of"][ctx["street_of"][grid.pk]] if at_dept else None,
                    dispatch_level="street" if at_dept else "",
                    accept_due=now + timedelta(hours=rng.randint(-5, 20)),
                    dispatch_due=now + timedelta(hours=rng.randint(-5, 20)),
                    handle_due=now + timedelta(hours=rng.randint(-24, 100)),
                    verify_due=now + timedelta(hours=rng.randint(-5, 20)),
                    routed_version=1,
                )
            )
        Report.objects.bulk_create(rows)
        created = Report.objects.filter(number__in=[r.number for r in rows]).values_list(
            "pk", flat=True
        )
        back = timedelta(days=rng.randint(30, 365)) if history else timedelta(0)
        ReportEvent.objects.bulk_create(
            ReportEvent(report_id=pk, kind=kind, note="bench")
            for pk in created
            for kind in (EventKind.FILED, EventKind.ROUTE_NONE, EventKind.ACCEPTED)
        )
        if history:
            Report.objects.filter(pk__in=list(created)).update(created_at=now - back)
        done += len(rows)


def _server_times(client: Any, url: str) -> tuple[float, float]:
    client.get(url)  # warm caches
    times = []
    for _ in range(SAMPLES):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def part2_desk() -> None:
    """Triage, board, inbox and case page at 10k and 100k cases."""
    from _tree import build_city
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from grids.models import Assignment, Department, Level, Region, Role
    from reports.models import Category, FilingStandard, Report

    build_city(districts=2, streets=8, communities=32, grids=320)
    streets = list(Region.objects.filter(level=Level.STREET).order_by("code"))
    grids = list(Region.objects.filter(level=Level.GRID))
    by_pk = {r.pk: r for r in Region.objects.all()}
    street_of = {g.pk: by_pk[g.parent_id].parent_id for g in grids}
    district_of = {g.pk: by_pk[street_of[g.pk]].parent_id for g in grids}
    dept_of = {
        s.pk: Department.objects.create(code=f"D{s.pk}", name=f"{s.name}执法队", region=s)
        for s in streets
    }
    major = Category.objects.create(code="01", name="市容环境", kind="event")
    minor = Category.objects.create(code="0101", name="暴露垃圾", kind="event", parent=major)
    standard = FilingStandard.objects.create(
        category=minor, code="0101-1", condition="暴露垃圾", limit_amount=Decimal(2),
        limit_unit="working_days", closing_condition="清理",
    )
    reporter = User.objects.create_user("reporter", password="x")
    staff = User.objects.create_user("staff", password="x")
    handler = User.objects.create_user("handler", password="x")
    Assignment.objects.create(user=staff, role=Role.STREET_STAFF, region=streets[0])
    Assignment.objects.create(user=handler, role=Role.HANDLER, department=dept_of[streets[0].pk])
    ctx = {
        "grids": grids, "street_of": street_of, "district_of": district_of,
        "dept_of": dept_of, "minor": minor, "standard": standard, "user": reporter,
    }
    center, dept = Client(SERVER_NAME="localhost"), Client(SERVER_NAME="localhost")
    center.force_login(staff)
    dept.force_login(handler)

    results: dict[str, dict[int, float]] = {}
    for total, (n, history) in ((10_000, (10_000, False)), (100_000, (90_000, True))):
        _insert_cases(n, Report.objects.count(), history=history, ctx=ctx)
        case = Report.objects.filter(street=streets[0], state="acknowledged").first()
        assert case is not None
        pages = {
            "triage": (center, reverse("reports:triage")),
            "board": (center, reverse("reports:board")),
            "inbox": (dept, reverse("reports:inbox")),
            "case_page": (center, reverse("reports:detail", args=[case.pk])),
        }
        for name, (client, url) in pages.items():
            p50, p95 = _server_times(client, url)
            label = f"{total // 1000}k"
            metric(f"{name}_p50_{label}", p50, "ms")
            metric(f"{name}_p95_{label}", p95, "ms")
            results.setdefault(name, {})[total] = p50
    for name, by_total in results.items():
        metric(f"{name}_p50_ratio_100k_over_10k", by_total[100_000] / by_total[10_000], "x")


TARGET = 300 * 1024


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def part1_filing() -> None:
    """The filing page's weight as a phone first loads it."""
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


PARTS = {"part1": part1_filing, "part2": part2_desk}


def main() -> None:
    if len(sys.argv) > 1:
        setup_django()
        PARTS[sys.argv[1]]()
        return
    # Each part on its own fresh database: the demo city and the bench city differ.
    for name in PARTS:
        subprocess.run([sys.executable, __file__, name], check=True)


if __name__ == "__main__":
    main()
