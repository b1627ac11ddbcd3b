"""Filing throughput through the service, and filing → routed latency through a real worker.

Runs on a fresh SQLite file. The latency part starts its own redis-server on a free port
and a Celery worker (with beat) against the same SQLite file; without redis-server it
prints only the in-process figures.

Prints: filed_per_s (report_file, routing deferred), filed_and_routed_per_s (routing
in-process), and p50_ms / p95_ms / max_ms from commit to "routed and dispatched" in the
worker.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from unittest import mock

from _common import ROOT, metric, setup_django

N_FILE = 300
N_LATENCY = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    setup_django()
    from _tree import build_city
    from django.conf import settings
    from django.db import connection

    from accounts.models import User
    from grids.models import Department, Level, Region
    from reports import services
    from reports.models import Category, FilingStandard, Report, RoutingRule, State

    build_city(districts=2, streets=4, communities=8, grids=80)
    street = Region.objects.filter(level=Level.STREET).first()
    grids = list(
        Region.objects.filter(
            level=Level.GRID, tree_id=street.tree_id, lft__gt=street.lft, rght__lt=street.rght
        )
    )
    dept = Department.objects.create(code="D1", name="街道执法队", region=street)
    major = Category.objects.create(code="01", name="市容环境", kind="event")
    minor = Category.objects.create(code="0101", name="暴露垃圾", kind="event", parent=major)
    FilingStandard.objects.create(
        category=minor,
        code="0101-1",
        condition="暴露垃圾",
        limit_amount=Decimal(2),
        limit_unit="working_hours",
        closing_condition="清理",
    )
    RoutingRule.objects.create(
        category=minor, region=street, department=dept, level="street", mode="auto"
    )
    user = User.objects.create_superuser("bench", "b@example.org", "x")

    def file_one() -> Report:
        grid = grids[0]
        return services.report_file(
            reporter=user,
            category=minor,
            description="垃圾",
            idempotency_key=uuid.uuid4().hex,
            grid=grid,
        )

    with mock.patch("reports.effects.route_on_commit"):
        t0 = time.perf_counter()
        for _ in range(N_FILE):
            file_one()
        metric("filed_per_s", N_FILE / (time.perf_counter() - t0), "reports/s")

    t0 = time.perf_counter()
    for _ in range(N_FILE):
        file_one()
    metric("filed_and_routed_per_s", N_FILE / (time.perf_counter() - t0), "reports/s")
    assert Report.objects.filter(state=State.DISPATCHED).count() == N_FILE

    if shutil.which("redis-server") is None:
        print("# redis-server not installed: worker latency not measured", flush=True)
        return
    port = _free_port()
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    tmp = tempfile.mkdtemp(prefix="jzt-bench-beat-")
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
        "REDIS_URL": url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "jinzhitong.settings",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "jinzhitong",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from jinzhitong.celery import use_broker

    use_broker(url)
    connection.close()
    try:
        time.sleep(3)  # worker start-up
        latencies = []
        for _ in range(N_LATENCY):
            t_commit = time.perf_counter()
            report = file_one()
            while True:
                state = Report.objects.filter(pk=report.pk).values_list("state", flat=True)[0]
                if state == State.DISPATCHED:
                    break
                if time.perf_counter() - t_commit > 30:
                    raise SystemExit("worker did not route within 30 s")
                time.sleep(0.002)
            latencies.append((time.perf_counter() - t_commit) * 1000)
        latencies.sort()
        metric("p50_ms", statistics.median(latencies), "ms")
        metric("p95_ms", latencies[int(len(latencies) * 0.95) - 1], "ms")
        metric("max_ms", latencies[-1], "ms")
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        redis.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
