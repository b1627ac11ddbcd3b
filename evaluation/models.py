"""Evaluation (综合评价) models: daily rollups of the case events, and dated score weights.

The rollups are counters only, written by ``evaluation.rollup`` and nowhere else: the
incremental catch-up over ``ReportEvent`` rows past ``RollupCursor.last_event_id`` and the
rebuild from all events run the same code, so they give the same numbers. See
docs/evaluation.md for what each counter counts and at which event.
"""

from __future__ import annotations

from django.conf import settings
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


class RollupKey(models.Model):
    """The key columns shared by the rollup tables (abstract)."""

    day = models.DateField(_("日期"))
    grid = models.ForeignKey(
        "grids.Region", verbose_name=_("网格"), related_name="+", on_delete=models.PROTECT
    )
    # The grid's ancestors, copied from the case: a table by street is one GROUP BY on an
    # indexed column instead of a join to the tree.
    community = models.ForeignKey(
        "grids.Region", verbose_name=_("社区"), related_name="+", on_delete=models.PROTECT
    )
    street = models.ForeignKey(
        "grids.Region", verbose_name=_("街道"), related_name="+", on_delete=models.PROTECT
    )
    district = models.ForeignKey(
        "grids.Region", verbose_name=_("区"), related_name="+", on_delete=models.PROTECT
    )
    department = models.ForeignKey(
        "grids.Department",
        verbose_name=_("处置部门"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    category = models.ForeignKey(
        "reports.Category", verbose_name=_("类别"), related_name="+", on_delete=models.PROTECT
    )
    source = models.CharField(_("来源"), max_length=16)

    class Meta:
        abstract = True


class DailyRollup(RollupKey):
    """Counters per day × grid × department × category × source."""

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
        verbose_name = _("日统计")
        verbose_name_plural = _("日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "grid", "department", "category", "source"],
                name="evaluation_rollup_key",
                nulls_distinct=False,
            )
        ]
        indexes = [
            # the city-wide or district tables by street over a date range.
            models.Index(fields=["day", "district", "street"], name="evaluation_day_district"),
            # a street's table by community / grid.
            models.Index(fields=["street", "day"], name="evaluation_street_day"),
            # a department's own figures.
            models.Index(fields=["department", "day"], name="evaluation_dept_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id}/{self.department_id}/{self.category_id}/{self.source}"


WORKER_COUNTERS: tuple[str, ...] = (
    "reported",
    "triaged",
    "valid",
    "self_handled",
    "verified",
    "verify_on_time",
)


class WorkerDailyRollup(models.Model):
    """A grid worker's own counters per day: reports they filed and checks they made."""

    day = models.DateField(_("日期"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("网格员"), related_name="+",
        on_delete=models.CASCADE,
    )
    grid = models.ForeignKey(
        "grids.Region", verbose_name=_("网格"), related_name="+", on_delete=models.PROTECT
    )
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
            models.UniqueConstraint(fields=["day", "user", "grid"], name="evaluation_worker_key")
        ]
        # the worker table of a region: rows of a date range (day is the constraint's prefix).

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
