"""The rollups: rebuilt from events they equal the incremental ones; history is frozen."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from evaluation import rates as r
from evaluation.models import (
    DailyRollup,
    MonthlyRollup,
    RollupCursor,
    ScoreKind,
    WorkerDailyRollup,
)
from evaluation.rollup import ROLLUP_FIELDS, rollups_catch_up, rollups_rebuild
from evaluation.selectors import EvalScope, period_for, rollups_for, totals
from evaluation.services import weights_in_force, weights_set
from reports.models import ReportEvent, Stage, StageLimit
from tests.conftest import City
from tests.evaluation.conftest import March

pytestmark = pytest.mark.django_db

MARCH = period_for("month", date(2025, 3, 1))
EVERYTHING = EvalScope(everything=True)


def _catch_up() -> None:
    rollups_catch_up(settle=timedelta(0))


def _snapshot() -> tuple[list[tuple[object, ...]], ...]:
    key = ("day", "grid_id", "department_id", "category_id", "source")
    rows = sorted(DailyRollup.objects.values_list(*key, *ROLLUP_FIELDS), key=str)
    months = sorted(
        MonthlyRollup.objects.values_list("day", "street_id", "department_id", *ROLLUP_FIELDS),
        key=str,
    )
    workers = sorted(
        WorkerDailyRollup.objects.values_list(
            "day", "user_id", "grid_id", "reported", "triaged", "valid", "self_handled",
            "verified", "verify_on_time",
        ),
        key=str,
    )
    return rows, months, workers


def test_it_rebuilds_from_the_events_exactly_the_incremental_rollups(
    march: Callable[..., March],
) -> None:
    march(after_each_day=_catch_up)  # folded day by day, as the periodic task would
    incremental = _snapshot()

    rollups_rebuild()

    assert _snapshot() == incremental
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
