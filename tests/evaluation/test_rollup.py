"""The rollups: rebuilt from events they equal the incremental ones; history is frozen."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from evaluation import rates as r
from evaluation.models import (
    TREND_COUNTERS,
    WORKER_COUNTERS,
    DailyRollup,
    DailyStreetRollup,
    MonthlyCategoryRollup,
    MonthlyGridRollup,
    MonthlyRollup,
    RollupCursor,
    ScoreKind,
    WorkerDailyRollup,
)
from evaluation.rollup import ROLLUP_FIELDS, rollups_catch_up, rollups_rebuild
from evaluation.selectors import EvalScope, period_for, rollups_for, totals
from evaluation.services import weights_in_force, weights_set
from grids.models import Department
from reports import services, workflow
from reports.models import ReportEvent, Stage, StageLimit
from tests.conftest import City
from tests.evaluation.conftest import March
from tests.reports.conftest import Catalog

pytestmark = pytest.mark.django_db

MARCH = period_for("month", date(2025, 3, 1))
EVERYTHING = EvalScope(everything=True)


def _catch_up() -> None:
    rollups_catch_up(settle=timedelta(0))


def _snapshot() -> tuple[list[tuple[object, ...]], ...]:
    """Every rollup table's rows (without ids), sorted."""
    key = ("day", "grid_id", "department_id", "category_id", "source")
    tables: list[tuple[Any, tuple[str, ...]]] = [
        (DailyRollup, (*key, "community_id", "street_id", "district_id", *ROLLUP_FIELDS)),
        (MonthlyRollup, ("day", "street_id", "department_id", "district_id", *ROLLUP_FIELDS)),
        (WorkerDailyRollup, ("day", "user_id", "grid_id", "community_id", "street_id",
                             "district_id", *WORKER_COUNTERS)),
        (DailyStreetRollup, ("day", "street_id", "district_id", *TREND_COUNTERS)),
        (MonthlyCategoryRollup, ("day", "street_id", "district_id", "category_id", "reported")),
        (MonthlyGridRollup, ("day", "grid_id", "community_id", "street_id", "district_id",
                             "reported", "overdue")),
    ]
    return tuple(sorted(m.objects.values_list(*f), key=str) for m, f in tables)


def test_it_rebuilds_from_the_events_exactly_the_incremental_rollups(
    march: Callable[..., March],
) -> None:
    march(after_each_day=_catch_up)  # folded day by day, as the periodic task would
    incremental = _snapshot()

    rollups_rebuild()

    assert _snapshot() == incremental
    assert all(len(rows) >= 2 for rows in incremental)
    assert len(incremental[0]) > 10


def test_it_rebuilds_with_the_management_command(march: Callable[..., March]) -> None:
    march(after_each_day=_catch_up)
    incremental = _snapshot()
    DailyRollup.objects.update(closed=0)  # a damaged table

    call_command("rebuild_rollups", stdout=io.StringIO())

    assert _snapshot() == incremental


def test_it_folds_each_event_once_however_often_the_catch_up_runs(
    march: Callable[..., March],
) -> None:
    march(after_each_day=_catch_up)
    before = _snapshot()

    assert rollups_catch_up(settle=timedelta(0)) == 0
    assert _snapshot() == before
    assert RollupCursor.objects.get().last_event_id == ReportEvent.objects.latest("id").pk


def test_it_waits_for_events_that_may_still_have_earlier_neighbours(
    march: Callable[..., March],
) -> None:
    march()  # no catch-up while the month is built
    # A settle window longer than the events are old: none is safe to fold yet.

    folded = rollups_catch_up(settle=timedelta(days=365 * 100))

    assert folded == 0
    assert not DailyRollup.objects.exists()


