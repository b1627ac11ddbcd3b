"""Residents: the situation map, a 10,000-row register import and the due-visit list.

Runs on a fresh SQLite file with the demo city (``load_demo``: 宝翠花都社区 with about 2,000
generated households), then grows the community to about 20,000 households.

Prints: map_queries / map_ms at 2,000 and 20,000 households (street staff, all 28+
buildings); import_rows_per_s for 10,000 rows (preview + confirmed write, in-process);
due_ms at 2,000 and 20,000 households (grid worker of 第一网格) and their ratio.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from datetime import date, timedelta
from io import StringIO

from _common import metric, setup_django


def _median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm caches (templates, the scope query plan)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    setup_django()
    # Imported here, not at the top: Django must be configured (setup_django) first.
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from openpyxl import Workbook

    from accounts.models import User
    from grids import services as grid_services
    from grids.models import Entrance, Region
    from residents import registers
    from residents.demo import fill_entrances
    from residents.identity import check_digit
    from residents.models import Household

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False
    call_command("load_demo", "--quiet-logins", stdout=StringIO())
    community = Region.objects.get(code="120113004013")
    grids = list(community.get_children().order_by("code"))
    street_staff = Client()
    street_staff.force_login(User.objects.get(username="ruijing"))
    worker = Client()
    worker.force_login(User.objects.get(username="wangli"))
    map_url = f"/residents/communities/{community.pk}/map/"

    def measure(label: str) -> float:
        n = Household.objects.filter(grid__parent=community).count()
        with CaptureQueriesContext(connection) as ctx:
            assert street_staff.get(map_url).status_code == 200
        metric(f"map_queries_{label}", len(ctx.captured_queries), f"queries ({n} households)")
        metric(f"map_ms_{label}", _median_ms(lambda: street_staff.get(map_url), 5), "ms")
        due = _median_ms(lambda: worker.get("/residents/due/"), 15)
        metric(f"due_ms_{label}", due, "ms")
        return due

    due_small = measure("2k")

    # A 10,000-row register: one row per person, two people per household.
    building = grid_services.building_upsert(
        grid=grids[0], code="BENCH-B1", number="99", name="99号楼", lng=117.156, lat=39.198
    )
    for u in range(1, 5):
        grid_services.entrance_upsert(building=building, number=str(u), name=f"{u}单元",
                                      lng=None, lat=None)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(registers.COLUMNS)
    for n in range(10_000):
        k = n // 2
        born = date(1940, 1, 1) + timedelta(days=n)
        first = f"130102{born:%Y%m%d}{n % 1000:03d}"  # not the demo's region
        ws.append(["99", str(k % 4 + 1), "", f"{k // 4 // 50 + 1}{k // 4 % 50 + 1:02d}",
                   "户主" if n % 2 == 0 else "配偶", f"居民{n}", "", "",
                   first + check_digit(first), f"139{n:08d}", "在住",
                   "空巢老人" if n % 7 == 0 else "", ""])
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    settings.RESIDENTS_IMPORT_SYNC_ROWS = 10**6  # measure the write itself, in-process
    start, cpu = time.perf_counter(), time.process_time()
    job, checked = registers.import_preview(
        user=User.objects.get(username="wangli"), community=community, filename="bench.xlsx",
        data=data,
    )
    preview_s = time.perf_counter() - start
    assert not checked.errors, checked.errors[:3]
    job = registers.import_start(user=User.objects.get(username="wangli"), job=job)
    total_s = time.perf_counter() - start
    cpu_s = time.process_time() - cpu
    assert job.status == "done", job.status
    metric("import_preview_rows_per_s", 10_000 / preview_s, "rows/s")
    metric("import_rows_per_s", 10_000 / total_s, "rows/s (preview + write, 10000 rows)")
    # This process's CPU time only: what the import costs on a machine not shared with
    # other work (wall-clock figures above include waiting for a busy CPU).
    metric("import_rows_per_cpu_s", 10_000 / cpu_s, "rows/s of CPU time")
    metric("load_average_1min", os.getloadavg()[0], "(2 cores)")
    if os.environ.get("BENCH_RESIDENTS_IMPORT_ONLY"):
        return

    # Grow the community to about 20,000 households: more buildings in the same grids.
    today = date.today()
    seq = 0
    while Household.objects.filter(grid__parent=community).count() < 20_000:
        grid = grids[seq % len(grids)]
        b = grid_services.building_upsert(
            grid=grid, code=f"BENCH-G{seq}", number=str(200 + seq), name=f"{200 + seq}号楼",
            lng=117.155 + (seq % 10) * 0.001, lat=39.198 + (seq // 10) * 0.0002,
        )
        entrances = [
            grid_services.entrance_upsert(building=b, number=str(u), name=f"{u}单元",
                                          lng=None, lat=None)
            for u in range(1, 4)
        ]
        fill_entrances(community, entrances, (11, 3), None, seed=seq, today=today)
        seq += 1
    assert Entrance.objects.filter(building__grid__parent=community).count() > 63
    due_large = measure("20k")
    metric("due_ratio_20k_over_2k", due_large / due_small, "(target <= 1.3)")


if __name__ == "__main__":
    main()
