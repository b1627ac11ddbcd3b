"""Folding case events into the daily rollups: the incremental catch-up and the rebuild.

Both run ``_fold`` over ReportEvent rows in id order, so a rebuild gives exactly the
numbers the catch-up gave. Everything ``_fold`` reads is fixed once the event exists:
the event itself, the case's other events (first dispatch, the category before a later
correction, the department of the last dispatch) and frozen case fields that can no longer
change at that event (``accept_on_time`` once triage is decided; the stage flags and
counters once the case is closed). See docs/evaluation.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from evaluation import rollup_sql
from evaluation.models import (
    ROLLUP_FIELDS,
    TREND_COUNTERS,
    WORKER_COUNTERS,
    DailyRollup,
    DailyStreetRollup,
    MonthlyCategoryRollup,
    MonthlyGridRollup,
    MonthlyRollup,
    RollupCursor,
    WorkerDailyRollup,
)
from evaluation.rates import bucket_of_us
from reports import sla
from reports.calendar import get_calendar
from reports.models import EventKind, Report, ReportEvent, State

Key = tuple[date, int, int, int, str]  # day, grid, department (0: none), category, source
WorkerKey = tuple[date, int, int]  # day, user, grid

__all__ = ["ROLLUP_FIELDS", "rollups_catch_up", "rollups_rebuild"]
_REPORT_FIELDS = (
    "id", "grid_id", "community_id", "street_id", "district_id", "category_id", "source",
    "reporter_id", "accept_on_time", "dispatch_on_time", "handle_on_time", "verify_on_time",
    "closed_on_time", "suspension_used", "rework_count", "extension_count",
)
_EVENT_FIELDS = ("id", "report_id", "kind", "actor_id", "at", "from_state", "data")


def _day(at: datetime) -> date:
    return timezone.localtime(at).date()


class _Batch:
    """The counters a run of events adds, by rollup key."""

    def __init__(self) -> None:
        self.rows: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.workers: dict[WorkerKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.ancestors: dict[int, tuple[int, int, int]] = {}

    def add(self, key: Key, **counts: int) -> None:
        row = self.rows[key]
        for name, n in counts.items():
            row[name] += n

    def add_worker(self, key: WorkerKey, **counts: int) -> None:
        row = self.workers[key]
        for name, n in counts.items():
            row[name] += n


def _category_at(event: dict[str, Any], history: list[dict[str, Any]], current: int) -> int:
    """The case's category when the event happened: the "old" one of the first later
    correction, else the current one."""
    for h in history:
        if h["id"] > event["id"] and h["kind"] == EventKind.RECATEGORIZED:
            return int(h["data"].get("old", {}).get("category") or current)
    return current


def _department_at(event: dict[str, Any], history: list[dict[str, Any]]) -> int:
    """The department the event concerns: the one in a dispatch or return event, else the
    one of the last dispatch before it (0 when the case is back at the center)."""
    if event["kind"] in (EventKind.DISPATCHED, EventKind.RETURNED):
        return int(event["data"].get("department") or 0)
    dept = 0
    for h in history:
        if h["id"] >= event["id"]:
            break
        if h["kind"] == EventKind.DISPATCHED:
            dept = int(h["data"].get("department") or 0)
        elif h["kind"] == EventKind.RETURNED:
            dept = 0
    return dept


def _is_first(event: dict[str, Any], history: list[dict[str, Any]]) -> bool:
    return not any(h["kind"] == event["kind"] and h["id"] < event["id"] for h in history)


def _durations(
    event: dict[str, Any], history: list[dict[str, Any]], calendar: sla.WorkCalendar
) -> dict[str, timedelta]:
    """Working time of each stage of a closed case, from its timeline before the close:
    the earliest or the latest event of a kind (by time; rollup_sql reads the same marks)."""
    history = [h for h in history if h["id"] < event["id"]]

    def first(*kinds: str) -> datetime | None:
        return min((h["at"] for h in history if h["kind"] in kinds), default=None)

    def last(kind: str) -> datetime | None:
        return max((h["at"] for h in history if h["kind"] == kind), default=None)

    filed = first(EventKind.FILED)
    triage = min(
        (
            h["at"]
            for h in history
            if h["kind"] == EventKind.ACCEPTED
            or (h["kind"] == EventKind.TRANSFERRED and h["from_state"] == State.REPORTED)
        ),
        default=None,
    )
    marks = {
        "accept": (filed, triage),
        "dispatch": (triage, first(EventKind.DISPATCHED)),
        "handle": (last(EventKind.DISPATCHED), last(EventKind.HANDLED)),
        "verify": (last(EventKind.HANDLED), last(EventKind.VERIFIED)),
        "total": (filed, event["at"]),
    }
    out: dict[str, timedelta] = {}
    for stage, (start, end) in marks.items():
        if start is None or end is None or end < start:
            continue
        out[stage] = sla.elapsed(start, end, sla.LimitUnit.WORKING_HOURS, calendar=calendar)
    return out


def _fold(events: list[dict[str, Any]], batch: _Batch) -> None:
    """Add what each event decides to the batch's counters."""
    report_ids = {e["report_id"] for e in events}
    reports = {r["id"]: r for r in Report.objects.filter(pk__in=report_ids).values(*_REPORT_FIELDS)}
    histories: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for h in (
        ReportEvent.objects.filter(report_id__in=report_ids)
        .exclude(kind__in=[EventKind.URGED, EventKind.OVERDUE, EventKind.ROUTED])
        .order_by("id")
        .values(*_EVENT_FIELDS)
    ):
        histories[h["report_id"]].append(h)

    calendar = get_calendar()
    for e in events:
        r = reports.get(e["report_id"])
        if r is None:
            continue
        history = histories[e["report_id"]]
        kind = e["kind"]
        day = _day(e["at"])
        key: Key = (
            day,
            r["grid_id"],
            _department_at(e, history),
            _category_at(e, history, r["category_id"]),
            r["source"],
        )
        batch.ancestors[r["grid_id"]] = (r["community_id"], r["street_id"], r["district_id"])
        reporter: WorkerKey = (day, r["reporter_id"], r["grid_id"])
        from_reported = e["from_state"] == State.REPORTED

        if kind == EventKind.FILED:
            batch.add(key, reported=1)
            batch.add_worker(reporter, reported=1)
        elif kind == EventKind.SELF_HANDLED:
            batch.add(key, reported=1, triaged=1, valid=1, self_handled=1)
            batch.add_worker(reporter, reported=1, triaged=1, valid=1, self_handled=1)
        elif kind == EventKind.ACCEPTED or (kind == EventKind.TRANSFERRED and from_reported):
            batch.add(
                key, triaged=1, valid=1, accepted=1, accept_on_time=int(bool(r["accept_on_time"]))
            )
            batch.add_worker(reporter, triaged=1, valid=1)
        elif kind == EventKind.REJECTED:
            batch.add(key, triaged=1, rejected=1)
            batch.add_worker(reporter, triaged=1)
        elif kind == EventKind.MERGED:
            if from_reported:
                batch.add(key, triaged=1, merged=1)
                batch.add_worker(reporter, triaged=1)
            else:
                batch.add(key, merged_late=1)
        elif kind == EventKind.DISPATCHED:
            batch.add(key, dispatch_events=1, dispatched=int(_is_first(e, history)))
        elif kind == EventKind.RETURNED:
            batch.add(key, returns=1)
        elif kind == EventKind.HANDLED:
            if _is_first(e, history):
                batch.add(key, handled=1)
        elif kind == EventKind.VERIFIED and e["actor_id"] is not None:
            batch.add_worker(
                (day, e["actor_id"], r["grid_id"]),
                verified=1,
                verify_on_time=int(bool(r["verify_on_time"])),
            )
        elif kind == EventKind.CLOSED:
            _fold_close(e, r, history, key, batch, calendar)
        elif kind == EventKind.SUSPENSION_GRANTED:
            batch.add(key, suspended=1)
        elif kind == EventKind.URGED:
            batch.add(key, urged=1)
        elif kind == EventKind.OVERDUE:
            batch.add(key, overdue=1)


