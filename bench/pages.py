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
at 10,000 and at 100,000 cases, and the 100k/10k ratio of the p50s (target ≤ 1.3). The
10k database is kept in its own file (a copy made before the second run), and the two
sizes take turns request by request, so load from other jobs on a shared machine falls
on both alike.

The data comes from the case generator (`manage.py generate_cases`, casegen/generator.py)
on a small city part (2 districts, 8 streets, 192 grids): a first run of 10,000 cases over
the past year, then a second run adding 90,000 cases over the nine years before it
(``--before-days 365``), so the city has ten years of history at the same filing rate.
As in a real city, the open workload depends on the filing rate, not on the years behind
it (the generator settles every case over a year old, see ``casegen.generator.open_share``):
the open cases and the rows behind each list are printed at both sizes to show it. The
viewers are generated users: the street staff of the street
with most cases, the handler of the department with most cases; the case page is that
street's case with the longest timeline. Imports inside the functions: Django is set up
by `setup_django()` first.
"""

from __future__ import annotations

import gzip
import io
import math
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import metric, setup_django

SAMPLES = 30

# Part 2's city: one small city part made by the case generator. The first run is a
# year of cases (10,000); the second adds 90,000 over the nine years before it, so the
# growth is history (see the module docstring). On SQLite the generator writes row by
# row (~1,000 cases/s).
TREE = {"districts": 2, "streets": 4, "communities": 6, "grids": 4}
RUNS = ((10_000, 365, 0, 1), (90_000, 9 * 365, 365, 2))  # (count, days, before_days, seed)
OPEN_STATES = ("reported", "accepted", "dispatched", "acknowledged", "handled", "verified")


def _use_database(path: str) -> None:
    """Point the default connection at another SQLite file (reconnects on next query)."""
    from django.db import connections

    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = path


def _take_turns(pages: dict[str, dict[str, tuple[Any, str]]]) -> dict[str, dict[str, list[float]]]:
    """Server time of every page at every size, the sizes and pages taking turns.

    ``pages[size][name] = (client, url)``; the database of each size is its own file.
    Taking turns request by request, a burst of load on the shared machine hits both
    sizes alike, so the ratio compares the sizes rather than two moments."""
    times: dict[str, dict[str, list[float]]] = {size: {} for size in pages}
    for sample in range(-3, SAMPLES):  # three warm-up rounds: caches, template loading
        for size, by_name in pages.items():
            _use_database(DATABASES[size])
            for name, (client, url) in by_name.items():
                t0 = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, (url, response.status_code)
                if sample >= 0:
                    times[size].setdefault(name, []).append(elapsed)
    return times


def _p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[math.ceil(len(ordered) * 0.95) - 1]


DATABASES: dict[str, str] = {}


def _viewers() -> tuple[Any, Any, Any]:
    """A generated street-staff user of the street with most cases, a generated handler of
    the department with most cases, and the street's case with the longest timeline."""
    from django.db.models import Count

    from accounts.models import User
    from grids.models import Assignment, Role
    from reports.models import Report

    street_id = (
        Report.objects.values("street_id").annotate(n=Count("id")).order_by("-n")[0]["street_id"]
    )
    staff = User.objects.get(
        username__startswith="gen_",
        assignments__role=Role.STREET_STAFF,
        assignments__region_id=street_id,
    )
    dept_id = (
        Report.objects.exclude(department=None)
        .values("department_id").annotate(n=Count("id")).order_by("-n")[0]["department_id"]
    )
    handler = Assignment.objects.filter(
        role=Role.HANDLER, department_id=dept_id, user__username__startswith="gen_"
    ).select_related("user").first().user
    case = (
        Report.objects.filter(street_id=street_id)
        .annotate(n=Count("events")).order_by("-n", "pk").first()
    )
    return staff, handler, case


def part2_desk() -> None:
    """Triage, board, inbox and case page at 10k and 100k generated cases."""
    import shutil

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from reports import selectors
    from reports.models import Report, ReportEvent

    staff = handler = case = None
    pages: dict[str, dict[str, tuple[Any, str]]] = {}
    big = settings.DATABASES["default"]["NAME"]
    for count, days, before_days, seed in RUNS:
        t0 = time.perf_counter()
        call_command(
            "generate_cases", count=count, days=days, before_days=before_days, seed=seed,
            stdout=io.StringIO(), **TREE,
        )
        total = Report.objects.count()
        label = f"{round(total / 1000)}k"
        metric(f"generate_seconds_{label}", time.perf_counter() - t0, "s")
        if staff is None:  # the same viewers and case at both sizes
            staff, handler, case = _viewers()
            print(f"  street staff {staff.username}, handler {handler.username}, "
                  f"case {case.number} ({case.events.count()} events)")
        assert case is not None
        street_cases = Report.objects.filter(street_id=case.street_id)
        metric(f"cases_{label}", total, "cases")
        metric(f"events_{label}", ReportEvent.objects.count(), "events")
        metric(f"street_cases_{label}", street_cases.count(), "cases")
        metric(f"street_open_cases_{label}",
               street_cases.filter(state__in=OPEN_STATES).count(), "cases")
        metric(f"dept_open_cases_{label}", Report.objects.filter(
            department__assignments__user=handler, state__in=OPEN_STATES).count(), "cases")
        # Rows behind each list (a page shows at most 50): the working set the page renders.
        metric(f"triage_queue_rows_{label}", selectors.triage_queue(staff).count(), "rows")
        metric(f"board_rows_{label}", selectors.board_cases(staff).count(), "rows")
        metric(f"inbox_rows_{label}", selectors.inbox_cases(handler).count(), "rows")
        center, dept = Client(SERVER_NAME="localhost"), Client(SERVER_NAME="localhost")
        center.force_login(staff)
        dept.force_login(handler)
        pages[label] = {
            "triage": (center, reverse("reports:triage")),
            "board": (center, reverse("reports:board")),
            "inbox": (dept, reverse("reports:inbox")),
            "case_page": (center, reverse("reports:detail", args=[case.pk])),
        }
        if len(pages) < len(RUNS):  # keep this size in its own file; grow the other
            from django.db import connection

            connection.close()
            DATABASES[label] = f"{big}.{label}"
            shutil.copyfile(big, DATABASES[label])
        else:
            DATABASES[label] = big
    times = _take_turns(pages)
    small, large = list(pages)
    for name in pages[small]:
        for size in (small, large):
            p50, p95 = _p50_p95(times[size][name])
            metric(f"{name}_p50_{size}", p50, "ms")
            metric(f"{name}_p95_{size}", p95, "ms")
        ratio = _p50_p95(times[large][name])[0] / _p50_p95(times[small][name])[0]
        metric(f"{name}_p50_ratio_100k_over_10k", ratio, "x")


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
