"""Every rate of March 2025, computed by hand from the scenario in conftest.py.

The month (cases by letter):
  L1 filed 28 Feb, closed 3 Mar · A ×10 clean · B ×2 accepted late · C handled late
  D rework · E extension · F returned and dispatched again · G suspended (挂账)
  H ×2 self-handled · I ×2 rejected · J merged at triage · K ×3 open (one urged, one
  overdue) · M transferred up, district department · N neighbouring grid, clean
  L2 filed and accepted 31 Mar, closed 1 Apr.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from evaluation import rates as r
from evaluation.rollup import rollups_catch_up
from evaluation.selectors import EvalScope, period_for, rollups_for, totals
from tests.conftest import City
from tests.evaluation.conftest import March

pytestmark = pytest.mark.django_db

MARCH = period_for("month", date(2025, 3, 1))
EVERYTHING = EvalScope(everything=True)


def _catch_up() -> None:
    rollups_catch_up(settle=timedelta(0))


@pytest.fixture
def month(march: Callable[..., March]) -> March:
    return march(after_each_day=_catch_up)


def test_it_counts_each_case_once_at_the_event_that_decides_it(month: March) -> None:
    t = totals(rollups_for(EVERYTHING, MARCH))

    # Filed in March: A10 B2 C D E F G H2 I2 J K3 M N L2 = 28 (L1 was filed in February).
    assert t["reported"] == 28
    # Triage decided: 23 立案 (A10 B2 C D E F G K3 M N L2) + 2 rejected + 1 merged + 2 自处.
    assert (t["triaged"], t["accepted"], t["rejected"], t["merged"]) == (28, 23, 2, 1)
    assert (t["valid"], t["self_handled"]) == (25, 2)
    # Late accepts: B ×2.
    assert t["accept_on_time"] == 21
    # First dispatches in March: A10 B2 C D E F G K3 M N = 22 (L1 in Feb, L2 in April);
    # F's second dispatch is a second dispatch event, not a second case.
    assert (t["dispatched"], t["dispatch_events"], t["returns"]) == (22, 23, 1)
    # First "handled" reports in March: L1 A10 B2 C D E F G M N = 20 (D's redo is not).
    assert t["handled"] == 20
    # Closed in March: L1 A10 B2 C D E F G M N = 20, of which G was suspended.
    assert (t["closed"], t["closed_suspended"], t["suspended"]) == (20, 1, 1)
    # On time among the 19 not suspended: all but B ×2 (accept) and C (handle).
    assert t["closed_on_time"] == 16
    assert (t["dispatch_on_time"], t["handle_on_time"], t["verify_on_time"]) == (19, 18, 19)
    assert (t["reworked"], t["extended"]) == (1, 1)
    assert (t["urged"], t["overdue"]) == (1, 1)


def test_it_computes_every_rate_by_its_formula(month: March) -> None:
    values = r.rates(totals(rollups_for(EVERYTHING, MARCH)))

    assert values == {
        "valid_rate": Decimal("89.3"),  # 25 / 28
        "accept_rate": Decimal("88.5"),  # 23 / (28 − 2)
        "accept_on_time_rate": Decimal("91.3"),  # 21 / 23
        "dispatch_on_time_rate": Decimal("100.0"),  # 19 / (20 − 1)
        "handle_rate": Decimal("95.2"),  # 20 / (22 − 1)
        "handle_on_time_rate": Decimal("94.7"),  # 18 / 19
        "verify_on_time_rate": Decimal("100.0"),  # 19 / 19
        "close_rate": Decimal("90.9"),  # 20 / (23 − 1 − 0)
        "close_on_time_rate": Decimal("72.7"),  # 16 / 22
        "rework_rate": Decimal("5.0"),  # 1 / 20
        "extension_rate": Decimal("5.0"),  # 1 / 20
        "return_rate": Decimal("4.3"),  # 1 / 23
        "self_handled_rate": Decimal("7.1"),  # 2 / 28
    }


def test_it_leaves_the_suspended_case_out_of_the_on_time_denominators(month: March) -> None:
    t = totals(rollups_for(EVERYTHING, MARCH))

    # G is closed but counted neither above nor below the line of 按期处置率.
    assert r.RATES_BY_KEY["handle_on_time_rate"].denominator(t) == 19
    assert r.RATES_BY_KEY["close_rate"].denominator(t) == 22


def test_it_puts_a_case_crossing_the_month_end_in_both_months(month: March) -> None:
    april = totals(rollups_for(EVERYTHING, period_for("month", date(2025, 4, 1))))
    february = totals(rollups_for(EVERYTHING, period_for("month", date(2025, 2, 1))))

    assert (february["reported"], february["accepted"], february["dispatched"]) == (1, 1, 1)
    assert february["closed"] == 0
    assert (april["reported"], april["accepted"], april["dispatched"], april["closed"]) == (
        0, 0, 1, 1,
    )


def test_it_measures_stage_times_in_working_hours(month: March) -> None:
    t = totals(rollups_for(EVERYTHING, period_for("day", date(2025, 3, 4))))

    # The ten A cases closed on 4 March: filed 09:00, accepted 09:05 (5 working minutes),
    # dispatched 09:10, handled next day 10:00 (2h50 + 4h + 1h30 = 8h20), closed 10:20.
    assert r.average_hours(t, "accept") == Decimal("0.08")
    assert r.average_hours(t, "handle") == Decimal("8.33")
    assert r.average_hours(t, "total") == Decimal("8.83")
    assert r.median_hours(t, "accept") is not None
    assert r.median_hours(t, "handle") == Decimal("12.00")  # the 8–16 h bucket's middle


def test_it_splits_figures_by_department(month: March, city: City) -> None:
    district_dept = totals(rollups_for(EVERYTHING, MARCH, department=city.department))

    # Only M went to the district department.
    assert (district_dept["dispatched"], district_dept["handled"], district_dept["closed"]) == (
        1, 1, 1,
    )
    assert district_dept["accepted"] == 0  # triage belongs to the center, not a department
