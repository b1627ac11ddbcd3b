"""The work calendar behind working-time limits: loading it, and every write to it.

``get_calendar()`` returns this process's :class:`~reports.sla.WorkCalendar`, rebuilt only
when ``WorkSchedule.revision`` changed (one small query per call, two more on a rebuild).
Writes go through the functions below, which replace the revision in the same
transaction, so an edit in the admin reaches every worker at its next lookup.

``chinese_calendar`` is used only to seed the table (``calendar_seed``, the
``seed_calendar`` command); limits are never computed from it directly. A year it does
not know yet (it is published each November for the next year) takes its statutory
holidays from the ``holidays`` package instead — 元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆
and the weekday in lieu when one falls on a weekend — without make-up working days (调休),
which nobody can know before the State Council publishes them; that is warned about.
Rows in the table (an administrator's edits) always win over both packages.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import chinese_calendar
import holidays
from chinese_calendar.constants import Holiday
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import WorkDay, WorkSchedule
from reports.sla import WorkCalendar, validate_periods

logger = logging.getLogger(__name__)

# How far ahead the admin is warned about missing years: deadlines filed in December
# run into January.
COVERAGE_YEARS_AHEAD = 1
# How many years past this one get the ``holidays`` fallback when chinese-calendar does
# not know them: a suspension (≤ 1 year) plus extensions reach at most this far.
FALLBACK_YEARS_AHEAD = 2

# -- reading ----------------------------------------------------------------------------


def current_revision() -> int:
    revision = (
        WorkSchedule.objects.filter(pk=WorkSchedule.SINGLETON_PK)
        .values_list("revision", flat=True)
        .first()
    )
    return revision if revision is not None else 0


def build_calendar(*, today: date | None = None) -> WorkCalendar:
    """A fresh calendar from the tables (2 queries), with the statutory holidays of the
    years chinese-calendar does not know yet underneath the rows."""
    schedule = WorkSchedule.objects.filter(pk=WorkSchedule.SINGLETON_PK).first()
    periods = schedule.periods if schedule is not None else WorkSchedule().periods
    revision = schedule.revision if schedule is not None else 0
    rows = list(WorkDay.objects.values_list("date", "is_working", "source"))
    seeded = {d.year for d, _w, source in rows if source == WorkDay.Source.CHINESE_CALENDAR}
    made_up = {d.year for d, working, _s in rows if working and d.weekday() >= 5}
    fallback = [y for y in fallback_years(today=today) if y not in seeded]
    overrides: dict[date, bool] = {}
    for year in fallback:
        overrides.update(dict.fromkeys(statutory_holidays(year), False))
    overrides.update({d: working for d, working, _s in rows})  # the admin wins
    return WorkCalendar(
        overrides=overrides,
        periods=periods,
        known_years={d.year for d, _w, _s in rows} | set(fallback),
        provisional_years=[y for y in fallback if y not in made_up],
        version=revision,
    )


_calendar: WorkCalendar | None = None
_calendar_lock = threading.Lock()


def get_calendar() -> WorkCalendar:
    """This process's calendar, rebuilt if any process changed it since (1 query)."""
    global _calendar
    revision = current_revision()
    cached = _calendar
    if cached is not None and cached.version == revision:
        return cached
    with _calendar_lock:
        if _calendar is None or _calendar.version != revision:
            _calendar = build_calendar()
        return _calendar


def reset_calendar_cache() -> None:
    """Forget this process's calendar (tests)."""
    global _calendar
    _calendar = None


def get_schedule() -> WorkSchedule:
    schedule, _created = WorkSchedule.objects.get_or_create(pk=WorkSchedule.SINGLETON_PK)
    return schedule


# -- coverage ---------------------------------------------------------------------------


def uncovered_years(
    *, today: date | None = None, years_ahead: int = COVERAGE_YEARS_AHEAD
) -> list[int]:
    """This year and the next ones that have no calendar rows at all (1 query)."""
    today = today or timezone.localdate()
    wanted = range(today.year, today.year + years_ahead + 1)
    present = {
        d.year
        for d in WorkDay.objects.filter(
            date__gte=date(wanted.start, 1, 1), date__lte=date(wanted.stop - 1, 12, 31)
        ).dates("date", "year")
    }
    return [y for y in wanted if y not in present]


