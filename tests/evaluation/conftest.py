"""A hand-built month of cases (March 2025) for the evaluation tests.

Every case goes through the real workflow functions with the clock set by hand, so the
frozen flags and the timeline are exactly what production writes. The expected figures
are worked out by hand in tests/evaluation/test_rates.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import User
from grids.models import Department
from reports import services, workflow
from reports.models import Report, TimeRequest
from tests.conftest import City
from tests.reports import conftest as reports_fixtures
from tests.reports.conftest import Catalog, jpeg

# The case fixtures of tests/reports, shared with this directory.
catalog = reports_fixtures.catalog
street_department = reports_fixtures.street_department
street_handler = reports_fixtures.street_handler

BEIJING = ZoneInfo("Asia/Shanghai")

Clock = Callable[[str], None]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """``clock("2025-03-03 09:00")`` sets Beijing time for the workflow and the events."""

    def set_to(text: str) -> None:
        at = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)
        monkeypatch.setattr(timezone, "now", lambda: at)

    return set_to


@dataclass
class March:
    """The cases of the scenario, by the letter the hand computation uses."""

    cases: dict[str, list[Report]] = field(default_factory=dict)
    catch_ups: int = 0


def _file(reporter: User, catalog: Catalog, lng: float = 117.175, **kw: object) -> Report:
    return services.report_file(
        reporter=reporter,
        category=catalog.roof_tree,
        standard=catalog.roof_tree_standard,
        description="楼顶有一棵小树",
        idempotency_key=uuid.uuid4().hex,
        lng=lng,
        lat=39.105,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def march(
    clock: Clock,
    city: City,
    catalog: Catalog,
    worker: User,
    neighbour_worker: User,
    street_staff: User,
    district_staff: User,
    handler: User,
    street_department: Department,
    street_handler: User,
) -> Callable[..., March]:
    """Build the month; ``after_each_day`` runs after each day's work (e.g. a catch-up)."""

    def build(after_each_day: Callable[[], None] = lambda: None) -> March:
        m = March()
        staff, dept, hd = street_staff, street_department, street_handler

        def day(text: str) -> None:
            after_each_day()
            clock(text)

        def triage_and_dispatch(r: Report, d: str, accept: str = "09:05") -> Report:
            clock(f"{d} {accept}")
            r = workflow.report_accept(r, actor=staff)
            clock(f"{d} {accept[:3]}{int(accept[3:]) + 5:02d}")
            return workflow.report_dispatch(r, actor=staff, department=dept)

        def handle(r: Report, at: str, who: User = hd) -> Report:
            clock(at)
            if r.state == "dispatched":
                r = workflow.report_acknowledge(r, actor=who)
            return workflow.report_handle(r, actor=who, note="已清除", photos=[jpeg()])

        def verify_close(r: Report, d: str, verify: str, close: str, checker: User = worker,
                         closer: User = staff) -> Report:
            clock(f"{d} {verify}")
            r = workflow.report_verify(r, actor=checker, passed=True)
            clock(f"{d} {close}")
            return workflow.report_close(r, actor=closer)

        # L1: filed in February, closed on 3 March (crosses the period boundary).
        day("2025-02-28 16:00")
        l1 = triage_and_dispatch(_file(worker, catalog), "2025-02-28", accept="16:05")

        # A: ten clean cases, every stage on time.
        day("2025-03-03 09:00")
        a = [_file(worker, catalog) for _ in range(10)]
        a = [triage_and_dispatch(r, "2025-03-03") for r in a]
        l1 = handle(l1, "2025-03-03 10:00")
        m.cases["L1"] = [verify_close(l1, "2025-03-03", "10:05", "10:10")]
        day("2025-03-04 10:00")
        a = [handle(r, "2025-03-04 10:00") for r in a]
        m.cases["A"] = [verify_close(r, "2025-03-04", "10:10", "10:20") for r in a]

        # B: two cases accepted an hour after filing (limit 15 working minutes).
        day("2025-03-05 09:00")
        b = [_file(worker, catalog) for _ in range(2)]
        b = [triage_and_dispatch(r, "2025-03-05", accept="10:00") for r in b]
        b = [handle(r, "2025-03-05 10:30") for r in b]
        m.cases["B"] = [verify_close(r, "2025-03-05", "10:40", "10:50") for r in b]

        # C: dispatched 6 March, due after 3 working days (Tue 11 March 17:30).
        day("2025-03-06 09:00")
        c = triage_and_dispatch(_file(worker, catalog), "2025-03-06")

        # D: a rework — the first check fails, the second passes.
        day("2025-03-07 09:00")
        d = triage_and_dispatch(_file(worker, catalog), "2025-03-07")
        d = handle(d, "2025-03-07 09:30")
        clock("2025-03-07 09:40")
        d = workflow.report_verify(d, actor=worker, passed=False, note="根系还在")
        d = handle(d, "2025-03-07 10:00")
        m.cases["D"] = [verify_close(d, "2025-03-07", "10:10", "10:20")]

        # E: an extension (due 13 March → 18 March).
        day("2025-03-10 09:00")
        e = triage_and_dispatch(_file(worker, catalog), "2025-03-10")
        clock("2025-03-10 09:30")
        e = workflow.report_acknowledge(e, actor=hd)
        req = workflow.report_request_extension(e, actor=hd, reason="需要吊车")
        e = workflow.report_decide_request(e, actor=staff, request=req, grant=True)

        # F: returned by the department, dispatched again, then closed on time.
        day("2025-03-11 09:00")
        f = triage_and_dispatch(_file(worker, catalog), "2025-03-11")
        clock("2025-03-11 09:20")
        f = workflow.report_return(f, actor=hd, reason="不属于本部门")
        clock("2025-03-11 09:25")
        f = workflow.report_dispatch(f, actor=staff, department=dept)
        f = handle(f, "2025-03-11 11:00")
        m.cases["F"] = [verify_close(f, "2025-03-11", "11:10", "11:20")]

        # G: suspended (挂账), then handled and closed: out of the on-time denominators.
        day("2025-03-12 09:00")
        g = triage_and_dispatch(_file(worker, catalog), "2025-03-12")
        clock("2025-03-12 09:30")
        g = workflow.report_acknowledge(g, actor=hd)
        req2: TimeRequest = workflow.report_request_suspension(
            g, actor=hd, reason="等待产权单位", until=timezone.now() + timedelta(days=30)
        )
        clock("2025-03-12 10:00")
        g = workflow.report_decide_request(g, actor=staff, request=req2, grant=True)
        # C is handled late.
        c = handle(c, "2025-03-12 10:00")
        m.cases["C"] = [verify_close(c, "2025-03-12", "10:05", "10:10")]

        day("2025-03-13 09:00")
        g = handle(g, "2025-03-13 09:00")
        m.cases["G"] = [verify_close(g, "2025-03-13", "09:10", "09:20")]
        # H: two self-handled cases (自处).
        clock("2025-03-13 10:00")
        m.cases["H"] = [
            services.report_file_self_handled(
                reporter=worker,
                category=catalog.garbage,
                description="随手清理了垃圾",
                idempotency_key=uuid.uuid4().hex,
                before_photos=[jpeg()],
                after_photos=[jpeg()],
                lng=117.175,
                lat=39.105,
            )
            for _ in range(2)
        ]

        # K: three cases left open at the department; E is handled within its extension.
        day("2025-03-17 09:00")
        k = [triage_and_dispatch(_file(worker, catalog), "2025-03-17") for _ in range(3)]
        e = handle(e, "2025-03-17 10:00")
        m.cases["E"] = [verify_close(e, "2025-03-17", "10:05", "10:10")]
        # I: two rejected; J: one merged into K[1].
        clock("2025-03-17 10:30")
        i = [_file(worker, catalog) for _ in range(2)]
        j = _file(worker, catalog)
        clock("2025-03-17 10:35")
        m.cases["I"] = [workflow.report_reject(r, actor=staff, reason="不属实") for r in i]
        m.cases["J"] = [workflow.report_merge(j, actor=staff, into=k[1])]

        # K[0] is urged; M is transferred up (吹哨) and handled by the district department.
        day("2025-03-18 08:50")
        workflow.report_urge(k[0], actor=staff, note="请尽快处置")
        clock("2025-03-18 09:00")
        mm = _file(worker, catalog)
        clock("2025-03-18 09:05")
        mm = workflow.report_transfer_up(mm, actor=staff)
        clock("2025-03-18 09:10")
        mm = workflow.report_dispatch(mm, actor=district_staff, department=city.department)
        mm = handle(mm, "2025-03-18 11:00", who=handler)
        m.cases["M"] = [verify_close(mm, "2025-03-18", "11:10", "11:20")]

        # N: a clean case in the neighbouring grid.
        day("2025-03-19 09:00")
        n = triage_and_dispatch(_file(neighbour_worker, catalog, lng=117.185), "2025-03-19")
        n = handle(n, "2025-03-19 10:00")
        m.cases["N"] = [verify_close(n, "2025-03-19", "10:10", "10:20", checker=neighbour_worker)]

        # K[2] goes past its handling deadline (Thu 20 March 17:30).
        day("2025-03-28 09:00")
        workflow.report_mark_overdue(k[2])
        m.cases["K"] = k

        # L2: filed and accepted on 31 March, closed on 1 April.
        day("2025-03-31 16:00")
        l2 = _file(worker, catalog)
        clock("2025-03-31 16:05")
        l2 = workflow.report_accept(l2, actor=staff)
        day("2025-04-01 09:00")
        l2 = workflow.report_dispatch(l2, actor=staff, department=dept)
        l2 = handle(l2, "2025-04-01 10:00")
        m.cases["L2"] = [verify_close(l2, "2025-04-01", "10:05", "10:10")]
        after_each_day()
        return m

    return build
