"""Shared fixtures: a small city and the personas of STYLE.md §14.

City 天津市(test) → 南开区 → 万兴街道 → 天大北五村社区 → 第六网格 / 第五网格,
and a second street 新兴街道 (和平区) with its own community and grid.
Grids are 0.01° squares side by side so that points can be placed exactly.

`JZT_TEST_CLOCK="2026-12-12T23:30:00+08:00"` moves Python's wall clock to that instant for
the whole session (every xdist worker, live-server threads; it keeps ticking), so that CI can
prove the suite holds on a Saturday night: a test whose outcome depends on the weekday or
the hour must freeze its own clock.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.utils import translation

from accounts.models import User
from grids import geo
from grids.models import Department, Region, Role
from reports.calendar import reset_calendar_cache
from reports.catalog import reset_rule_table_cache
from tests.factories import DepartmentFactory, UserFactory, assign, make_region, square


@dataclass
class City:
    city: Region
    district: Region
    street: Region
    community: Region
    grid: Region
    neighbour_grid: Region
    other_district: Region
    other_street: Region
    other_community: Region
    other_grid: Region
    department: Department
    other_department: Department


CLOCK_ENV = "JZT_TEST_CLOCK"
_clock: Any = None  # the session's time_machine traveller, when JZT_TEST_CLOCK is set


def clock_from_env(value: str | None) -> datetime | None:
    """The instant `JZT_TEST_CLOCK` names; it must carry its UTC offset (+08:00)."""
    if not value:
        return None
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise pytest.UsageError(f"{CLOCK_ENV}={value!r} needs a UTC offset, e.g. +08:00")
    return at


def pytest_configure(config: pytest.Config) -> None:
    global _clock
    at = clock_from_env(os.environ.get(CLOCK_ENV))
    if at is not None and _clock is None:
        _clock = time_machine.travel(at, tick=True)
        _clock.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _clock
    if _clock is not None:
        _clock.stop()
        _clock = None


def python_on_test_clock(module: str) -> list[str]:
    """The command that runs `python -m <module>` on this session's clock.

    Another process (a Celery worker) would otherwise write its times on the real clock
    beside ours, days apart when JZT_TEST_CLOCK is set; it keeps the same offset instead.
    """
    if _clock is None:
        return [sys.executable, "-m", module]
    offset = time.time() - time_machine.escape_hatch.time.time()
    boot = (
        "import runpy, sys, time, time_machine; "
        f"time_machine.travel(time.time() + {offset!r}, tick=True).start(); "
        "sys.argv = sys.argv[1:]; "
        "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
    )
    return [sys.executable, "-c", boot, module]


def pytest_report_header(config: pytest.Config) -> str | None:
    at = os.environ.get(CLOCK_ENV)
    return f"clock: {CLOCK_ENV}={at} (Python's wall clock starts there)" if at else None


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    cache.clear()  # rate-limit counters (and anything else) never carry between tests
    geo.reset_index()
    reset_calendar_cache()
    reset_rule_table_cache()
    yield
    translation.deactivate()  # a test that switched to English must not leak it


@pytest.fixture
def city(db: None) -> City:
    c = make_region(None, "天津市", "T120000")
    d = make_region(c, "南开区", "T120104")
    s = make_region(d, "万兴街道", "T120104001")
    cm = make_region(s, "天大北五村社区", "T120104001001")
    g6 = make_region(cm, "第六网格", "T120104001001006", square(117.17, 39.10))
    g5 = make_region(cm, "第五网格", "T120104001001005", square(117.18, 39.10))
    d2 = make_region(c, "和平区", "T120101")
    s2 = make_region(d2, "新兴街道", "T120101001")
    cm2 = make_region(s2, "朝阳里社区", "T120101001001")
    g2 = make_region(cm2, "第一网格", "T120101001001001", square(117.19, 39.12))
    dept = DepartmentFactory(name="南开区城管委", region=d)
    other_dept = DepartmentFactory(name="和平区城管委", region=d2)
    return City(c, d, s, cm, g6, g5, d2, s2, cm2, g2, dept, other_dept)


def _persona(username: str, full_name: str) -> User:
    return UserFactory(username=username, full_name=full_name)


@pytest.fixture
def worker(city: City) -> User:
    """张鑫, grid worker of 第六网格."""
    u = _persona("zhangxin", "张鑫")
    assign(u, Role.GRID_WORKER, region=city.grid)
    return u


@pytest.fixture
def neighbour_worker(city: City) -> User:
    """Worker of the neighbouring grid (第五网格): must not see 第六网格's things."""
    u = _persona("neighbour", "李邻")
    assign(u, Role.GRID_WORKER, region=city.neighbour_grid)
    return u


@pytest.fixture
def street_staff(city: City) -> User:
    u = _persona("wanxing", "万兴街道网格中心")
    assign(u, Role.STREET_STAFF, region=city.street)
    return u


@pytest.fixture
def other_street_staff(city: City) -> User:
    """Staff of 新兴街道: should have no access to 万兴街道's stuff."""
    u = _persona("xinxing", "新兴街道网格中心")
    assign(u, Role.STREET_STAFF, region=city.other_street)
    return u


@pytest.fixture
def district_staff(city: City) -> User:
    u = _persona("nankai", "南开区网格中心")
    assign(u, Role.DISTRICT_STAFF, region=city.district)
    return u


@pytest.fixture
def handler(city: City) -> User:
    u = _persona("chengguan", "城管处置员")
    assign(u, Role.HANDLER, department=city.department)
    return u


@pytest.fixture
def leader(city: City) -> User:
    u = _persona("leader", "区领导")
    assign(u, Role.LEADER, region=city.district)
    return u


@pytest.fixture
def outsider(db: None) -> User:
    """Signed in, but assigned nowhere."""
    return _persona("outsider", "无岗位")


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser("admin", "admin@example.com", "pw-123456")