def provisional_years(
    *, today: date | None = None, years_ahead: int = COVERAGE_YEARS_AHEAD
) -> list[int]:
    """This year and the next ones counted from the ``holidays`` package: chinese-calendar
    does not know them, nothing was seeded, and no administrator has entered a make-up
    working day (a Saturday or Sunday marked working) for them yet (1 query)."""
    today = today or timezone.localdate()
    wanted = [
        y
        for y in range(today.year, today.year + years_ahead + 1)
        if y in fallback_years(today=today)
    ]
    if not wanted:
        return []
    rows = WorkDay.objects.filter(date__year__in=wanted).filter(
        Q(source=WorkDay.Source.CHINESE_CALENDAR)
        | Q(is_working=True, date__week_day__in=[1, 7])  # Sunday, Saturday
    )
    done = {d.year for d in rows.dates("date", "year")}
    return [y for y in wanted if y not in done]


def calendar_coverage_warnings(
    *, today: date | None = None, years_ahead: int = COVERAGE_YEARS_AHEAD
) -> list[str]:
    """One message per year that falls back to Monday–Friday or lacks its make-up working
    days (调休); also logged."""
    messages = []
    fallback = provisional_years(today=today, years_ahead=years_ahead)
    for year in fallback:
        logger.warning(
            "work calendar: %s counts statutory holidays from the holidays package; "
            "make-up working days are not published yet",
            year,
        )
        messages.append(
            _(
                "%(year)s 年的调休安排尚未公布：工作日时限暂按法定节假日（元旦、春节、清明、"
                "劳动节、端午、中秋、国庆）计算，调休上班日未计入。公布后请升级 "
                "chinese-calendar 并运行 seed_calendar，或在此手动补录调休上班日。"
            )
            % {"year": year}
        )
    for year in uncovered_years(today=today, years_ahead=years_ahead):
        if year in fallback_years(today=today):
            continue
        logger.warning("work calendar: no holidays or make-up days recorded for %s", year)
        messages.append(
            _(
                "%(year)s 年的节假日和调休尚未录入，工作日时限暂按周一至周五计算。"
                "请运行 seed_calendar 导入，或在此手动补录。"
            )
            % {"year": year}
        )
    return messages


# -- writing ----------------------------------------------------------------------------


def bump_calendar_revision() -> None:
    """Tell every process the calendar changed (call inside the writing transaction)."""
    revision = secrets.randbits(62)
    updated = WorkSchedule.objects.filter(pk=WorkSchedule.SINGLETON_PK).update(revision=revision)
    if not updated:
        WorkSchedule.objects.create(pk=WorkSchedule.SINGLETON_PK, revision=revision)


def schedule_update(
    *, morning_start: time, morning_end: time, afternoon_start: time, afternoon_end: time
) -> WorkSchedule:
    """Change the office hours; raises ValueError (Chinese message) if they are out of order."""
    validate_periods([(morning_start, morning_end), (afternoon_start, afternoon_end)])
    with transaction.atomic():
        schedule = get_schedule()
        schedule.morning_start, schedule.morning_end = morning_start, morning_end
        schedule.afternoon_start, schedule.afternoon_end = afternoon_start, afternoon_end
        schedule.revision = secrets.randbits(62)
        schedule.save()
    return schedule


def workday_save(*, day: date, is_working: bool, note: str = "") -> WorkDay:
    """Record an administrator's decision about one day; reseeding will not touch it."""
    with transaction.atomic():
        workday, _created = WorkDay.objects.update_or_create(
            date=day,
            defaults={"is_working": is_working, "note": note, "source": WorkDay.Source.ADMIN},
        )
        bump_calendar_revision()
    return workday


