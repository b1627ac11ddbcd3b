"""Reports app models.

Sections:
- Work calendar: the office hours and the day overrides (holidays, make-up working days)
  that working-time limits are counted in. Written only through ``reports.calendar``,
  which also replaces ``WorkSchedule.revision`` so every process reloads its cached
  calendar (see docs/time-limits.md).
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.sla import LimitUnit, format_amount

# ---------------------------------------------------------------------------------------
# Work calendar
# ---------------------------------------------------------------------------------------


class WorkSchedule(models.Model):
    """The office hours of a working day: a morning and an afternoon period.

    A singleton (pk = 1, enforced by a check constraint). ``revision`` is a random
    token replaced in the same transaction as any change to the schedule or to the
    WorkDay table; processes compare it with the one their cached calendar was built
    from. Random rather than a counter, so a rolled-back change can never be mistaken
    for a later committed one with the same number.
    """

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    morning_start = models.TimeField(_("上午上班"), default=time(8, 30))
    morning_end = models.TimeField(_("上午下班"), default=time(12, 0))
    afternoon_start = models.TimeField(_("下午上班"), default=time(13, 30))
    afternoon_end = models.TimeField(_("下午下班"), default=time(17, 30))
    revision = models.BigIntegerField(_("版本"), default=0, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("工作时间")
        verbose_name_plural = _("工作时间")
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="workschedule_singleton",
                violation_error_message=_("工作时间只能有一条设置。"),
            ),
            models.CheckConstraint(
                condition=Q(morning_start__lt=F("morning_end"))
                & Q(morning_end__lte=F("afternoon_start"))
                & Q(afternoon_start__lt=F("afternoon_end")),
                name="workschedule_periods_in_order",
                violation_error_message=_(
                    "工作时段须按先后排列：上午上班 < 上午下班 ≤ 下午上班 < 下午下班。"
                ),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.morning_start:%H:%M}–{self.morning_end:%H:%M}, "
            f"{self.afternoon_start:%H:%M}–{self.afternoon_end:%H:%M}"
        )

    @property
    def periods(self) -> tuple[tuple[time, time], ...]:
        return (
            (self.morning_start, self.morning_end),
            (self.afternoon_start, self.afternoon_end),
        )


class WorkDay(models.Model):
    """A day that is not what Monday–Friday would say, or that carries a note.

    Public holidays (is_working = False, also on the weekend days inside a holiday) and
    make-up working days (调休, is_working = True on a Saturday or Sunday). Days without
    a row follow Monday–Friday. Rows seeded from chinese-calendar may be replaced by a
    reseed; rows an administrator saved (source = admin) never are.
    """

    class Source(models.TextChoices):
        CHINESE_CALENDAR = "chinese_calendar", _("chinese-calendar 导入")
        ADMIN = "admin", _("管理员维护")

    # unique: also the index behind the per-year range queries of seeding and coverage.
    date = models.DateField(_("日期"), unique=True)
    is_working = models.BooleanField(_("工作日"))
    note = models.CharField(_("说明"), max_length=64, blank=True)
    source = models.CharField(
        _("来源"), max_length=20, choices=Source.choices, default=Source.ADMIN
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_working else _("休息")
        return f"{self.date:%Y-%m-%d} {kind} {self.note}".rstrip()


# ---------------------------------------------------------------------------------------
# Categories, filing standards, stage limits
# ---------------------------------------------------------------------------------------


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("部件")
    EVENT = "event", _("事件")


class Category(models.Model):
    """A case category: 大类 (major, no parent) or 小类 (minor, under a major).

    In the shape of CJ/T 214 / GB/T 30428 (部件 and 事件 classes), loaded per city.
    """

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=12, choices=CategoryKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("大类"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )
    keywords = models.CharField(_("检索词"), max_length=200, blank=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    # How far around a new report the filing page looks for open cases of the same
    # category ("附近已有相同问题"); a fallen tree is seen from further than litter.
    nearby_radius_m = models.PositiveIntegerField(
        _("附近同类案件半径（米）"),
        default=50,
        help_text=_("上报前提示该半径内未办结的同类案件"),
    )

    class Meta:
        verbose_name = _("案件类别")
        verbose_name_plural = _("案件类别")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name if self.parent is None else f"{self.parent.name}›{self.name}"

    @property
    def is_minor(self) -> bool:
        return self.parent_id is not None


class FilingStandard(models.Model):
    """A filing standard (立案条件) of a minor category, with its handling time limit and
    closing condition (结案条件), e.g. 井盖缺失: 2 紧急工作时, 恢复."""

    category = models.ForeignKey(
        Category, verbose_name=_("小类"), related_name="standards", on_delete=models.CASCADE
    )
    code = models.CharField(_("代码"), max_length=40, unique=True)
    condition = models.CharField(_("立案条件"), max_length=200)
    limit_amount = models.DecimalField(_("处置时限"), max_digits=7, decimal_places=2)
    limit_unit = models.CharField(_("时限单位"), max_length=16, choices=LimitUnit.choices)
    closing_condition = models.CharField(_("结案条件"), max_length=200)
    is_urgent = models.BooleanField(_("紧急"), default=False)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("立案条件")
        verbose_name_plural = _("立案条件")
        ordering = ["category", "sort", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(limit_amount__gt=0), name="reports_standard_limit_pos"
            )
        ]

    def __str__(self) -> str:
        amount = format_amount(self.limit_amount)
        return f"{self.condition}（{amount}{self.get_limit_unit_display()}）"


class Stage(models.TextChoices):
    ACCEPT = "accept", _("立案")
    DISPATCH = "dispatch", _("派遣")
    HANDLE = "handle", _("处置")
    VERIFY = "verify", _("核查")


class StageLimit(models.Model):
    """The time limit of a triage stage (accept, dispatch, verify); handling's limit comes
    from the filing standard."""

    stage = models.CharField(_("环节"), max_length=12, choices=Stage.choices, unique=True)
    amount = models.DecimalField(_("时限"), max_digits=7, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=16, choices=LimitUnit.choices)

    class Meta:
        verbose_name = _("环节时限")
        verbose_name_plural = _("环节时限")

    def __str__(self) -> str:
        return f"{self.get_stage_display()}：{format_amount(self.amount)}{self.get_unit_display()}"


# ---------------------------------------------------------------------------------------
# Routing rules
# ---------------------------------------------------------------------------------------


class DispatchLevel(models.TextChoices):
    STREET = "street", _("街道")
    DISTRICT = "district", _("区级")


class RoutingMode(models.TextChoices):
    AUTO = "auto", _("自动派遣")
    PROPOSE = "propose", _("建议派遣")


class RoutingRule(models.Model):
    """Reports of this category (or subtree) inside this region (or subtree) go to this
    department; see docs/routing-rules.md for how the most specific rule wins."""

    category = models.ForeignKey(
        Category, verbose_name=_("类别"), related_name="rules", on_delete=models.CASCADE
    )
    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("区划"),
        related_name="routing_rules",
        on_delete=models.CASCADE,
    )
    department = models.ForeignKey(
        "grids.Department",
        verbose_name=_("处置部门"),
        related_name="routing_rules",
        on_delete=models.CASCADE,
    )
    level = models.CharField(_("派遣层级"), max_length=10, choices=DispatchLevel.choices)
    mode = models.CharField(_("方式"), max_length=10, choices=RoutingMode.choices)
    priority = models.IntegerField(_("优先级"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_until = models.DateField(_("失效日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    # Part of the signature that tells each process its cached rule table is stale.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("分拨规则")
        verbose_name_plural = _("分拨规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="reports_rule_window_order",
            )
        ]
        indexes = [
            # loading the rule table: active rules only.
            models.Index(fields=["is_active"], name="reports_rule_active"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category} × {self.region.name} → {self.department}"


# ---------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------


class State(models.TextChoices):
    REPORTED = "reported", _("待立案")
    ACCEPTED = "accepted", _("已立案待派遣")
    TRANSFERRED = "transferred", _("已上报区级")
    DISPATCHED = "dispatched", _("已派遣待签收")
    ACKNOWLEDGED = "acknowledged", _("处置中")
    HANDLED = "handled", _("已反馈待核查")
    VERIFIED = "verified", _("核查通过待结案")
    CLOSED = "closed", _("已结案")
    REJECTED = "rejected", _("不予立案")
    MERGED = "merged", _("已合并")


OPEN_STATES = frozenset(
    {
        State.REPORTED,
        State.ACCEPTED,
        State.TRANSFERRED,
        State.DISPATCHED,
        State.ACKNOWLEDGED,
        State.HANDLED,
        State.VERIFIED,
    }
)


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员上报")
    RESIDENT = "resident", _("居民随手拍")
    HOTLINE = "hotline", _("12345热线")
    INSPECTION = "inspection", _("巡查发现")
    LEADER = "leader", _("领导交办")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Report(models.Model):
    """A case (案件): one problem found in the street, from filing to closing.

    State changes only through ``reports.workflow``; every change leaves a
    ``ReportEvent``. The grid's community, street and district are copied on filing
    so that center inboxes filter on one indexed column.
    """

    number = models.CharField(_("案件编号"), max_length=32, unique=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices)
    source = models.CharField(
        _("来源"), max_length=16, choices=Source.choices, default=Source.GRID_WORKER
    )
    # The foreign keys below that lead a composite index (see Meta.indexes) have no
    # index of their own: the composite serves every lookup by that column, and a case
    # written or updated maintains one index fewer for each.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报人"),
        related_name="reports_filed",
        on_delete=models.PROTECT,
        db_index=False,
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=64)

    grid = models.ForeignKey(
        "grids.Region", verbose_name=_("网格"), related_name="+", on_delete=models.PROTECT,
        db_index=False,
    )
    community = models.ForeignKey(
        "grids.Region", verbose_name=_("社区"), related_name="+", on_delete=models.PROTECT
    )
    street = models.ForeignKey(
        "grids.Region", verbose_name=_("街道"), related_name="+", on_delete=models.PROTECT,
        db_index=False,
    )
    district = models.ForeignKey(
        "grids.Region", verbose_name=_("区"), related_name="+", on_delete=models.PROTECT,
        db_index=False,
    )
    building = models.ForeignKey(
        "grids.Building",
        verbose_name=_("楼栋"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    entrance = models.ForeignKey(
        "grids.Entrance",
        verbose_name=_("单元"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    category = models.ForeignKey(
        Category, verbose_name=_("类别"), related_name="reports", on_delete=models.PROTECT
    )
    standard = models.ForeignKey(
        FilingStandard,
        verbose_name=_("立案条件"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    urgency = models.CharField(
        _("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    description = models.TextField(_("问题描述"))

    # Where the case is now.
    department = models.ForeignKey(
        "grids.Department",
        verbose_name=_("处置部门"),
        null=True,
        blank=True,
        related_name="reports",
        on_delete=models.PROTECT,
        db_index=False,  # reports_dept_state / reports_dept_created lead with it
    )
    dispatch_level = models.CharField(
        _("派遣层级"), max_length=10, choices=DispatchLevel.choices, blank=True
    )
    proposed_department = models.ForeignKey(
        "grids.Department",
        verbose_name=_("建议处置部门"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并到"),
        null=True,
        blank=True,
        related_name="duplicates",
        on_delete=models.PROTECT,
    )
    self_handled = models.BooleanField(_("自处"), default=False)

    # Routing runs when route_version > routed_version (filing, recategorisation).
    route_version = models.PositiveIntegerField(_("分拨版本"), default=1)
    routed_version = models.PositiveIntegerField(_("已分拨版本"), default=0)
    routed_at = models.DateTimeField(_("分拨时间"), null=True, blank=True)

    # Stage clocks: the deadline of the running stage, and on-time flags frozen when
    # each stage ends (statistics never recompute history).
    accept_due = models.DateTimeField(_("立案时限"), null=True, blank=True)
    dispatch_due = models.DateTimeField(_("派遣时限"), null=True, blank=True)
    handle_started = models.DateTimeField(_("处置开始"), null=True, blank=True)
    handle_due = models.DateTimeField(_("处置时限"), null=True, blank=True)
    verify_due = models.DateTimeField(_("核查时限"), null=True, blank=True)
    accept_on_time = models.BooleanField(_("按期立案"), null=True, blank=True)
    dispatch_on_time = models.BooleanField(_("按期派遣"), null=True, blank=True)
    handle_on_time = models.BooleanField(_("按期处置"), null=True, blank=True)
    verify_on_time = models.BooleanField(_("按期核查"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("按期结案"), null=True, blank=True)

    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    suspended = models.BooleanField(_("挂账中"), default=False)
    suspension_used = models.BooleanField(_("已挂账"), default=False)
    suspended_at = models.DateTimeField(_("挂账开始"), null=True, blank=True)
    suspended_until = models.DateTimeField(_("挂账截止"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("回退次数"), default=0)
    urge_count = models.PositiveSmallIntegerField(_("督办次数"), default=0)
    is_overdue = models.BooleanField(_("超期"), default=False)
    overdue_notified_at = models.DateTimeField(_("超期通知时间"), null=True, blank=True)

    created_at = models.DateTimeField(_("上报时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        constraints = [
            # A retry of the same submission must not create a second case.
            models.UniqueConstraint(
                fields=["reporter", "idempotency_key"], name="reports_report_idempotency"
            ),
        ]
        indexes = [
            # street center inbox: cases of my street in a state, newest first.
            models.Index(fields=["street", "state", "-created_at"], name="reports_street_state"),
            # district center inbox.
            models.Index(
                fields=["district", "state", "-created_at"], name="reports_district_state"
            ),
            # department inbox.
            models.Index(fields=["department", "state", "-created_at"], name="reports_dept_state"),
            # grid worker's list.
            models.Index(fields=["grid", "state", "-created_at"], name="reports_grid_state"),
            # the unrouted sweep: route_version > routed_version.
            models.Index(
                fields=["created_at"],
                name="reports_unrouted",
                condition=Q(routed_version__lt=F("route_version")),
            ),
            # the overdue sweep over open cases.
            models.Index(fields=["state", "is_overdue"], name="reports_overdue"),
            # The case lists (admin changelist, newest first): each is read in index
            # order and stops after one page, so it costs the same at 10k and 1M cases.
            # Everyone's list; also the date filters (a range on created_at).
            models.Index(fields=["-created_at", "-id"], name="reports_created_desc"),
            # A street / district center's list, a department's list.
            models.Index(fields=["street", "-created_at", "-id"], name="reports_street_created"),
            models.Index(
                fields=["district", "-created_at", "-id"], name="reports_district_created"
            ),
            models.Index(
                fields=["department", "-created_at", "-id"], name="reports_dept_created"
            ),
            # The cases a user filed (every list includes them).
            models.Index(
                fields=["reporter", "-created_at", "-id"], name="reports_reporter_created"
            ),
            # … and those of them still open (the board and the triage queue add a center
            # staff's own filings, e.g. hotline cases: years of them, a few dozen open).
            models.Index(fields=["reporter", "state"], name="reports_reporter_state"),
            # A state filter on everyone's list.
            models.Index(fields=["state", "-created_at", "-id"], name="reports_state_created"),
        ]

    def __str__(self) -> str:
        return self.number


class EventKind(models.TextChoices):
    FILED = "filed", _("上报")
    SELF_HANDLED = "self_handled", _("自行处置")
    ROUTED = "routed", _("自动分拨")
    ROUTE_NONE = "route_none", _("无分拨规则")
    RECATEGORIZED = "recategorized", _("更正类别/位置")
    ACCEPTED = "accepted", _("立案")
    REJECTED = "rejected", _("不予立案")
    MERGED = "merged", _("合并")
    DISPATCHED = "dispatched", _("派遣")
    TRANSFERRED = "transferred", _("上报区级")
    SENT_DOWN = "sent_down", _("退回街道")
    ACKNOWLEDGED = "acknowledged", _("签收")
    RETURNED = "returned", _("回退")
    HANDLED = "handled", _("处置完毕")
    VERIFIED = "verified", _("核查通过")
    REWORK = "rework", _("核查不通过（返工）")
    CLOSED = "closed", _("结案")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_GRANTED = "extension_granted", _("批准延期")
    EXTENSION_REFUSED = "extension_refused", _("驳回延期")
    SUSPENSION_REQUESTED = "suspension_requested", _("申请挂账")
    SUSPENSION_GRANTED = "suspension_granted", _("批准挂账")
    SUSPENSION_REFUSED = "suspension_refused", _("驳回挂账")
    RESUMED = "resumed", _("恢复计时")
    URGED = "urged", _("督办")
    SIGHTING = "sighting", _("补充上报")
    OVERDUE = "overdue", _("超期")


class ReportEvent(models.Model):
    """One line of a case's timeline (流转记录): who did what, when, from which state."""

    report = models.ForeignKey(
        Report, verbose_name=_("案件"), related_name="events", on_delete=models.CASCADE,
        db_index=False,  # reports_event_timeline (report, at) leads with it
    )
    kind = models.CharField(_("操作"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    from_state = models.CharField(_("原状态"), max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16, choices=State.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("流转记录")
        verbose_name_plural = _("流转记录")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["report", "at"], name="reports_event_timeline")]

    def __str__(self) -> str:
        at = timezone.localtime(self.at) if self.at else None
        when = f"{at:%Y-%m-%d %H:%M}" if at else ""
        return f"{self.get_kind_display()} {when}".strip()


class PhotoKind(models.TextChoices):
    REPORT = "report", _("上报照片")
    BEFORE = "before", _("处置前")
    AFTER = "after", _("处置后")
    RESULT = "result", _("处置结果")
    VERIFY = "verify", _("核查照片")


class ReportPhoto(models.Model):
    """A photo of a case, re-encoded as JPEG on upload; the thumbnail is made by a task."""

    report = models.ForeignKey(
        Report, verbose_name=_("案件"), related_name="photos", on_delete=models.CASCADE
    )
    event = models.ForeignKey(
        ReportEvent,
        verbose_name=_("流转记录"),
        null=True,
        blank=True,
        related_name="photos",
        on_delete=models.SET_NULL,
    )
    kind = models.CharField(_("类型"), max_length=8, choices=PhotoKind.choices)
    image = models.ImageField(_("照片"), upload_to="reports/%Y/%m/")
    thumbnail = models.ImageField(_("缩略图"), upload_to="reports/thumbs/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(_("宽度"), default=0)
    height = models.PositiveIntegerField(_("高度"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("案件照片")
        verbose_name_plural = _("案件照片")
        indexes = [
            # sweep_thumbnails: photos still without a thumbnail, by age. Partial, so it
            # holds only the few photos waiting for their task, however many there are.
            models.Index(
                fields=["created_at"],
                name="reports_photo_no_thumb",
                condition=models.Q(thumbnail=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.get_kind_display()}"


class RequestKind(models.TextChoices):
    EXTENSION = "extension", _("延期")
    SUSPENSION = "suspension", _("挂账")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    GRANTED = "granted", _("已批准")
    REFUSED = "refused", _("已驳回")


class TimeRequest(models.Model):
    """A department's request for an extension (延期) or suspension (挂账)."""

    report = models.ForeignKey(
        Report, verbose_name=_("案件"), related_name="time_requests", on_delete=models.CASCADE
    )
    kind = models.CharField(_("类型"), max_length=12, choices=RequestKind.choices)
    status = models.CharField(
        _("状态"), max_length=8, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    reason = models.TextField(_("理由"))
    suspend_until = models.DateTimeField(_("挂账至"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    decision_note = models.TextField(_("审批意见"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("延期/挂账申请")
        verbose_name_plural = _("延期/挂账申请")
        constraints = [
            # one open request per case at a time.
            models.UniqueConstraint(
                fields=["report"], condition=Q(status="pending"), name="reports_one_pending_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.get_kind_display()} {self.get_status_display()}"


class CaseSequence(models.Model):
    """The last case number used per district and day; bumped with an atomic upsert."""

    prefix = models.CharField(_("前缀"), max_length=24, primary_key=True)
    last = models.PositiveIntegerField(_("最后序号"), default=0)

    class Meta:
        verbose_name = _("案件编号序列")
        verbose_name_plural = _("案件编号序列")

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last}"


class Notification(models.Model):
    """An in-app notice to one user about a hand-off ("dispatched to you", "overdue" …).

    ``region``/``department`` name the center or department concerned; ``recipient`` is
    empty only when nobody held the role when it was sent."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="notifications",
        on_delete=models.CASCADE,
    )
    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("区划"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.CASCADE,
    )
    department = models.ForeignKey(
        "grids.Department",
        verbose_name=_("处置部门"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.CASCADE,
    )
    report = models.ForeignKey(
        Report, verbose_name=_("案件"), related_name="notifications", on_delete=models.CASCADE
    )
    kind = models.CharField(_("类型"), max_length=24)
    message = models.CharField(_("内容"), max_length=200)
    created_at = models.DateTimeField(_("通知时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [
            models.Index(fields=["region", "read_at"], name="reports_notice_region"),
            # notifications_for(user) / unread_count(user): a user's unread notices.
            models.Index(fields=["recipient", "read_at"], name="reports_notice_recipient"),
        ]

    def __str__(self) -> str:
        return self.message
