"""Time-limit arithmetic on a calendar built from plain data (no database).

The calendar below holds 2025's National Day as the State Council published it:
1–8 October off, Sunday 28 September and Saturday 11 October worked (调休).
Office hours 08:30–12:00 and 13:30–17:30. Dates in March 2025 are an ordinary month.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from reports.sla import (
    CALENDAR_TZ,
    MAX_EXTENSIONS,
    Amount,
    LimitUnit,
    SlaState,
    WorkCalendar,
    deadline,
    deadline_after_pause,
    elapsed,
    extend,
    sla_state,
    time_left,
    validate_periods,
)

NATIONAL_DAY_2025 = {
    date(2025, 9, 28): True,
    **{date(2025, 10, d): False for d in range(1, 9)},
    date(2025, 10, 11): True,
}
CAL = WorkCalendar(overrides=NATIONAL_DAY_2025, known_years=[2025, 2026])


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CALENDAR_TZ)


# -- working days ---------------------------------------------------------------------


def test_it_ends_working_days_at_close_of_business_across_a_weekend() -> None:
    # Friday: the filing day is not counted; Mon is day 1, Tue day 2.
    due = deadline(at(2025, 3, 7, 10), 2, LimitUnit.WORKING_DAYS, calendar=CAL)
    assert due == at(2025, 3, 11, 17, 30)


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        (at(2025, 3, 3, 7, 0), at(2025, 3, 4, 17, 30)),  # Monday before hours
        (at(2025, 3, 3, 16, 0), at(2025, 3, 4, 17, 30)),  # Monday during hours
        (at(2025, 3, 3, 23, 59), at(2025, 3, 4, 17, 30)),  # Monday night
        (at(2025, 3, 8, 10, 0), at(2025, 3, 10, 17, 30)),  # Saturday → Monday
    ],
)
def test_it_never_counts_the_filing_day(filed: datetime, due: datetime) -> None:
    assert deadline(filed, 1, LimitUnit.WORKING_DAYS, calendar=CAL) == due


def test_it_skips_national_day_and_counts_the_make_up_saturday() -> None:
    # Tue 30 Sep: 1–8 Oct off; Thu 9 = 1, Fri 10 = 2, Sat 11 (调休) = 3.
    due = deadline(at(2025, 9, 30, 10), 3, LimitUnit.WORKING_DAYS, calendar=CAL)
    assert due == at(2025, 10, 11, 17, 30)


def test_it_counts_the_make_up_sunday_before_national_day() -> None:
    due = deadline(at(2025, 9, 26, 10), 1, LimitUnit.WORKING_DAYS, calendar=CAL)
    assert due == at(2025, 9, 28, 17, 30)


def test_it_accepts_integral_decimals_for_days() -> None:
    due = deadline(at(2025, 3, 7, 10), Decimal("2"), LimitUnit.WORKING_DAYS, calendar=CAL)
    assert due == at(2025, 3, 11, 17, 30)


# -- working hours --------------------------------------------------------------------


def test_it_counts_working_hours_across_a_weekend() -> None:
    due = deadline(at(2025, 3, 7, 16, 30), 2, LimitUnit.WORKING_HOURS, calendar=CAL)
    assert due == at(2025, 3, 10, 9, 30)


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        (at(2025, 3, 3, 7, 0), at(2025, 3, 3, 9, 30)),  # before hours: from 08:30
        (at(2025, 3, 3, 12, 30), at(2025, 3, 3, 14, 30)),  # lunch: from 13:30
        (at(2025, 3, 3, 17, 30), at(2025, 3, 4, 9, 30)),  # at closing: next morning
        (at(2025, 3, 8, 10, 0), at(2025, 3, 10, 9, 30)),  # Saturday: Monday morning
        (at(2025, 3, 3, 11, 30), at(2025, 3, 3, 14, 0)),  # runs over the lunch break
    ],
)
def test_it_starts_working_hours_at_the_next_working_minute(filed: datetime, due: datetime) -> None:
    assert deadline(filed, 1, LimitUnit.WORKING_HOURS, calendar=CAL) == due


def test_it_ends_working_hours_at_the_end_of_a_period_not_the_next_start() -> None:
    due = deadline(at(2025, 3, 3, 8, 30), Decimal("3.5"), LimitUnit.WORKING_HOURS, calendar=CAL)
    assert due == at(2025, 3, 3, 12, 0)


def test_it_counts_a_make_up_saturday_as_working_hours() -> None:
    # Fri 10 Oct 17:00: half an hour left that day, then Saturday 11 Oct is a working day.
    due = deadline(at(2025, 10, 10, 17), 2, LimitUnit.WORKING_HOURS, calendar=CAL)
    assert due == at(2025, 10, 11, 10, 0)


def test_it_lists_the_working_periods_of_a_make_up_day_and_none_of_a_holiday() -> None:
    assert CAL.working_intervals(date(2025, 10, 11)) == [
        (at(2025, 10, 11, 8, 30), at(2025, 10, 11, 12)),
        (at(2025, 10, 11, 13, 30), at(2025, 10, 11, 17, 30)),
    ]
    assert CAL.working_intervals(date(2025, 10, 3)) == []


@pytest.mark.parametrize("start", [at(2025, 9, 26, 11), at(2025, 9, 30, 17, 45), at(2025, 3, 8)])
@pytest.mark.parametrize("hours", [Decimal("0.25"), 1, 4, 20, 200])
def test_it_adds_exactly_the_working_time_it_measures(start: datetime, hours: Amount) -> None:
    due = deadline(start, hours, LimitUnit.WORKING_HOURS, calendar=CAL)
    measured = elapsed(start, due, LimitUnit.WORKING_HOURS, calendar=CAL)
    assert measured == timedelta(hours=float(hours))


# -- continuous units -----------------------------------------------------------------


def test_it_runs_urgent_hours_through_the_night() -> None:
    due = deadline(at(2025, 3, 7, 22), 2, LimitUnit.URGENT_HOURS, calendar=CAL)
    assert due == at(2025, 3, 8, 0, 0)


def test_it_runs_urgent_hours_through_a_holiday() -> None:
    due = deadline(at(2025, 10, 1, 22), Decimal("1.5"), LimitUnit.URGENT_HOURS, calendar=CAL)
    assert due == at(2025, 10, 1, 23, 30)


def test_it_ends_calendar_days_at_midnight_after_the_last_day() -> None:
    # Filed 1 Oct: days 2, 3, 4 count; the limit ends at 24:00 on 4 Oct.
    due = deadline(at(2025, 10, 1, 10), 3, LimitUnit.CALENDAR_DAYS, calendar=CAL)
    assert due == at(2025, 10, 5, 0, 0)


def test_it_answers_in_beijing_time_whatever_zone_the_start_is_in() -> None:
    # 2025-03-07 23:00 UTC is Saturday 07:00 in Beijing: the count starts Monday.
    start = datetime(2025, 3, 7, 23, tzinfo=UTC)
    due = deadline(start, 1, LimitUnit.WORKING_DAYS, calendar=CAL)
    assert due == at(2025, 3, 10, 17, 30)
    assert due.tzinfo == CALENDAR_TZ


# -- time left and the traffic light --------------------------------------------------


def test_it_measures_working_time_and_wall_time_between_two_instants() -> None:
    start, end = at(2025, 3, 7, 16), at(2025, 3, 10, 10)
    assert elapsed(start, end, LimitUnit.WORKING_HOURS, calendar=CAL) == timedelta(hours=3)
    assert elapsed(start, end, LimitUnit.URGENT_HOURS, calendar=CAL) == timedelta(hours=66)
    assert elapsed(end, start, LimitUnit.WORKING_DAYS, calendar=CAL) == -timedelta(hours=3)


def test_it_reports_negative_time_left_once_overdue() -> None:
    due = at(2025, 3, 10, 17, 30)
    left = time_left(at(2025, 3, 11, 9, 30), due, LimitUnit.WORKING_HOURS, calendar=CAL)
    assert left == -timedelta(hours=1)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (at(2025, 3, 4, 14, 0), SlaState.OK),  # 3.5 h of 15 h left
        (at(2025, 3, 4, 15, 0), SlaState.WARNING),  # 2.5 h left: under 20 %
        (at(2025, 3, 4, 17, 30), SlaState.WARNING),  # due this very minute
        (at(2025, 3, 4, 17, 31), SlaState.OVERDUE),
        (at(2025, 3, 5, 9, 0), SlaState.OVERDUE),
    ],
)
def test_it_turns_yellow_near_the_limit_and_red_past_it(now: datetime, state: SlaState) -> None:
    started = at(2025, 3, 3, 8, 30)
    due = deadline(started, 1, LimitUnit.WORKING_DAYS, calendar=CAL)
    assert sla_state(now, due, started, LimitUnit.WORKING_DAYS, calendar=CAL) == state


def test_it_stays_green_over_a_weekend_for_working_time_but_not_for_urgent_hours() -> None:
    started, now = at(2025, 3, 7, 16), at(2025, 3, 9, 12)
    working_due = deadline(started, 2, LimitUnit.WORKING_HOURS, calendar=CAL)
    urgent_due = deadline(started, 2, LimitUnit.URGENT_HOURS, calendar=CAL)
    assert sla_state(now, working_due, started, LimitUnit.WORKING_HOURS, calendar=CAL) == "ok"
    assert sla_state(now, urgent_due, started, LimitUnit.URGENT_HOURS, calendar=CAL) == "overdue"


# -- suspension (挂账) ----------------------------------------------------------------


def test_a_suspension_pauses_the_working_clock() -> None:
    # Paused Monday 10:00–14:00: 2 h + 0.5 h of working time stood still.
    due = at(2025, 3, 10, 17, 30)
    moved = deadline_after_pause(
        due, at(2025, 3, 10, 10), at(2025, 3, 10, 14), LimitUnit.WORKING_HOURS, calendar=CAL
    )
    assert moved == at(2025, 3, 11, 11, 0)


def test_a_suspension_over_a_weekend_does_not_move_a_working_deadline() -> None:
    due = at(2025, 3, 12, 17, 30)
    moved = deadline_after_pause(
        due, at(2025, 3, 8, 9), at(2025, 3, 9, 18), LimitUnit.WORKING_DAYS, calendar=CAL
    )
    assert moved == due


def test_a_suspension_of_whole_working_days_moves_the_deadline_by_as_many_days() -> None:
    # Paused from close of Tue 30 Sep to close of Fri 10 Oct: two working days (9, 10 Oct).
    due = at(2025, 10, 13, 17, 30)
    moved = deadline_after_pause(
        due,
        at(2025, 9, 30, 17, 30),
        at(2025, 10, 10, 17, 30),
        LimitUnit.WORKING_DAYS,
        calendar=CAL,
    )
    assert moved == at(2025, 10, 15, 17, 30)


def test_a_suspension_pauses_urgent_hours_by_its_wall_time() -> None:
    due = at(2025, 3, 7, 23)
    moved = deadline_after_pause(
        due, at(2025, 3, 7, 21), at(2025, 3, 8, 6), LimitUnit.URGENT_HOURS, calendar=CAL
    )
    assert moved == at(2025, 3, 8, 8)


def test_a_suspension_ending_before_it_began_is_refused() -> None:
    with pytest.raises(ValueError, match="挂账结束时间不能早于开始时间"):
        deadline_after_pause(
            at(2025, 3, 7, 23),
            at(2025, 3, 8),
            at(2025, 3, 7),
            LimitUnit.URGENT_HOURS,
            calendar=CAL,
        )


# -- extensions (延期) ----------------------------------------------------------------


def test_two_extensions_each_add_the_original_limit() -> None:
    first = deadline(at(2025, 3, 3, 10), 5, LimitUnit.WORKING_DAYS, calendar=CAL)
    second = extend(first, 5, LimitUnit.WORKING_DAYS, calendar=CAL)
    third = extend(second, 5, LimitUnit.WORKING_DAYS, calendar=CAL)
    assert [first, second, third] == [
        at(2025, 3, 10, 17, 30),
        at(2025, 3, 17, 17, 30),
        at(2025, 3, 24, 17, 30),
    ]
    assert MAX_EXTENSIONS == 2


def test_an_extension_skips_national_day() -> None:
    extended = extend(at(2025, 9, 30, 17, 30), 3, LimitUnit.WORKING_DAYS, calendar=CAL)
    assert extended == at(2025, 10, 11, 17, 30)


@pytest.mark.parametrize(
    ("unit", "due", "extended"),
    [
        (LimitUnit.WORKING_HOURS, at(2025, 3, 7, 17), at(2025, 3, 10, 11, 0)),
        (LimitUnit.URGENT_HOURS, at(2025, 3, 7, 23), at(2025, 3, 8, 2)),
        (LimitUnit.CALENDAR_DAYS, at(2025, 3, 8), at(2025, 3, 11)),
    ],
)
def test_an_extension_adds_the_limit_in_its_own_unit(
    unit: LimitUnit, due: datetime, extended: datetime
) -> None:
    assert extend(due, 3, unit, calendar=CAL) == extended


# -- beyond the years the calendar knows ---------------------------------------------


def test_it_falls_back_to_weekdays_past_the_last_known_year(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = WorkCalendar(overrides={date(2026, 10, 1): False}, known_years=[2026])
    with caplog.at_level(logging.WARNING, logger="reports.sla"):
        due = deadline(at(2026, 12, 24, 10), 10, LimitUnit.WORKING_DAYS, calendar=calendar)
    # Dec 25, 28–31, Jan 1 (not known to be a holiday yet), 4–7.
    assert due == at(2027, 1, 7, 17, 30)
    assert calendar.uncovered_years(date(2026, 12, 24), due.date()) == [2027]
    assert "2027" in caplog.text


# -- bad input ------------------------------------------------------------------------


def test_it_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        deadline(datetime(2025, 3, 3, 10), 1, LimitUnit.WORKING_HOURS, calendar=CAL)


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        (0, LimitUnit.WORKING_HOURS, "时限必须大于零"),
        (-1, LimitUnit.URGENT_HOURS, "时限必须大于零"),
        (Decimal("1.5"), LimitUnit.WORKING_DAYS, "必须是整数"),
        (Decimal("0.5"), LimitUnit.CALENDAR_DAYS, "必须是整数"),
    ],
)
def test_it_refuses_limits_that_make_no_sense(
    amount: Amount, unit: LimitUnit, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        deadline(at(2025, 3, 3, 10), amount, unit, calendar=CAL)


def test_it_refuses_overlapping_working_periods() -> None:
    with pytest.raises(ValueError, match="不能重叠"):
        validate_periods([(time(8, 30), time(12)), (time(11), time(17))])


def test_it_counts_the_working_days_in_a_range_like_a_day_by_day_walk() -> None:
    first, last = date(2025, 1, 1), date(2026, 12, 31)
    walked = sum(
        CAL.is_working_day(first + timedelta(days=i)) for i in range((last - first).days + 1)
    )
    assert CAL.working_days_in(first, last) == walked
