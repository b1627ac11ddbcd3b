"""The data of the leader's screen (领导驾驶舱): one dict, put into the page with
``json_script`` and refreshed from the JSON view; every string is shown as text."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import shapely
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import mapping, shape

from evaluation import rates as r
from evaluation.models import (
    TREND_COUNTERS,
    DailyStreetRollup,
    MonthlyCategoryRollup,
    MonthlyGridRollup,
)
from evaluation.selectors import (
    LEVEL_COLUMN,
    EvalScope,
    Period,
    child_column,
    grouped,
    only_city,
    period_for,
    rollups_for,
    screen_rollup,
    sums_by,
    top_by_reported,
    top_grids_of_month,
    totals,
)
from grids.models import Level, Region
from reports.models import OPEN_STATES, Category, Report
from reports.selectors import reports_visible_to

MAP_RATES = ("close_on_time_rate", "handle_on_time_rate", "close_rate", "valid_rate",
             "accept_on_time_rate", "rework_rate", "return_rate", "self_handled_rate")
HEAT_POINTS = 2000
OUTLINE_TTL = 3600


def outline(region: Region) -> dict[str, Any] | None:
    """The region's outline as GeoJSON: its own boundary, else the union of its grids'
    (cached; shapely only, no map service)."""
    if region.boundary:
        return dict(region.boundary)
    key = f"evaluation:outline:{region.pk}:{region.updated_at:%s}"
    cached = cache.get(key)
    if cached is not None:
        return dict(cached)
    polygons = []
    for b in Region.objects.filter(
        tree_id=region.tree_id, lft__gte=region.lft, rght__lte=region.rght,
        level=Level.GRID, boundary__isnull=False,
    ).values_list("boundary", flat=True):
        try:
            polygons.append(shape(b))
        except (ValueError, TypeError, AttributeError, KeyError):
            continue
    if not polygons:
        return None
    merged = shapely.union_all(polygons).simplify(0.0005)
    geo = dict(mapping(merged))
    cache.set(key, geo, OUTLINE_TTL)
    return geo


def _in_region(qs: QuerySet[Report], region: Region | None) -> QuerySet[Report]:
    if region is None:
        return qs
    if region.level == Level.CITY:
        if only_city(region):
            # The only city: every case is in it, and the counts below stay index-only
            # (a join to the districts made them read every overdue case's row).
            return qs
        return qs.filter(district__parent_id=region.pk)
    return qs.filter(**{f"{LEVEL_COLUMN[region.level]}_id": region.pk})


def screen_data(user: Any, scope: EvalScope, q: Any) -> dict[str, Any]:
    region: Region | None = q.top
    period = q.period
    rate_key = q.rate if getattr(q, "rate", None) in MAP_RATES else MAP_RATES[0]
    today = period_for("day", timezone.localdate())
    # The daily rollup, for what the screen's own tables cannot answer (screen_rollup).
    base = rollups_for(scope, period, region=region, group="day")
    now_totals = totals(rollups_for(scope, period, region=region))
    prev_totals = totals(rollups_for(scope, period.previous(), region=region))
    street_days = screen_rollup(DailyStreetRollup, scope, today, region=region)
    today_totals = (
        totals(rollups_for(scope, today, region=region)) if street_days is None
        else {"reported": 0, "closed": 0,
              **sums_by(street_days, "day", ("reported", "closed")).get(today.start, {})}
    )
    visible = _in_region(reports_visible_to(user), region)
    overdue_open = visible.filter(state__in=OPEN_STATES, is_overdue=True)

    # Map: the children of the region, coloured by the chosen rate.
    column = child_column(region) if region is not None else "district"
    by_child = grouped(rollups_for(scope, period, region=region, group=f"{column}_id"),
                       f"{column}_id")
    children = (
        list(region.get_children()) if region is not None and region.level < Level.GRID
        else list(Region.objects.filter(pk__in=[k for k in by_child if k]))
    )
    features, values = [], []
    for child in children:
        geo = outline(child)
        value = r.RATES_BY_KEY[rate_key].value(by_child.get(child.pk, {}))
        if geo is not None:
            features.append({"type": "Feature", "properties": {"name": child.name},
                             "geometry": geo})
        values.append({"name": child.name, "value": float(value) if value is not None else None,
                       "reported": by_child.get(child.pk, {}).get("reported", 0)})

    # Trend: per day of the period (at most the last 92 days of it).
    trend_start = max(period.start, period.end - timedelta(days=91))
    trend_period = Period(period.kind, trend_start, period.end)
    street_days = screen_rollup(DailyStreetRollup, scope, trend_period, region=region)
    days = (
        grouped(base.filter(day__gte=trend_start), "day") if street_days is None
        else sums_by(street_days, "day", TREND_COUNTERS)
    )
    # Days after today have no figures yet: null, so the lines stop at today instead of
    # falling to 0 for the rest of the month.
    trend = []
    day = trend_start
    while day <= period.end:
        c = days.get(day, {})
        rate = r.RATES_BY_KEY["close_on_time_rate"].value(c)
        future = day > today.start
        trend.append({"day": day.isoformat(),
                      "reported": None if future else c.get("reported", 0),
                      "closed": None if future else c.get("closed", 0),
                      "close_on_time_rate": float(rate) if rate is not None else None})
        day += timedelta(days=1)

    categories = screen_rollup(MonthlyCategoryRollup, scope, period, region=region)
    by_minor = sums_by(base if categories is None else categories, "category_id", ("reported",))
    majors: dict[str, int] = {}
    for minor in Category.objects.filter(pk__in=list(by_minor)).select_related("parent"):
        name = minor.parent.name if minor.parent else minor.name
        majors[name] = majors.get(name, 0) + by_minor[minor.pk].get("reported", 0)
    top_categories = [
        {"name": name, "reported": n}
        for name, n in sorted(majors.items(), key=lambda x: (-x[1], x[0]))[:8]
    ]
    # The grids with the most reports (ties at the 8th kept, then broken by name).
    grid_rows = screen_rollup(MonthlyGridRollup, scope, period, region=region)
    one_month = period.start.replace(day=1) == period.end.replace(day=1)
    grids = (
        top_by_reported(base, "grid_id", 8) if grid_rows is None
        else top_grids_of_month(grid_rows, period.start, 8) if one_month
        else top_by_reported(grid_rows, "grid_id", 8)
    )
    grid_names = dict(Region.objects.filter(pk__in=list(grids)).values_list("pk", "name"))
    hot_spots = sorted(
        ({"name": grid_names.get(k, "—"), "reported": v.get("reported", 0),
          "overdue": v.get("overdue", 0)} for k, v in grids.items()),
        key=lambda x: (-x["reported"], x["name"]),
    )[:8]
    start = datetime.combine(period.start, time.min, tzinfo=timezone.get_current_timezone())
    end = start + timedelta(days=period.days)
    # The period's newest cases, read in the order of the creation-time index.
    heat = list(
        visible.filter(created_at__gte=start, created_at__lt=end, lat__isnull=False)
        .order_by("-created_at", "-pk").values_list("lat", "lng")[:HEAT_POINTS]
    )
    # Ids first, then the 15 rows with their joins: joining before the LIMIT made
    # PostgreSQL join all of a city's overdue cases (44,000 at 1,000,000 cases).
    newest = list(overdue_open.order_by("-pk").values_list("pk", flat=True)[:15])
    overdue = [
        {"number": c.number, "category": str(c.category), "street": c.street.name,
         "state": str(c.get_state_display()),
         "department": c.department.name if c.department else ""}
        for c in Report.objects.filter(pk__in=newest)
        .select_related("category__parent", "street", "department")
        .order_by("-pk")
    ]

    def pct(key: str, counts: dict[str, int]) -> float | None:
        v = r.RATES_BY_KEY[key].value(counts)
        return float(v) if v is not None else None

    return {
        "title": _("%(place)s 综合评价") % {"place": region.name if region else _("全部区域")},
        "period": period.label(),
        "rate": {"key": rate_key, "label": str(r.RATES_BY_KEY[rate_key].label)},
        # Series and tooltip names for the page script, in the reader's language.
        "labels": {
            "reported": _("上报"),
            "closed": _("结案"),
            "close_on_time_rate": str(r.RATES_BY_KEY["close_on_time_rate"].label),
        },
        "kpi": {
            "today_new": today_totals["reported"], "today_closed": today_totals["closed"],
            "overdue_open": overdue_open.count(),
            "reported": now_totals["reported"], "closed": now_totals["closed"],
            "close_on_time_rate": pct("close_on_time_rate", now_totals),
            "close_on_time_rate_prev": pct("close_on_time_rate", prev_totals),
            "handle_on_time_rate": pct("handle_on_time_rate", now_totals),
            "valid_rate": pct("valid_rate", now_totals),
        },
        "map": {"geojson": {"type": "FeatureCollection", "features": features},
                "values": values},
        "trend": trend,
        "categories": top_categories,
        "hot_spots": hot_spots,
        "heat": [[lat, lng] for lat, lng in heat],
        "overdue": overdue,
        "updated": timezone.localtime().strftime("%H:%M:%S"),
    }
