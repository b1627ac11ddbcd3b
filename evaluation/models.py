"""Evaluation (综合评价) models: daily rollups of the case events, and dated score weights.

The rollups are counters only, written by ``evaluation.rollup`` and nowhere else: the
incremental catch-up over ``ReportEvent`` rows past ``RollupCursor.last_event_id`` and the
rebuild from all events run the same code, so they give the same numbers. See
docs/evaluation.md for what each counter counts and at which event.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The counters of one rollup row, in the order of docs/evaluation.md. Each is the number of
# cases (or events, where the doc says so) decided on that day for that key.
COUNTERS: tuple[str, ...] = (
    "reported",  # 上报数: filed (incl. self-handled) — FILED / SELF_HANDLED
    "triaged",  # 核实数: triage decided — accepted, transferred up, rejected, merged, self-handled
    "valid",  # 有效上报数: accepted + transferred up from reported + self-handled
    "accepted",  # 立案数: accepted + transferred up from reported
    "accept_on_time",  # 按时立案数: of the above, accept_on_time
    "rejected",  # 不予立案数
    "merged",  # 合并数 at triage (duplicates)
    "merged_late",  # merged after 立案: leaves 应结案数
    "self_handled",  # 自处数
    "dispatched",  # 派遣数: cases, at their first dispatch
    "dispatch_events",  # 派遣次数: every dispatch, to the department it went to
    "returns",  # 回退次数: by the department that returned it
    "handled",  # 处置数: cases, at their first "handled" report
    "closed",  # 结案数 (CLOSED events; self-handled cases are counted apart)
    "closed_suspended",  # 结案中曾挂账: left out of the on-time denominators
    "closed_on_time",  # 按期结案数 (not suspended)
    "dispatch_on_time",  # 按时派遣数, frozen flag read at close (not suspended)
    "handle_on_time",  # 按期处置数, frozen flag read at close (not suspended)
    "verify_on_time",  # 按时核查数, frozen flag read at close (not suspended)
    "reworked",  # 返工案件数, at close
    "extended",  # 延期案件数, at close
    "suspended",  # 挂账数: SUSPENSION_GRANTED events
    "urged",  # 督办数: URGED events
    "overdue",  # 超期数: OVERDUE events (a stage went past its deadline)
)

# Stages whose durations (working hours) are summed at close.
DURATION_STAGES: tuple[str, ...] = ("accept", "dispatch", "handle", "verify", "total")
# Upper bounds (working hours) of the duration histogram buckets; the last is open.
DURATION_BUCKETS: tuple[float, ...] = (0.25, 0.5, 1, 2, 4, 8, 16, 40, 80, 160, 400)
HIST_FIELDS: tuple[str, ...] = tuple(
    f"h_{stage}_{i}" for stage in DURATION_STAGES for i in range(len(DURATION_BUCKETS) + 1)
)
SECS_FIELDS: tuple[str, ...] = tuple(f"secs_{stage}" for stage in DURATION_STAGES)
# Every summed column of DailyRollup and MonthlyRollup.
ROLLUP_FIELDS: tuple[str, ...] = COUNTERS + SECS_FIELDS + HIST_FIELDS
# The bucket bounds in microseconds: durations are bucketed exactly, in integers, so the
# Python fold and the SQL rebuild put a case in the same bucket.
BUCKET_BOUNDS_US: tuple[int, ...] = tuple(
    int(Decimal(str(hours)) * 3_600_000_000) for hours in DURATION_BUCKETS
)


class Counters(models.Model):
    """The counters of a rollup row (abstract); see COUNTERS and docs/evaluation.md."""

    reported = models.PositiveIntegerField(default=0)
    triaged = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    accept_on_time = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    merged_late = models.PositiveIntegerField(default=0)
    self_handled = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    dispatch_events = models.PositiveIntegerField(default=0)
    returns = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_suspended = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    dispatch_on_time = models.PositiveIntegerField(default=0)
    handle_on_time = models.PositiveIntegerField(default=0)
    verify_on_time = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    suspended = models.PositiveIntegerField(default=0)
    urged = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    # Working seconds summed over closed, not suspended cases, per stage (averages);
    # integers, so the incremental and the rebuilt sums are exactly equal.
    secs_accept = models.PositiveBigIntegerField(default=0)
    secs_dispatch = models.PositiveBigIntegerField(default=0)
    secs_handle = models.PositiveBigIntegerField(default=0)
    secs_verify = models.PositiveBigIntegerField(default=0)
    secs_total = models.PositiveBigIntegerField(default=0)
    # Duration histograms h_<stage>_<bucket> (DURATION_BUCKETS) for the medians.
    for _stage in DURATION_STAGES:
        for _i in range(len(DURATION_BUCKETS) + 1):
            locals()[f"h_{_stage}_{_i}"] = models.PositiveIntegerField(default=0)
    del _stage, _i

    class Meta:
        abstract = True


# Key columns are plain integers, not foreign keys: the rollups are derived data, rebuilt
# from the events, and a foreign key would add an index and a check to every write.
# department_id 0 means "at no department" (triage at the center); category_id is the
# minor category; the grid's ancestors are copied so a table by street is one GROUP BY.


class DailyRollup(Counters):
    """Counters per day × grid × department × category × source."""

    day = models.DateField(_("日期"))
    grid_id = models.IntegerField(_("网格"))
    community_id = models.IntegerField(_("社区"))
    street_id = models.IntegerField(_("街道"))
    district_id = models.IntegerField(_("区"))
    department_id = models.IntegerField(_("处置部门"), default=0)
    category_id = models.IntegerField(_("类别"))
    source = models.CharField(_("来源"), max_length=16)

    class Meta:
        verbose_name = _("日统计")
        verbose_name_plural = _("日统计")
        constraints = [
            # the upsert's conflict target.
            models.UniqueConstraint(
                fields=["day", "grid_id", "department_id", "category_id", "source"],
                name="evaluation_rollup_key",
            )
        ]
        indexes = [
            # a district's or street's table over a date range.
            models.Index(fields=["district_id", "day"], name="evaluation_district_day"),
            models.Index(fields=["street_id", "day"], name="evaluation_street_day"),
            # a department's own figures.
            models.Index(fields=["department_id", "day"], name="evaluation_dept_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id}/{self.department_id}/{self.category_id}/{self.source}"


class MonthlyRollup(Counters):
    """The same counters per month × street × department: the city-wide monthly tables by
    district, street or department read a few thousand rows whatever the case count."""

    day = models.DateField(_("月份"))  # the first day of the month
    street_id = models.IntegerField(_("街道"))
    district_id = models.IntegerField(_("区"))
    department_id = models.IntegerField(_("处置部门"), default=0)

    class Meta:
        verbose_name = _("月统计")
        verbose_name_plural = _("月统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "street_id", "department_id"], name="evaluation_monthly_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} {self.street_id}/{self.department_id}"


# The counters the leader's screen reads per day (trend, today's figures): reports,
# closures and what 按期结案率 needs (应结案数 = 立案数 − 挂账数 − 立案后合并数).
TREND_COUNTERS: tuple[str, ...] = (
    "reported", "accepted", "closed", "closed_on_time", "suspended", "merged_late",
)


class DailyStreetRollup(models.Model):
    """TREND_COUNTERS per day × street: the screen's daily trend and today's new / closed
    read about 300 rows a day for a whole city (the daily rollup has thousands)."""

    day = models.DateField(_("日期"))
    street_id = models.IntegerField(_("街道"))
    district_id = models.IntegerField(_("区"))
    reported = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    suspended = models.PositiveIntegerField(default=0)
    merged_late = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("街道日统计")
        verbose_name_plural = _("街道日统计")
        constraints = [
            # the upsert's conflict target; day first serves a city's or district's days.
            models.UniqueConstraint(fields=["day", "street_id"], name="evaluation_street_day_key")
        ]
        indexes = [
            # one street's days (a street center's screen).
            models.Index(fields=["street_id", "day"], name="evaluation_streetday_street"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.street_id}"


class MonthlyCategoryRollup(models.Model):
    """Reports per month × street × category (小类): the screen's top categories."""

    day = models.DateField(_("月份"))  # the first day of the month
    street_id = models.IntegerField(_("街道"))
    district_id = models.IntegerField(_("区"))
    category_id = models.IntegerField(_("类别"))
    reported = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("类别月统计")
        verbose_name_plural = _("类别月统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "street_id", "category_id"], name="evaluation_category_month_key"
            )
        ]
        indexes = [
            # The month's reports per category (the screen's top categories), read from
            # the index alone on PostgreSQL: a city's month is ~21,000 rows (street ×
            # category), and the scope filters use street_id, district_id or id.
            models.Index(
                fields=["day", "category_id"],
                include=["reported", "street_id", "district_id", "id"],
                name="evaluation_catmonth_top",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} {self.street_id}/{self.category_id}"


class MonthlyGridRollup(models.Model):
    """Reports and overdue stages per month × grid: the screen's hot spots. A grid has a
    row for a month whenever the daily rollup has one (even with nothing reported)."""

    day = models.DateField(_("月份"))  # the first day of the month
    grid_id = models.IntegerField(_("网格"))
    community_id = models.IntegerField(_("社区"))
    street_id = models.IntegerField(_("街道"))
    district_id = models.IntegerField(_("区"))
    reported = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("网格月统计")
        verbose_name_plural = _("网格月统计")
        constraints = [
            models.UniqueConstraint(fields=["day", "grid_id"], name="evaluation_grid_month_key")
        ]
        indexes = [
            # a month's grids with the most reports (the screen's hot spots).
            models.Index(fields=["day", "-reported"], name="evaluation_gridmonth_top"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} {self.grid_id}"


WORKER_COUNTERS: tuple[str, ...] = (
    "reported",
    "triaged",
    "valid",
    "self_handled",
    "verified",
    "verify_on_time",
)


class WorkerDailyRollup(models.Model):
    """A grid worker's own counters per day and grid: reports filed and checks made."""

    day = models.DateField(_("日期"))
    user_id = models.IntegerField(_("网格员"))
    grid_id = models.IntegerField(_("网格"))
    community_id = models.IntegerField(_("社区"))
    street_id = models.IntegerField(_("街道"))
    district_id = models.IntegerField(_("区"))
    reported = models.PositiveIntegerField(default=0)
    triaged = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    self_handled = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    verify_on_time = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("网格员日统计")
        verbose_name_plural = _("网格员日统计")
        constraints = [
            # the upsert's conflict target; day first also serves the date-range reads.
            models.UniqueConstraint(
                fields=["day", "user_id", "grid_id"], name="evaluation_worker_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id}"


class RollupCursor(models.Model):
    """The id of the last ReportEvent folded into the rollups (a singleton, pk = 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("统计进度")
        verbose_name_plural = _("统计进度")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="evaluation_cursor_singleton")
        ]

    def __str__(self) -> str:
        return str(self.last_event_id)


class ScoreKind(models.TextChoices):
    REGION = "region", _("区域考核")
    DEPARTMENT = "department", _("部门考核")
    WORKER = "worker", _("网格员考核")


class ScoreWeights(models.Model):
    """The weights of one score, for one city, in force from a date (考核权重).

    A period is scored with the row in force on its first day, so adding a new row later
    never changes a past period's score."""

    city = models.ForeignKey(
        "grids.Region",
        verbose_name=_("城市"),
        related_name="+",
        on_delete=models.CASCADE,
        limit_choices_to={"level": 0},
    )
    kind = models.CharField(_("考核对象"), max_length=12, choices=ScoreKind.choices)
    valid_from = models.DateField(_("生效日期"))
    # {rate key: weight in percent}; the weights sum to 100.
    weights = models.JSONField(_("权重"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("考核权重")
        verbose_name_plural = _("考核权重")
        ordering = ["city", "kind", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "kind", "valid_from"], name="evaluation_weights_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.valid_from:%Y-%m-%d}"