def _fold_close(
    e: dict[str, Any],
    r: dict[str, Any],
    history: list[dict[str, Any]],
    key: Key,
    batch: _Batch,
    calendar: sla.WorkCalendar,
) -> None:
    counts = {
        "closed": 1,
        "reworked": int(r["rework_count"] > 0),
        "extended": int(r["extension_count"] > 0),
    }
    if r["suspension_used"]:
        counts["closed_suspended"] = 1
    else:
        counts["closed_on_time"] = int(bool(r["closed_on_time"]))
        counts["dispatch_on_time"] = int(bool(r["dispatch_on_time"]))
        counts["handle_on_time"] = int(bool(r["handle_on_time"]))
        counts["verify_on_time"] = int(bool(r["verify_on_time"]))
        for stage, spent in _durations(e, history, calendar).items():
            us = spent // timedelta(microseconds=1)
            # whole seconds, half up, in integers: the SQL rebuild rounds the same way.
            counts[f"secs_{stage}"] = (us + 500_000) // 1_000_000
            counts[f"h_{stage}_{bucket_of_us(us)}"] = 1
    batch.add(key, **counts)


_DAILY_KEYS = ("day", "grid_id", "department_id", "category_id", "source",
               "community_id", "street_id", "district_id")
_WORKER_KEYS = ("day", "user_id", "grid_id", "community_id", "street_id", "district_id")


