"""A real Celery worker (with beat) against a Redis of the test's own.

file → routed → dispatched; and: stop the broker, file 50 reports, start it again —
all 50 are routed exactly once. Needs PostgreSQL (the worker is another process and must
see the test's database) and a redis-server binary; CI has both.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import User
from grids.models import Department
from jinzhitong.celery import app as celery_app
from jinzhitong.celery import use_broker
from reports.models import EventKind, Report, RoutingRule, State
from tests.conftest import City, python_on_test_clock
from tests.reports.conftest import Catalog, file_report

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the worker process must share the test database: PostgreSQL only (CI)",
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]

ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """A throw-away redis-server that the test can stop and start."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
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
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = Broker(_free_port())
    b.start()
    yield b
    b.stop()


@pytest.fixture
def worker_process(broker: Broker) -> Iterator[subprocess.Popen[bytes]]:
    url = f"redis://127.0.0.1:{broker.port}/0"
    db = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "jinzhitong.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": url,
        "ROUTING_SWEEP_SECONDS": "1",
        "OVERDUE_SWEEP_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
    }
    tmp = tempfile.mkdtemp(prefix="jzt-beat-")
    proc = subprocess.Popen(
        [
            # On the test's clock: events it writes sort among ours by time.
            *python_on_test_clock("celery"),
            "-A",
            "jinzhitong",
            "worker",
            "--beat",
            "--pool=solo",
            "--loglevel=WARNING",
            f"--schedule={tmp}/beat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # This process publishes to the same broker instead of running tasks eagerly.
    old_url, old_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    use_broker(url)
    yield proc
    use_broker(old_url, eager=old_eager)
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def auto_rule(city: City, catalog: Catalog, street_department: Department) -> RoutingRule:
    return RoutingRule.objects.create(
        category=catalog.garbage,
        region=city.street,
        department=street_department,
        level="street",
        mode="auto",
        priority=0,
    )


def test_it_routes_and_dispatches_a_filed_report_through_a_real_worker(
    worker_process: subprocess.Popen[bytes],
    auto_rule: RoutingRule,
    worker: User,
    city: City,
    catalog: Catalog,
) -> None:
    report = file_report(worker, city, catalog.garbage, description="路边垃圾堆放")
    _wait_for(lambda: Report.objects.get(pk=report.pk).state == State.DISPATCHED, 30, "dispatch")
    report.refresh_from_db()
    assert report.department_id == auto_rule.department_id
    kinds = list(report.events.values_list("kind", flat=True))
    assert kinds == [EventKind.FILED, EventKind.ROUTED, EventKind.ACCEPTED, EventKind.DISPATCHED]
    assert f"规则#{auto_rule.pk}" in report.events.get(kind=EventKind.ROUTED).note


def test_it_routes_every_report_filed_while_the_broker_was_down_exactly_once(
    worker_process: subprocess.Popen[bytes],
    broker: Broker,
    auto_rule: RoutingRule,
    worker: User,
    city: City,
    catalog: Catalog,
) -> None:
    broker.stop()
    started = time.monotonic()
    reports = [file_report(worker, city, catalog.garbage) for _ in range(50)]
    filing_s = time.monotonic() - started
    assert Report.objects.filter(routed_version=0).count() == 50  # stored, not routed
    broker.start()
    back = time.monotonic()

    def all_routed() -> bool:
        return not Report.objects.filter(routed_version__lt=1).exists()

    _wait_for(all_routed, 60, "all 50 routed after the broker came back")
    routed_within = time.monotonic() - back
    ids = [r.pk for r in reports]
    for report_id in ids:
        report = Report.objects.get(pk=report_id)
        assert report.state == State.DISPATCHED
        assert report.events.filter(kind=EventKind.ROUTED).count() == 1
        assert report.events.filter(kind=EventKind.DISPATCHED).count() == 1
    # Filing must not hang on a dead broker; routing catches up within a minute.
    assert filing_s < 30 and routed_within < 60
