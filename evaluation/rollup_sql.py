"""The rollup rebuild on PostgreSQL, set-based: a handful of ``INSERT … SELECT … GROUP BY``
statements over the events instead of folding them one by one in Python.

It computes what ``evaluation.rollup._fold`` computes, event by event, with window
functions over each case's timeline (in id order, as ``_fold`` reads it):

- the department an event concerns: its own ``data.department`` for a dispatch or a
  return, else that of the last dispatch before it, 0 after a return or before any
  dispatch — ``max(ARRAY[id, department])`` over the earlier dispatches and returns;
- the category at the time: the "old" category of the first later ``recategorized``
  event, else the case's current one — ``min(ARRAY[id, old])`` over the later ones;
- a case's first dispatch and first "handled" report — a count of the earlier ones;
- at a close, the stage marks (first filing, triage and dispatch; last dispatch, handling
  and passed check) over the whole timeline, and the working time between them.

Working time is a difference of a cumulative clock: W(t) = the working microseconds of
the working days before t's day (an array built from the work calendar, one entry per
day) + the working microseconds of t's own day before t (the office periods, inlined as
constants). ``sla.elapsed`` in working hours counts exactly W(end) − W(start), since it
sums the overlaps of [start, end] with the same periods on the same days.

The coarser tables (monthly, per street and day, per category and per grid) are sums of
the daily rows, as ``rollup._Derived`` sums them in Python. tests/evaluation/test_rollup.py
compares this with the incremental path on the hand-built month and on generated cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Max

from evaluation.models import (
    BUCKET_BOUNDS_US,
    COUNTERS,
    DURATION_STAGES,
    HIST_FIELDS,
    ROLLUP_FIELDS,
    SECS_FIELDS,
    TREND_COUNTERS,
    DailyRollup,
    DailyStreetRollup,
    MonthlyCategoryRollup,
    MonthlyGridRollup,
    MonthlyRollup,
    WorkerDailyRollup,
)
from grids.models import Department
from reports.models import EventKind, Report, ReportEvent, State
from reports.sla import WorkCalendar

DAY_US = 86_400_000_000
# The department of the last dispatch before an event is read as MAX(id × PACK + department)
# over the earlier dispatches and returns: one bigint, no array per row. Department ids
# must stay below PACK and event ids below 2^63 / PACK (``packable``).
PACK = 1 << 24
EPOCH = date(1970, 1, 1)

# Events that count in the daily rollup (docs/evaluation.md, Counters).
_COUNTED = (
    EventKind.FILED, EventKind.SELF_HANDLED, EventKind.ACCEPTED, EventKind.TRANSFERRED,
    EventKind.REJECTED, EventKind.MERGED, EventKind.DISPATCHED, EventKind.RETURNED,
    EventKind.HANDLED, EventKind.CLOSED, EventKind.SUSPENSION_GRANTED, EventKind.URGED,
    EventKind.OVERDUE,
)


def _lit(value: str) -> str:
    """A fixed identifier-like value (an event kind or a state) as an SQL literal."""
    assert value.replace("_", "").isalnum(), value
    return f"'{value}'"


def _kinds(*kinds: str) -> str:
    return "(" + ", ".join(_lit(k) for k in kinds) + ")"


def _us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _calendar_array(calendar: WorkCalendar, first: date, last: date) -> list[int]:
    """W at the start of each day from ``first`` to ``last`` + 1: the working microseconds
    of the working days before it, counted from ``first``."""
    day_us = sum(_us(e) - _us(s) for s, e in calendar.periods)
    out, total, day = [], 0, first
    while day <= last + timedelta(days=1):
        out.append(total)
        if calendar.is_working_day(day):
            total += day_us
        day += timedelta(days=1)
    return out


def _w(lu: str, d0: int, calendar: WorkCalendar) -> str:
    """SQL for W(t), t given as local microseconds since 1970 (``lu``)."""
    i = f"({lu} / {DAY_US} - {d0} + 1)"
    tod = f"mod({lu}, {DAY_US})"
    inside = " + ".join(
        f"LEAST(GREATEST({tod} - {_us(s)}, 0), {_us(e) - _us(s)})" for s, e in calendar.periods
    )
    return f"c.cal[{i}] + CASE WHEN c.cal[{i} + 1] > c.cal[{i}] THEN {inside} ELSE 0 END"


def _span(start: str, end: str, d0: int, calendar: WorkCalendar) -> str:
    """Working microseconds from ``start`` to ``end`` (local µs), NULL when either is
    missing or the end is before the start — as ``rollup._durations`` skips the stage."""
    return (f"CASE WHEN {start} IS NOT NULL AND {end} IS NOT NULL AND {end} >= {start} "
            f"THEN ({_w(end, d0, calendar)}) - ({_w(start, d0, calendar)}) END")


def _bucket(us: str) -> str:
    """The histogram bucket of ``us`` (NULL stays NULL): the first bound it does not pass,
    as ``rates.bucket_of_us``; width_bucket counts the thresholds ≤ us, so bound + 1."""
    bounds = ", ".join(str(b + 1) for b in BUCKET_BOUNDS_US)
    return f"width_bucket({us}, ARRAY[{bounds}]::bigint[])"


def _counters() -> dict[str, str]:
    """COUNTERS → the condition on a row of ``x`` (one event) that counts it."""
    k = EventKind
    accepted = f"(x.kind = {_lit(k.ACCEPTED)} OR (x.kind = {_lit(k.TRANSFERRED)} AND x.fr))"
    counted = f"(x.kind = {_lit(k.CLOSED)} AND NOT x.suspension_used)"
    out = {
        "reported": f"x.kind IN {_kinds(k.FILED, k.SELF_HANDLED)}",
        "triaged": f"(x.kind IN {_kinds(k.SELF_HANDLED, k.REJECTED)} OR {accepted} "
                   f"OR (x.kind = {_lit(k.MERGED)} AND x.fr))",
        "valid": f"(x.kind = {_lit(k.SELF_HANDLED)} OR {accepted})",
        "accepted": accepted,
        "accept_on_time": f"({accepted} AND x.accept_on_time)",
        "rejected": f"x.kind = {_lit(k.REJECTED)}",
        "merged": f"(x.kind = {_lit(k.MERGED)} AND x.fr)",
        "merged_late": f"(x.kind = {_lit(k.MERGED)} AND NOT x.fr)",
        "self_handled": f"x.kind = {_lit(k.SELF_HANDLED)}",
        "dispatched": f"(x.kind = {_lit(k.DISPATCHED)} AND x.is_first)",
        "dispatch_events": f"x.kind = {_lit(k.DISPATCHED)}",
        "returns": f"x.kind = {_lit(k.RETURNED)}",
        "handled": f"x.kind = {_lit(k.HANDLED)}",  # x keeps only a case's first
        "closed": f"x.kind = {_lit(k.CLOSED)}",
        "closed_suspended": f"(x.kind = {_lit(k.CLOSED)} AND x.suspension_used)",
        "closed_on_time": f"({counted} AND x.closed_on_time)",
        "dispatch_on_time": f"({counted} AND x.dispatch_on_time)",
        "handle_on_time": f"({counted} AND x.handle_on_time)",
        "verify_on_time": f"({counted} AND x.verify_on_time)",
        "reworked": f"(x.kind = {_lit(k.CLOSED)} AND x.rework_count > 0)",
        "extended": f"(x.kind = {_lit(k.CLOSED)} AND x.extension_count > 0)",
        "suspended": f"x.kind = {_lit(k.SUSPENSION_GRANTED)}",
        "urged": f"x.kind = {_lit(k.URGED)}",
        "overdue": f"x.kind = {_lit(k.OVERDUE)}",
    }
    assert tuple(out) == COUNTERS
    return out


_DAILY_KEY = ("day", "grid_id", "department_id", "category_id", "source")
_ANCESTORS = ("community_id", "street_id", "district_id")


def rebuild(last_id: int, calendar: WorkCalendar, day_zone: str) -> int:
    """Empty the rollups and fill them from the events with ids up to ``last_id``; returns
    how many events that is. Runs inside the caller's transaction (which holds the cursor
    lock). ``day_zone``: the time zone of the rollup days (settings.TIME_ZONE)."""
    q = connection.ops.quote_name
    ev = q(ReportEvent._meta.db_table)
    tables = [DailyRollup, MonthlyRollup, WorkerDailyRollup, DailyStreetRollup,
              MonthlyCategoryRollup, MonthlyGridRollup]
    with connection.cursor() as cursor:
        # A city's events sorted by case, then by rollup key: in memory where it fits.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Compiling ~100 aggregate expressions took longer than running them.
        cursor.execute("SET LOCAL jit = off")
        # The durations (a sixth of the daily keys) join the counters by hash: a merge
        # join sorted all the daily rows first.
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute("TRUNCATE " + ", ".join(q(m._meta.db_table) for m in tables))
        cursor.execute(f"SELECT count(*) FROM {ev} WHERE id <= %s", [last_id])
        (events,) = cursor.fetchone()
        if not events:
            return 0
        # The calendar must cover every event of the folded cases (later ones too).
        cursor.execute(f"SELECT min(at), max(at) FROM {ev}")
        lo, hi = cursor.fetchone()
        first = lo.astimezone(calendar.tz).date() - timedelta(days=1)
        last = hi.astimezone(calendar.tz).date() + timedelta(days=1)
        params: dict[str, Any] = {
            "last": last_id, "day_zone": day_zone, "cal_zone": str(calendar.tz),
            "cal": _calendar_array(calendar, first, last),
        }
        sql = _statement((first - EPOCH).days, calendar)
        with _without_indexes(tables):
            cursor.execute(sql, params)
        for model in tables:
            cursor.execute(f"ANALYZE {q(model._meta.db_table)}")
    return int(events)


def _events(d0: int, calendar: WorkCalendar) -> str:
    """One row per event that counts (and per passed check, for the grid workers), with
    its rollup key, the case's frozen flags and, at a close, each stage's working time."""
    q = connection.ops.quote_name
    ev, rep = q(ReportEvent._meta.db_table), q(Report._meta.db_table)
    k = EventKind
    spans = {
        "accept": ("w.filed", "w.triage"),
        "dispatch": ("w.triage", "w.first_dispatch"),
        "handle": ("w.last_dispatch", "w.last_handled"),
        "verify": ("w.last_handled", "w.last_verified"),
        "total": ("w.filed", "w.lu"),
    }
    assert tuple(spans) == DURATION_STAGES
    us_columns = ",\n".join(
        f"CASE WHEN w.kind = {_lit(k.CLOSED)} AND NOT r.suspension_used "
        f"THEN {_span(a, b, d0, calendar)} END AS us_{stage}"
        for stage, (a, b) in spans.items()
    )
    dispatch_or_return = _kinds(k.DISPATCHED, k.RETURNED)
    triage = (f"(e.kind = {_lit(k.ACCEPTED)} OR (e.kind = {_lit(k.TRANSFERRED)} "
              f"AND e.from_state = {_lit(State.REPORTED)}))")
    return f"""
        SELECT w.kind, w.fr, w.day, w.actor_id, r.reporter_id, r.grid_id, r.community_id,
            r.street_id, r.district_id, r.source,
            CASE WHEN w.kind IN {dispatch_or_return} THEN w.department
                 ELSE COALESCE(mod(w.dept_before, {PACK}), 0) END AS department_id,
            CASE WHEN rc.last_id IS NULL OR rc.last_id < w.id THEN r.category_id
            ELSE COALESCE((
                SELECT NULLIF(NULLIF(h.data->'old'->>'category', ''), '0')::bigint
                FROM {ev} h
                WHERE h.report_id = w.report_id AND h.id > w.id
                  AND h.kind = {_lit(k.RECATEGORIZED)}
                ORDER BY h.id LIMIT 1), r.category_id) END AS category_id,
            COALESCE(r.accept_on_time, FALSE) AS accept_on_time,
            COALESCE(r.closed_on_time, FALSE) AS closed_on_time,
            COALESCE(r.dispatch_on_time, FALSE) AS dispatch_on_time,
            COALESCE(r.handle_on_time, FALSE) AS handle_on_time,
            COALESCE(r.verify_on_time, FALSE) AS verify_on_time,
            COALESCE(r.suspension_used, FALSE) AS suspension_used,
            r.rework_count, r.extension_count,
            w.kind <> {_lit(k.DISPATCHED)} OR w.dispatches_before = 0 AS is_first,
            {us_columns}
        FROM (
            SELECT e.id, e.report_id, e.kind, e.day, e.lu, e.department, e.actor_id,
                e.from_state = {_lit(State.REPORTED)} AS fr,
                MAX(e.id * {PACK} + CASE WHEN e.kind = {_lit(k.DISPATCHED)}
                                         THEN e.department ELSE 0 END)
                    FILTER (WHERE e.kind IN {dispatch_or_return}) OVER before AS dept_before,
                COUNT(*) FILTER (WHERE e.kind = {_lit(k.DISPATCHED)}) OVER before
                    AS dispatches_before,
                COUNT(*) FILTER (WHERE e.kind = {_lit(k.HANDLED)}) OVER before
                    AS handled_before,
                MIN(e.lu) FILTER (WHERE e.kind = {_lit(k.FILED)}) OVER before AS filed,
                MIN(e.lu) FILTER (WHERE {triage}) OVER before AS triage,
                MIN(e.lu) FILTER (WHERE e.kind = {_lit(k.DISPATCHED)}) OVER before
                    AS first_dispatch,
                MAX(e.lu) FILTER (WHERE e.kind = {_lit(k.DISPATCHED)}) OVER before
                    AS last_dispatch,
                MAX(e.lu) FILTER (WHERE e.kind = {_lit(k.HANDLED)}) OVER before
                    AS last_handled,
                MAX(e.lu) FILTER (WHERE e.kind = {_lit(k.VERIFIED)}) OVER before
                    AS last_verified
            FROM (
                SELECT id, report_id, kind, from_state, actor_id,
                    (at AT TIME ZONE %(day_zone)s)::date AS day,
                    (EXTRACT(EPOCH FROM (at AT TIME ZONE %(cal_zone)s)) * 1000000)::bigint
                        AS lu,
                    COALESCE(NULLIF(data->>'department', '')::bigint, 0) AS department
                FROM {ev}
                WHERE kind IN {_kinds(*_COUNTED, k.VERIFIED)}
            ) e
            WINDOW before AS (PARTITION BY e.report_id ORDER BY e.id
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        ) w
        JOIN {rep} r ON r.id = w.report_id
        -- the cases ever recategorised (rare), with their last correction.
        LEFT JOIN (
            SELECT report_id, MAX(id) AS last_id FROM {ev}
            WHERE kind = {_lit(k.RECATEGORIZED)} GROUP BY report_id
        ) rc ON rc.report_id = w.report_id
        CROSS JOIN (SELECT %(cal)s::bigint[] AS cal) c
        WHERE w.id <= %(last)s
          AND NOT (w.kind = {_lit(k.TRANSFERRED)} AND NOT w.fr)
          AND NOT (w.kind = {_lit(k.HANDLED)} AND w.handled_before > 0)
          AND NOT (w.kind = {_lit(k.VERIFIED)} AND w.actor_id IS NULL)
    """


def _statement(d0: int, calendar: WorkCalendar) -> str:
    """All the rollups in one statement: the events ``x`` once (materialised), their
    counters by daily key ``a``, the durations of counted closes by daily key ``b`` (a
    sixth of the rows: the 65 duration sums are not run over the others), the daily rows
    ``d`` = a + b, the coarser tables as sums of a and b, and the grid workers' rows."""
    q = connection.ops.quote_name
    k = EventKind
    key = ", ".join(f"x.{c}" for c in _DAILY_KEY)
    counters = _counters()
    a_columns = ", ".join(
        [*(f"MAX(x.{c}) AS {c}" for c in _ANCESTORS),
         *(f"COUNT(*) FILTER (WHERE {cond}) AS {name}" for name, cond in counters.items())]
    )
    b_sums = []
    for field in SECS_FIELDS + HIST_FIELDS:
        if field.startswith("secs_"):
            stage = field[len("secs_"):]
            # working seconds, rounded half up, as rollup._fold_close rounds them.
            b_sums.append(f"COALESCE(SUM((x.us_{stage} + 500000) / 1000000), 0) AS {field}")
        else:
            _h, stage, bucket = field.split("_")
            b_sums.append(f"COUNT(*) FILTER (WHERE x.b_{stage} = {int(bucket)}) AS {field}")
    buckets = ", ".join(f"{_bucket(f'x.us_{s}')} AS b_{s}" for s in DURATION_STAGES)
    daily_cols = (*_DAILY_KEY, *_ANCESTORS, *ROLLUP_FIELDS)
    select_daily = ", ".join(
        [*(f"a.{c}" for c in _DAILY_KEY), *(f"a.{c}" for c in _ANCESTORS),
         *(f"a.{c}" for c in COUNTERS),
         *(f"COALESCE(b.{c}, 0)" for c in SECS_FIELDS + HIST_FIELDS)]
    )
    join = " AND ".join(f"b.{c} = a.{c}" for c in _DAILY_KEY)
    derived = ",\n".join(f"{name} AS ({sql})" for name, sql in _derived())
    fr = "x.fr"
    accepted = f"(x.kind = {_lit(k.ACCEPTED)} OR (x.kind = {_lit(k.TRANSFERRED)} AND {fr}))"
    verified = f"x.kind = {_lit(k.VERIFIED)}"
    return f"""
        WITH x AS MATERIALIZED ({_events(d0, calendar)}),
        a AS (
            SELECT {key}, {a_columns} FROM x WHERE NOT {verified} GROUP BY {key}
        ),
        b AS (
            SELECT {key}, MAX(x.street_id) AS street_id, {", ".join(b_sums)}
            FROM (SELECT x.*, {buckets} FROM x
                  WHERE x.kind = {_lit(k.CLOSED)} AND NOT x.suspension_used) x
            GROUP BY {key}
        ),
        d AS (
            INSERT INTO {q(DailyRollup._meta.db_table)} ({", ".join(q(c) for c in daily_cols)})
            SELECT {select_daily} FROM a LEFT JOIN b ON {join}
        ),
        {derived}
        INSERT INTO {q(WorkerDailyRollup._meta.db_table)}
            (day, user_id, grid_id, community_id, street_id, district_id,
             reported, triaged, valid, self_handled, verified, verify_on_time)
        SELECT x.day, CASE WHEN {verified} THEN x.actor_id ELSE x.reporter_id END, x.grid_id,
               MAX(x.community_id), MAX(x.street_id), MAX(x.district_id),
               COUNT(*) FILTER (WHERE x.kind IN {_kinds(k.FILED, k.SELF_HANDLED)}),
               COUNT(*) FILTER (WHERE x.kind IN {_kinds(k.SELF_HANDLED, k.REJECTED)}
                                OR {accepted} OR (x.kind = {_lit(k.MERGED)} AND {fr})),
               COUNT(*) FILTER (WHERE x.kind = {_lit(k.SELF_HANDLED)} OR {accepted}),
               COUNT(*) FILTER (WHERE x.kind = {_lit(k.SELF_HANDLED)}),
               COUNT(*) FILTER (WHERE {verified}),
               COUNT(*) FILTER (WHERE {verified} AND x.verify_on_time)
        FROM x
        WHERE x.kind IN {_kinds(k.FILED, k.SELF_HANDLED, k.ACCEPTED, k.REJECTED, k.VERIFIED)}
           OR (x.kind IN {_kinds(k.TRANSFERRED, k.MERGED)} AND {fr})
        GROUP BY 1, 2, 3
    """


def packable(last_event_id: int) -> bool:
    """Whether ids fit the packing above (else the caller folds in Python)."""
    top = Department.objects.aggregate(top=Max("id"))["top"] or 0
    return top < PACK and last_event_id < (1 << 63) // PACK


def _derived() -> list[tuple[str, str]]:
    """The monthly, street-day, category and grid tables as sums of the daily rows, read
    from the aggregates ``a`` (counters) and ``b`` (durations) that make them, not from
    the new table: CTEs by name."""
    q = connection.ops.quote_name
    month = "date_trunc('month', day)::date"

    def insert(model: Any, source: str, keys: tuple[str, ...], key_sql: tuple[str, ...],
               carried: tuple[str, ...], summed: tuple[str, ...]) -> str:
        columns = ", ".join(q(c) for c in (*keys, *carried, *summed))
        select = ", ".join((*key_sql, *(f"MAX({q(c)})" for c in carried),
                            *(f"SUM({q(c)})" for c in summed)))
        group = ", ".join(str(i + 1) for i in range(len(keys)))
        return (f"INSERT INTO {q(model._meta.db_table)} ({columns}) "
                f"SELECT {select} FROM {source} GROUP BY {group}")

    durations = SECS_FIELDS + HIST_FIELDS
    monthly_b = ", ".join(f"SUM({c}) AS {c}" for c in durations)
    monthly = (
        f"SELECT ma.*, {', '.join(f'COALESCE(mb.{c}, 0) AS {c}' for c in durations)} "
        f"FROM (SELECT {month} AS day, street_id, department_id, MAX(district_id) AS district_id, "
        f"{', '.join(f'SUM({c}) AS {c}' for c in COUNTERS)} FROM a GROUP BY 1, 2, 3) ma "
        f"LEFT JOIN (SELECT {month} AS day, street_id, department_id, {monthly_b} "
        f"FROM b GROUP BY 1, 2, 3) mb USING (day, street_id, department_id)"
    )
    columns = ("day", "street_id", "department_id", "district_id", *COUNTERS, *durations)
    return [
        ("m", f"INSERT INTO {q(MonthlyRollup._meta.db_table)} "
              f"({', '.join(q(c) for c in columns)}) {monthly}"),
        ("s", insert(DailyStreetRollup, "a", ("day", "street_id"), ("day", "street_id"),
                     ("district_id",), TREND_COUNTERS)),
        ("c", insert(MonthlyCategoryRollup, "a", ("day", "street_id", "category_id"),
                     (month, "street_id", "category_id"), ("district_id",), ("reported",))),
        ("g", insert(MonthlyGridRollup, "a", ("day", "grid_id"), (month, "grid_id"),
                     ("community_id", "street_id", "district_id"), ("reported", "overdue"))),
    ]


@contextmanager
def _without_indexes(models: list[Any]) -> Iterator[None]:
    """Drop the tables' indexes, unique constraints and primary keys while they are
    filled, and build them again after: one sort per index instead of an insert per row
    (the same names, so the migrations still find them)."""
    q = connection.ops.quote_name
    primary: dict[str, str] = {}
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            constraints = connection.introspection.get_constraints(cursor, table)
            primary[table] = next(n for n, c in constraints.items() if c["primary_key"])
    with connection.schema_editor() as editor:
        for model in models:
            for constraint in model._meta.constraints:
                editor.remove_constraint(model, constraint)
            for index in model._meta.indexes:
                editor.remove_index(model, index)
            table = model._meta.db_table
            editor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(primary[table])}")
    yield
    with connection.schema_editor() as editor:
        for model in models:
            table = model._meta.db_table
            editor.execute(
                f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(primary[table])} PRIMARY KEY "
                f"({q(model._meta.pk.column)})"
            )
            for constraint in model._meta.constraints:
                editor.add_constraint(model, constraint)
            for index in model._meta.indexes:
                editor.add_index(model, index)