def _sums() -> defaultdict[Any, defaultdict[str, int]]:
    return defaultdict(lambda: defaultdict(int))


class _Derived:
    """The sums of daily rows into the coarser tables the pages read: month × street ×
    department (MonthlyRollup), day × street (DailyStreetRollup), month × street ×
    category (MonthlyCategoryRollup) and month × grid (MonthlyGridRollup). Every daily
    key makes a row in each, even when the columns it sums are all zero; rollup_sql
    derives them from the daily table with the same GROUP BYs."""

    def __init__(self) -> None:
        self.months = _sums()  # (month, street, department)
        self.street_days = _sums()  # (day, street)
        self.categories = _sums()  # (month, street, category)
        self.grids = _sums()  # (month, grid)
        self.ancestors: dict[int, tuple[int, int, int]] = {}  # grid → community, street, district

    def add(self, key: Key, ancestors: tuple[int, int, int], counts: dict[str, int]) -> None:
        day, grid, department, category, _source = key
        street = ancestors[1]
        month = day.replace(day=1)
        self.ancestors[grid] = ancestors
        for target, names in (
            (self.months[(month, street, department)], ROLLUP_FIELDS),
            (self.street_days[(day, street)], TREND_COUNTERS),
            (self.categories[(month, street, category)], ("reported",)),
            (self.grids[(month, grid)], ("reported", "overdue")),
        ):
            for name in names:
                target[name] += counts.get(name, 0)

    def upsert(self) -> None:
        districts = {street: district for _c, street, district in self.ancestors.values()}
        _upsert_keyed(
            MonthlyRollup, ("day", "street_id", "department_id", "district_id"), 3,
            ROLLUP_FIELDS,
            [(*k, districts[k[1]], *(c[f] for f in ROLLUP_FIELDS)) for k, c in self.months.items()],
        )
        _upsert_keyed(
            DailyStreetRollup, ("day", "street_id", "district_id"), 2, TREND_COUNTERS,
            [(*k, districts[k[1]], *(c[f] for f in TREND_COUNTERS))
             for k, c in self.street_days.items()],
        )
        _upsert_keyed(
            MonthlyCategoryRollup, ("day", "street_id", "category_id", "district_id"), 3,
            ("reported",),
            [(*k, districts[k[1]], c["reported"]) for k, c in self.categories.items()],
        )
        _upsert_keyed(
            MonthlyGridRollup, ("day", "grid_id", "community_id", "street_id", "district_id"), 2,
            ("reported", "overdue"),
            [(*k, *self.ancestors[k[1]], c["reported"], c["overdue"])
             for k, c in self.grids.items()],
        )


def _store(batch: _Batch) -> None:
    """Add the batch's counters to the daily, worker and derived rollups."""
    derived = _Derived()
    daily = []
    for key, counts in batch.rows.items():
        ancestors = batch.ancestors[key[1]]
        daily.append((*key, *ancestors, *(counts.get(f, 0) for f in ROLLUP_FIELDS)))
        derived.add(key, ancestors, counts)
    workers = [
        (*wkey, *batch.ancestors[wkey[2]], *(counts.get(f, 0) for f in WORKER_COUNTERS))
        for wkey, counts in batch.workers.items()
    ]
    _upsert_keyed(DailyRollup, _DAILY_KEYS, 5, ROLLUP_FIELDS, daily)
    _upsert_keyed(WorkerDailyRollup, _WORKER_KEYS, 3, WORKER_COUNTERS, workers)
    derived.upsert()


