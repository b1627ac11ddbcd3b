"""Time limits (时限): deadlines, working time, suspension, extension and the traffic light.

Pure functions over a :class:`WorkCalendar`; no ORM and no ``chinese_calendar`` here, so
the hot path is plain arithmetic and tests need no database. ``reports.calendar`` builds
the calendar from the admin-editable tables (``get_calendar()``, one query per call).

The rules are written out in docs/time-limits.md; in short, for a limit of N filed at t:

- urgent hours (紧急工作时): t + N hours, a continuous clock, day or night;
- working hours (工作时): t is moved forward to the next working instant, then N hours of
  working time are counted inside the working periods of working days;
- working days (工作日): the day of t is not counted (民法典 §201); the limit ends when
  business closes on the N-th working day after it (§203: 停止业务活动的时间);
- calendar days (自然日): the day of t is not counted; the limit ends at 24:00 of the N-th
  day after it (§203), i.e. at 00:00 of the day after that.

All day logic happens in the calendar's time zone (Asia/Shanghai), which has had no
daylight-saving transition since 1991, so local wall-clock arithmetic is exact.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

CALENDAR_TZ = ZoneInfo("Asia/Shanghai")
# 08:30–12:00 and 13:30–17:30: the default office hours; WorkSchedule overrides them.
DEFAULT_PERIODS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(13, 30), time(17, 30)),
)
# Yellow when less than this share of the limit is left.
WARNING_RATIO = Decimal("0.2")
# A case may be extended at most this many times; each extension adds one original limit.
# The refusal itself is the workflow's job; this is the number it checks.
MAX_EXTENSIONS = 2

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)


class LimitUnit(models.TextChoices):
    URGENT_HOURS = "urgent_hours", _("紧急工作时")
    WORKING_HOURS = "working_hours", _("工作时")
    WORKING_DAYS = "working_days", _("工作日")
    CALENDAR_DAYS = "calendar_days", _("自然日")


class SlaState(models.TextChoices):
    OK = "ok", _("正常")
    WARNING = "warning", _("临期")
    OVERDUE = "overdue", _("超期")


Amount = int | Decimal

_CONTINUOUS = frozenset({LimitUnit.URGENT_HOURS, LimitUnit.CALENDAR_DAYS})


class WorkCalendar:
    """Which days are working days, and the working periods of such a day.

    ``overrides`` maps a date to "is a working day" for the days that differ from the
    Monday–Friday rule or carry a note (public holidays, make-up working days 调休).
    ``known_years`` are the years somebody filled in (seeded or entered by an admin);
    any other year falls back to Monday–Friday, which callers report as a warning.
    ``provisional_years`` are known years whose statutory holidays are in ``overrides``
    but whose make-up working days (调休) are not published yet; they are logged too.
    Immutable once built (but for the set of years already logged); safe to share
    between threads.
    """

    __slots__ = (
        "_known_years",
        "_override_dates",
        "_overrides",
        "_periods",
        "_provisional_years",
        "_warned_years",
        "day_length",
        "periods",
        "tz",
        "version",
    )

    def __init__(
        self,
        *,
        overrides: Mapping[date, bool] | None = None,
        periods: Sequence[tuple[time, time]] = DEFAULT_PERIODS,
        known_years: Iterable[int] | None = None,
        provisional_years: Iterable[int] = (),
        tz: tzinfo = CALENDAR_TZ,
        version: int = 0,
    ) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._override_dates: list[date] = sorted(self._overrides)
        self._known_years: frozenset[int] = (
            frozenset(known_years)
            if known_years is not None
            else frozenset(d.year for d in self._overrides)
        )
        self._provisional_years: frozenset[int] = frozenset(provisional_years)
        self.periods: tuple[tuple[time, time], ...] = validate_periods(periods)
        self._periods: tuple[tuple[timedelta, timedelta], ...] = tuple(
            (_since_midnight(s), _since_midnight(e)) for s, e in self.periods
        )
        self.day_length: timedelta = sum((e - s for s, e in self._periods), _ZERO)
        self.tz = tz
        self.version = version
        # Years already logged as falling back to Monday–Friday (once per calendar build).
        self._warned_years: set[int] = set()

    # -- days ------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        working = self._overrides.get(day)
        if working is None:
            return day.weekday() < 5
        return working

    def is_known_year(self, year: int) -> bool:
        return year in self._known_years

    @property
    def known_years(self) -> frozenset[int]:
        return self._known_years

    @property
    def provisional_years(self) -> frozenset[int]:
        return self._provisional_years

    def uncovered_years(self, first: date, last: date) -> list[int]:
        """Years in [first, last] that fall back to Monday–Friday."""
        return [y for y in range(first.year, last.year + 1) if y not in self._known_years]

    def provisional_years_in(self, first: date, last: date) -> list[int]:
        """Years in [first, last] counted without their make-up working days (调休)."""
        return [y for y in range(first.year, last.year + 1) if y in self._provisional_years]

    def warn_uncovered(self, first: date, last: date) -> None:
        """Log, once per calendar and year, that [first, last] fell back to Monday–Friday
        or to statutory holidays without make-up working days."""
        for year in self.uncovered_years(first, last):
            if year not in self._warned_years:
                self._warned_years.add(year)
                logger.warning(
                    "work calendar has no rows for %s: counting Monday-Friday as working "
                    "days; run `manage.py seed_calendar` or fill the year in the admin",
                    year,
                )
        for year in self.provisional_years_in(first, last):
            if year not in self._warned_years:
                self._warned_years.add(year)
                logger.warning(
                    "work calendar for %s: statutory holidays only, make-up working days "
                    "(调休) are not published yet; fill them in the admin when they are",
                    year,
                )

    def working_days_in(self, first: date, last: date) -> int:
        """How many working days lie in [first, last] (inclusive); O(overrides in range)."""
        if last < first:
            return 0
        count = _weekdays_in(first, last)
        lo = bisect.bisect_left(self._override_dates, first)
        hi = bisect.bisect_right(self._override_dates, last)
        for day in self._override_dates[lo:hi]:
            default = day.weekday() < 5
            if self._overrides[day] != default:
                count += 1 if self._overrides[day] else -1
        return count

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The n-th working day strictly after ``day`` (n ≥ 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        found = 0
        while found < n:
            day += _ONE_DAY
            if self.is_working_day(day):
                found += 1
        return day

    def working_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``day`` as aware datetimes (empty on a day off)."""
        return [
            (s.replace(tzinfo=self.tz), e.replace(tzinfo=self.tz))
            for s, e in self._naive_intervals(day)
        ]

    # -- working time, on naive local datetimes ---------------------------------------

    def _naive_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        midnight = datetime(day.year, day.month, day.day)
        return [(midnight + s, midnight + e) for s, e in self._periods]

    def close_of(self, day: date) -> datetime:
        """When business stops on ``day`` (naive local)."""
        return datetime(day.year, day.month, day.day) + self._periods[-1][1]

    def working_time_between_local(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return _ZERO
        first, last = start.date(), end.date()
        total = _ZERO
        for s, e in self._naive_intervals(first):
            total += _overlap(s, e, start, end)
        if last == first:
            return total
        middle_first, middle_last = first + _ONE_DAY, last - _ONE_DAY
        total += self.day_length * self.working_days_in(middle_first, middle_last)
        for s, e in self._naive_intervals(last):
            total += _overlap(s, e, start, end)
        return total

    def add_working_time_local(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant with ``amount`` of working time since ``start``."""
        if amount <= _ZERO:
            return start
        remaining = amount
        day = start.date()
        for s, e in self._naive_intervals(day):
            if e <= start:
                continue
            s = max(s, start)
            if remaining <= e - s:
                return s + remaining
            remaining -= e - s
        while True:
            day += _ONE_DAY
            if not self.is_working_day(day):
                continue
            if remaining > self.day_length:
                remaining -= self.day_length
                continue
            for s, e in self._naive_intervals(day):
                if remaining <= e - s:
                    return s + remaining
                remaining -= e - s

    # -- conversions -------------------------------------------------------------------

    def to_local(self, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("an aware datetime is required")
        return value.astimezone(self.tz).replace(tzinfo=None)

    def from_local(self, value: datetime) -> datetime:
        return value.replace(tzinfo=self.tz)

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(periods={self.periods!r}, overrides={len(self._overrides)}, "
            f"known_years={sorted(self._known_years)!r})"
        )


def validate_periods(periods: Sequence[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    """Working periods must be non-empty, each start before its end, in order."""
    result = tuple(periods)
    if not result:
        raise ValueError(gettext("至少需要一个工作时段。"))
    previous_end: time | None = None
    for start, end in result:
        if not start < end:
            raise ValueError(gettext("工作时段的开始时间必须早于结束时间。"))
        if previous_end is not None and start < previous_end:
            raise ValueError(gettext("工作时段不能重叠，且须按时间先后排列。"))
        previous_end = end
    return result


# -- the public API the workflow uses ---------------------------------------------------


def deadline(
    start: datetime, amount: Amount, unit: LimitUnit, *, calendar: WorkCalendar
) -> datetime:
    """When a limit of ``amount`` ``unit`` that started at ``start`` runs out (aware)."""
    _check_amount(amount, unit, positive=True)
    unit = LimitUnit(unit)
    if unit == LimitUnit.URGENT_HOURS:
        result = _continuous_add(start, _hours(amount), calendar)
    elif unit == LimitUnit.WORKING_HOURS:
        local = calendar.to_local(start)
        result = calendar.from_local(calendar.add_working_time_local(local, _hours(amount)))
    elif unit == LimitUnit.WORKING_DAYS:
        day = calendar.to_local(start).date()
        last = calendar.nth_working_day_after(day, int(amount))
        result = calendar.from_local(calendar.close_of(last))
    else:
        day = calendar.to_local(start).date()
        result = calendar.from_local(
            datetime.combine(day + timedelta(days=int(amount) + 1), time())
        )
    _note_fallback(calendar, start, result, unit)
    return result


def elapsed(
    start: datetime, end: datetime, unit: LimitUnit, *, calendar: WorkCalendar
) -> timedelta:
    """The time that counts for ``unit`` between two instants; negative if end < start.

    Wall time for the continuous units (urgent hours, calendar days), working time for
    working hours and working days. ``elapsed(now, deadline)`` is the time left.
    """
    unit = LimitUnit(unit)
    a, b = calendar.to_local(start), calendar.to_local(end)
    if unit in _CONTINUOUS:
        return end - start
    if b >= a:
        return calendar.working_time_between_local(a, b)
    return -calendar.working_time_between_local(b, a)


def time_left(
    now: datetime, due: datetime, unit: LimitUnit, *, calendar: WorkCalendar
) -> timedelta:
    """Counting time until ``due``; negative once overdue (by the overdue amount)."""
    return elapsed(now, due, unit, calendar=calendar)


def deadline_after_pause(
    due: datetime,
    paused_from: datetime,
    paused_to: datetime,
    unit: LimitUnit,
    *,
    calendar: WorkCalendar,
) -> datetime:
    """The deadline once a suspension (挂账) from ``paused_from`` to ``paused_to`` ends.

    The clock stood still during the pause, so the deadline moves by the counting time
    the pause covered: its wall time for continuous units, its working time otherwise.
    """
    if paused_to < paused_from:
        raise ValueError(gettext("挂账结束时间不能早于开始时间。"))
    unit = LimitUnit(unit)
    if unit in _CONTINUOUS:
        result = _continuous_add(due, paused_to - paused_from, calendar)
    else:
        pause = elapsed(paused_from, paused_to, unit, calendar=calendar)
        result = calendar.from_local(calendar.add_working_time_local(calendar.to_local(due), pause))
    _note_fallback(calendar, due, result, unit)
    return result


def extend(
    due: datetime, original_amount: Amount, unit: LimitUnit, *, calendar: WorkCalendar
) -> datetime:
    """The deadline after one extension (延期): one more original limit, counted from ``due``.

    Working days add N days' worth of working time, so a deadline at close of business
    moves to close of business N working days later, and one that a pause moved into
    the middle of a day keeps its time of day. At most :data:`MAX_EXTENSIONS` per case.
    """
    _check_amount(original_amount, unit, positive=True)
    unit = LimitUnit(unit)
    if unit == LimitUnit.URGENT_HOURS:
        result = _continuous_add(due, _hours(original_amount), calendar)
    elif unit == LimitUnit.CALENDAR_DAYS:
        local = calendar.to_local(due) + timedelta(days=int(original_amount))
        result = calendar.from_local(local)
    else:
        amount = (
            _hours(original_amount)
            if unit == LimitUnit.WORKING_HOURS
            else calendar.day_length * int(original_amount)
        )
        result = calendar.from_local(
            calendar.add_working_time_local(calendar.to_local(due), amount)
        )
    _note_fallback(calendar, due, result, unit)
    return result


def sla_state(
    now: datetime,
    due: datetime,
    started: datetime | None,
    unit: LimitUnit,
    *,
    calendar: WorkCalendar,
    warning_ratio: Decimal = WARNING_RATIO,
    total: timedelta | None = None,
) -> SlaState:
    """Green, yellow (less than ``warning_ratio`` of the limit left) or red (past due).

    The one place the time-left colour is decided (docs/time-limits.md): the admin column
    and every page call it through ``reports.selectors.report_clock``. ``total`` is the
    counting time of the whole limit; by default ``elapsed(started, due)``."""
    if now > due:
        return SlaState.OVERDUE
    if total is None:
        if started is None:
            raise ValueError("sla_state needs started or total")
        total = elapsed(started, due, unit, calendar=calendar)
    left = elapsed(now, due, unit, calendar=calendar)
    if Decimal(_micro(left)) < Decimal(_micro(total)) * warning_ratio:
        return SlaState.WARNING
    return SlaState.OK


def limit_span(amount: Amount, unit: LimitUnit, *, calendar: WorkCalendar) -> timedelta:
    """The counting time one limit spans (a working day is ``calendar.day_length``)."""
    unit = LimitUnit(unit)
    if unit == LimitUnit.WORKING_DAYS:
        return calendar.day_length * int(Decimal(amount))
    if unit == LimitUnit.CALENDAR_DAYS:
        return timedelta(days=int(Decimal(amount)))
    return _hours(amount)


# -- helpers -------------------------------------------------------------------------


def _check_amount(amount: Amount, unit: LimitUnit, *, positive: bool) -> None:
    value = Decimal(amount)
    if not value.is_finite() or (positive and value <= 0):
        raise ValueError(gettext("时限必须大于零。"))
    if unit in (LimitUnit.WORKING_DAYS, LimitUnit.CALENDAR_DAYS) and value != value.to_integral():
        raise ValueError(gettext("以工作日或自然日计的时限必须是整数。"))


def _hours(amount: Amount) -> timedelta:
    return timedelta(microseconds=int(Decimal(amount) * 3_600_000_000))


def _micro(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _continuous_add(value: datetime, delta: timedelta, calendar: WorkCalendar) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    return (value.astimezone(UTC) + delta).astimezone(calendar.tz)


def _since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _overlap(s: datetime, e: datetime, start: datetime, end: datetime) -> timedelta:
    lo, hi = max(s, start), min(e, end)
    return hi - lo if hi > lo else _ZERO


def _weekdays_in(first: date, last: date) -> int:
    """Mondays–Fridays in [first, last], by arithmetic."""
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    wd = first.weekday()
    for i in range(rest):
        if (wd + i) % 7 < 5:
            count += 1
    return count


def _note_fallback(calendar: WorkCalendar, a: datetime, b: datetime, unit: LimitUnit) -> None:
    if unit in _CONTINUOUS:
        return
    first, last = sorted((calendar.to_local(a).date(), calendar.to_local(b).date()))
    calendar.warn_uncovered(first, last)


def format_amount(value: Amount) -> str:
    """A limit's amount as people write it: ``10``, ``1.5``, never ``1E+1``."""
    return format(Decimal(value).normalize(), "f")