def test_it_keeps_a_closed_month_when_limits_and_weights_change_later(
    march: Callable[..., March], city: City
) -> None:
    march(after_each_day=_catch_up)
    weights_set(
        city=city.city, kind=ScoreKind.REGION, valid_from=date(2025, 1, 1),
        weights={"handle_on_time_rate": 50, "close_on_time_rate": 50},
    )
    before = totals(rollups_for(EVERYTHING, MARCH))
    weights = weights_in_force(city.city, ScoreKind.REGION, MARCH.start)
    score_before = r.score(r.rates(before), weights)

    # The accept limit shrinks to one minute and new weights come in force in April.
    StageLimit.objects.filter(stage=Stage.ACCEPT).update(amount=Decimal("0.02"))
    weights_set(
        city=city.city, kind=ScoreKind.REGION, valid_from=date(2025, 4, 1),
        weights={"accept_on_time_rate": 100},
    )
    rollups_rebuild()
    after = totals(rollups_for(EVERYTHING, MARCH))

    assert after == before
    assert weights_in_force(city.city, ScoreKind.REGION, MARCH.start) == weights
    assert r.score(r.rates(after), weights) == score_before == Decimal("83.7")  # (94.7+72.7)/2


def test_it_gives_the_same_month_from_the_monthly_and_the_daily_rollups(
    march: Callable[..., March], city: City
) -> None:
    march(after_each_day=_catch_up)

    monthly = rollups_for(EVERYTHING, MARCH, group="street_id")
    daily = rollups_for(EVERYTHING, MARCH, group="grid_id")

    assert monthly.model is MonthlyRollup and daily.model is DailyRollup
    assert totals(monthly) == totals(daily)
    assert totals(monthly)["closed"] == 20


def test_it_counts_a_report_under_its_category_at_each_step_when_corrected_later(
    march: Callable[..., March], clock: Callable[[str], None], catalog: Catalog,
    worker: User, street_staff: User, street_department: Department,
) -> None:
    march(after_each_day=_catch_up)
    clock("2025-04-02 09:00")
    r = services.report_file(
        reporter=worker, category=catalog.roof_tree, standard=catalog.roof_tree_standard,
        description="楼顶有一棵小树", idempotency_key=uuid.uuid4().hex, lng=117.175, lat=39.105,
    )
    clock("2025-04-02 09:02")
    workflow.report_accept(r, actor=street_staff)
    clock("2025-04-02 09:04")
    r.refresh_from_db()
    workflow.report_recategorize(r, actor=street_staff, category=catalog.garbage,
                                 standard=catalog.garbage_standard)
    clock("2025-04-02 09:06")
    r.refresh_from_db()
    workflow.report_dispatch(r, actor=street_staff, department=street_department)
    _catch_up()
    incremental = _snapshot()
    day = DailyRollup.objects.filter(day=date(2025, 4, 2))

    rollups_rebuild()

    assert _snapshot() == incremental
    # filed and accepted as a roof tree; dispatched after the correction, as garbage.
    assert day.get(category_id=catalog.roof_tree.pk).reported == 1
    assert day.get(category_id=catalog.roof_tree.pk).accepted == 1
    assert day.get(category_id=catalog.garbage.pk).dispatched == 1


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the set-based rebuild runs on PostgreSQL only")
def test_on_postgresql_the_set_based_rebuild_equals_the_fold_on_generated_cases() -> None:
    call_command("generate_cases", "--count", "600", "--days", "40", "--seed", "3",
                 "--districts", "2", "--streets", "2", "--communities", "2", "--grids", "3",
                 stdout=io.StringIO())
    folded = rollups_catch_up(settle=timedelta(0))  # event by event, in Python
    by_fold = _snapshot()

    rebuilt = rollups_rebuild()  # one statement (evaluation.rollup_sql)

    assert rebuilt == folded == ReportEvent.objects.count()
    assert _snapshot() == by_fold
    totals_ = totals(DailyRollup.objects.all())
    for counter in ("reported", "closed", "returns", "reworked", "extended", "suspended",
                    "urged", "overdue", "closed_suspended", "merged", "rejected"):
        assert totals_[counter] > 0, counter  # the generated cases reach every branch
    assert totals_["secs_total"] > 0 and totals_["h_handle_5"] + totals_["h_handle_6"] > 0