def workdays_delete(*, pks: Iterable[int]) -> int:
    """Remove days' rows: those days follow Monday–Friday again, or the statutory
    holidays in a year chinese-calendar does not know (a reseed restores an official
    holiday). Returns how many rows went."""
    with transaction.atomic():
        deleted, _detail = WorkDay.objects.filter(pk__in=list(pks)).delete()
        bump_calendar_revision()
    return deleted


# -- seeding from chinese-calendar ------------------------------------------------------


@dataclass
class SeedResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    kept_admin: int = 0
    seeded_years: list[int] = field(default_factory=list)
    unsupported_years: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def package_years() -> range:
    """The years chinese-calendar has data for (it raises outside them)."""
    known = chinese_calendar.holidays.keys()
    return range(min(known).year, max(known).year + 1)


def fallback_years(*, today: date | None = None) -> range:
    """The years after chinese-calendar's last one, up to ``FALLBACK_YEARS_AHEAD`` past
    this year: those take their holidays from the ``holidays`` package."""
    today = today or timezone.localdate()
    return range(package_years().stop, today.year + FALLBACK_YEARS_AHEAD + 1)


def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory days off of ``year`` (and the weekday in lieu of one that falls on a
    weekend) according to the ``holidays`` package: date → Chinese name. No 调休."""
    days = holidays.China(years=year, language="zh_CN")
    return {day: str(name) for day, name in sorted(days.items())}


def official_days(year: int) -> dict[date, tuple[bool, str]]:
    """chinese-calendar's holidays and make-up days of ``year``: date → (working, note)."""
    names = {h.value: h.chinese for h in Holiday}
    result: dict[date, tuple[bool, str]] = {}
    day, last = date(year, 1, 1), date(year, 12, 31)
    while day <= last:
        working = chinese_calendar.is_workday(day)
        _is_holiday, name = chinese_calendar.get_holiday_detail(day)
        if name is not None or working != (day.weekday() < 5):
            label = names.get(name, name or "")
            note = f"{label}调休上班" if working else label
            result[day] = (working, note[:64])
        day += timedelta(days=1)
    return result


def calendar_seed(*, years: Iterable[int]) -> SeedResult:
    """Bring chinese-calendar's days for ``years`` into the table; idempotent.

    Rows an administrator saved are never changed. Seeded rows the package no longer
    lists (a holiday it moved in a newer version) are removed. Years the package does
    not know are reported in ``unsupported_years`` and skipped.
    """
    result = SeedResult()
    supported = package_years()
    for year in sorted(set(years)):
        if year not in supported:
            result.unsupported_years.append(year)
            continue
        _seed_year(year, result)
        result.seeded_years.append(year)
    for year in result.unsupported_years:
        logger.warning(
            "chinese-calendar has no data for %s; the statutory holidays of the `holidays` "
            "package are used until make-up working days are entered",
            year,
        )
    return result


def _seed_year(year: int, result: SeedResult) -> None:
    wanted = official_days(year)
    with transaction.atomic():
        existing = {
            w.date: w
            for w in WorkDay.objects.select_for_update().filter(
                date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
            )
        }
        now = timezone.now()
        to_create, to_update = [], []
        for day, (working, note) in wanted.items():
            row = existing.get(day)
            if row is None:
                to_create.append(
                    WorkDay(
                        date=day,
                        is_working=working,
                        note=note,
                        source=WorkDay.Source.CHINESE_CALENDAR,
                    )
                )
            elif row.source == WorkDay.Source.ADMIN:
                result.kept_admin += 1
            elif (row.is_working, row.note) != (working, note):
                row.is_working, row.note, row.updated_at = working, note, now
                to_update.append(row)
            else:
                result.unchanged += 1
        stale = [
            w.pk
            for day, w in existing.items()
            if day not in wanted and w.source == WorkDay.Source.CHINESE_CALENDAR
        ]
        WorkDay.objects.bulk_create(to_create)
        WorkDay.objects.bulk_update(to_update, ["is_working", "note", "updated_at"])
        removed, _detail = WorkDay.objects.filter(pk__in=stale).delete()
        result.created += len(to_create)
        result.updated += len(to_update)
        result.removed += removed
        if to_create or to_update or removed:
            bump_calendar_revision()