def _upsert_keyed(model: Any, columns: tuple[str, ...], n_keys: int, values: tuple[str, ...],
                  rows: list[tuple[Any, ...]]) -> None:
    """INSERT … ON CONFLICT (the first n_keys columns) DO UPDATE SET c = c + excluded.c
    (PostgreSQL and SQLite alike). The columns after the key are insert-only (a
    grid's ancestors); the caller holds the cursor lock, so nobody else adds meanwhile."""
    if not rows:
        return
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    all_columns = columns + values
    one = "(" + ", ".join(["%s"] * len(all_columns)) + ")"
    updates = ", ".join(f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in values)
    sql = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in all_columns)}) VALUES {one} "
        f"ON CONFLICT ({', '.join(q(c) for c in columns[:n_keys])}) DO UPDATE SET {updates}"
    )
    # One statement, many parameter rows: psycopg parses it once and pipelines the rows
    # (a multi-row VALUES of ~100 columns spent most of its time in client-side parsing).
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _settled(events: Iterable[dict[str, Any]], cutoff: datetime) -> list[dict[str, Any]]:
    """Events up to the first one newer than the cutoff: a transaction still open may yet
    commit an event with a lower id, and the cursor must never pass over it."""
    out = []
    for e in events:
        if e["at"] > cutoff:
            break
        out.append(e)
    return out


def rollups_catch_up(*, batch_size: int = 5000, settle: timedelta = timedelta(seconds=30)) -> int:
    """Fold every settled event past the cursor into the rollups; returns how many.

    Idempotent and safe to run concurrently: each batch locks the cursor row, adds its
    counters and moves the cursor in one transaction."""
    RollupCursor.objects.get_or_create(pk=1)
    done = 0
    while True:
        with transaction.atomic():
            cursor = RollupCursor.objects.select_for_update().get(pk=1)
            events = list(
                ReportEvent.objects.filter(id__gt=cursor.last_event_id)
                .order_by("id")
                .values(*_EVENT_FIELDS)[:batch_size]
            )
            events = _settled(events, timezone.now() - settle)
            if not events:
                return done
            batch = _Batch()
            _fold(events, batch)
            _store(batch)
            cursor.last_event_id = events[-1]["id"]
            cursor.save(update_fields=["last_event_id", "updated_at"])
        done += len(events)


def rollups_rebuild(*, batch_size: int = 20000, settle: timedelta = timedelta(0)) -> int:
    """Empty the rollups and fold every settled event again; returns how many events.

    On PostgreSQL a few set-based statements compute what ``_fold`` computes
    (``evaluation.rollup_sql``); elsewhere (SQLite) ``_fold`` runs over the events in id
    order, as the catch-up does. One transaction; the cursor row stays locked throughout,
    so the periodic catch-up waits and then goes on from the last event folded here.
    While it runs on PostgreSQL the statistics pages wait too (TRUNCATE), about a minute
    at a million cases."""
    with transaction.atomic():
        RollupCursor.objects.get_or_create(pk=1)
        cursor_row = RollupCursor.objects.select_for_update().get(pk=1)
        unsettled = (
            ReportEvent.objects.filter(at__gt=timezone.now() - settle)
            .order_by("id").values_list("id", flat=True).first()
        )
        events = ReportEvent.objects.all()
        if unsettled is not None:
            events = events.filter(id__lt=unsettled)
        last_id = events.aggregate(last=Max("id"))["last"] or 0
        if connection.vendor == "postgresql" and rollup_sql.packable(last_id):
            done = rollup_sql.rebuild(last_id, get_calendar(), settings.TIME_ZONE)
        else:
            done = _rebuild_python(last_id, batch_size)
        cursor_row.last_event_id = last_id
        cursor_row.save(update_fields=["last_event_id", "updated_at"])
    return done


def _rebuild_python(last_id: int, batch_size: int) -> int:
    for model in (DailyRollup, MonthlyRollup, WorkerDailyRollup, DailyStreetRollup,
                  MonthlyCategoryRollup, MonthlyGridRollup):
        model.objects.all().delete()
    done, after = 0, 0
    while True:
        events = list(
            ReportEvent.objects.filter(id__gt=after, id__lte=last_id)
            .order_by("id").values(*_EVENT_FIELDS)[:batch_size]
        )
        if not events:
            return done
        batch = _Batch()
        _fold(events, batch)
        _store(batch)
        after = events[-1]["id"]
        done += len(events)
