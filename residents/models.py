"""Households, people, care tags and levels, visits, micro-wishes and the access log.

Invariants (see residents/README.md):
- A person belongs to at most one household at a time (a nullable FK; erased people have none).
- Identity and phone numbers are stored only encrypted (``*_cipher``), with a keyed hash
  (``*_hmac``) for exact search and uniqueness and a masked copy for lists. Never plain.
- ``Household.grid`` is the grid of its entrance's building, copied so that scoped reads
  are one indexed range on the region tree.
- ``Household.care_level`` is the effective level: the manual override while it has not
  expired, else the level derived from the members' tags. Services keep it current.
- The access log is append-only: no page or admin action changes or deletes a row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import Entrance, Level, Region


class CareLevel(models.Model):
    """A colour of the 七彩民情图: rank 1 is the darkest and asks for the most attention."""

    rank = models.PositiveSmallIntegerField(_("等级"), unique=True)
    name = models.CharField(_("名称"), max_length=32)
    color = models.CharField(_("颜色"), max_length=7, help_text=_("如 #7f0000"))
    meaning = models.CharField(_("含义"), max_length=128, blank=True)
    # The visit plan of the level: visit every N days (7 = weekly).
    visit_every_days = models.PositiveSmallIntegerField(_("走访周期（天）"))

    class Meta:
        verbose_name = _("关注等级")
        verbose_name_plural = _("关注等级（七彩民情图）")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visit_every_days__gte=1), name="residents_carelevel_every_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rank} · {self.name}"


class Tag(models.Model):
    """A group that needs attention (空巢老人, 残疾人 …). ``derived`` tags are never typed."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    graded = models.BooleanField(_("分级（1–4 级）"), default=False)
    derived = models.BooleanField(
        _("自动计算"), default=False, help_text=_("如高龄：由出生日期计算，不能手工添加")
    )
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("人员标签")
        verbose_name_plural = _("人员标签")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class CareRule(models.Model):
    """A person with ``tag`` (and, for graded tags, grade ≤ ``max_grade``) puts the
    household at ``level`` or darker. The most demanding matching rule wins."""

    tag = models.ForeignKey(Tag, verbose_name=_("标签"), on_delete=models.CASCADE)
    max_grade = models.PositiveSmallIntegerField(
        _("最低等级"), null=True, blank=True, help_text=_("仅分级标签：等级数字不大于此值时适用")
    )
    level = models.ForeignKey(CareLevel, verbose_name=_("关注等级"), on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("关注规则")
        verbose_name_plural = _("关注规则")
        ordering = ["level__rank", "tag__sort"]

    def __str__(self) -> str:
        grade = f" ≤{self.max_grade}" if self.max_grade else ""
        return f"{self.tag}{grade} → {self.level}"


class Household(models.Model):
    """A household (户) behind an entrance, at a floor and door."""

    entrance = models.ForeignKey(
        Entrance, verbose_name=_("单元"), related_name="households", on_delete=models.PROTECT
    )
    grid = models.ForeignKey(
        Region,
        verbose_name=_("网格"),
        related_name="households",
        on_delete=models.PROTECT,
        limit_choices_to={"level": Level.GRID},
    )
    floor = models.SmallIntegerField(_("楼层"))
    door = models.CharField(_("门牌号"), max_length=16)
    notes = models.TextField(_("备注"), blank=True)
    derived_level = models.ForeignKey(
        CareLevel, verbose_name=_("按标签"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )
    override_level = models.ForeignKey(
        CareLevel, verbose_name=_("人工调整"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )
    override_reason = models.CharField(_("调整原因"), max_length=200, blank=True)
    override_until = models.DateField(_("调整有效期至"), null=True, blank=True)
    care_level = models.ForeignKey(
        CareLevel, verbose_name=_("关注等级"), null=True, blank=True, related_name="households",
        on_delete=models.PROTECT,
    )
    has_party_member = models.BooleanField(_("党员户"), default=False)
    last_visit_on = models.DateField(_("最近走访"), null=True, blank=True)
    next_visit_due = models.DateField(_("下次走访"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        constraints = [
            models.UniqueConstraint(
                fields=["entrance", "door"], name="residents_household_door_uniq"
            )
        ]
        indexes = [
            # The due-visit list: a worker's grids, ordered by how late.
            models.Index(fields=["grid", "next_visit_due"], name="residents_hh_grid_due"),
            # The situation map: every household of a community's entrances.
            models.Index(fields=["entrance", "floor"], name="residents_hh_entrance_floor"),
            # The override sweep: overrides whose expiry has passed.
            models.Index(
                fields=["override_until"], name="residents_hh_override_until",
                condition=Q(override_until__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entrance_id}-{self.door}"


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class Presence(models.TextChoices):
    HERE = "here", _("在住")
    AWAY = "away", _("外出")


class Person(models.Model):
    """A member of a household. Personal numbers only encrypted; see the module docstring."""

    household = models.ForeignKey(
        Household, verbose_name=_("户"), null=True, blank=True, related_name="members",
        on_delete=models.PROTECT,
    )
    name = models.CharField(_("姓名"), max_length=32)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_cipher = models.TextField(_("身份证号（密文）"), blank=True)
    # NULL, not "", when there is no number: a unique column must allow many "no number"s.
    id_hmac = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    id_masked = models.CharField(_("身份证号"), max_length=18, blank=True)
    phone_cipher = models.TextField(_("联系电话（密文）"), blank=True)
    # Search by phone: an exact lookup on the keyed hash.
    phone_hmac = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, db_index=True, editable=False
    )
    phone_masked = models.CharField(_("联系电话"), max_length=16, blank=True)
    relation = models.CharField(
        _("与户主关系"), max_length=12, choices=Relation.choices, default=Relation.OTHER
    )
    presence = models.CharField(
        _("居住状态"), max_length=8, choices=Presence.choices, default=Presence.HERE
    )
    moved_in_on = models.DateField(_("迁入日期"), null=True, blank=True)
    moved_out_on = models.DateField(_("迁出日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    erased_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        constraints = [
            models.CheckConstraint(
                condition=Q(erased_at__isnull=True) | Q(household__isnull=True, id_cipher=""),
                name="residents_person_erased_is_empty",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PersonTag(models.Model):
    person = models.ForeignKey(Person, related_name="tags", on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, verbose_name=_("标签"), on_delete=models.PROTECT)
    grade = models.PositiveSmallIntegerField(_("等级"), null=True, blank=True)
    tagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    tagged_at = models.DateTimeField(_("标记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("人员标签")
        verbose_name_plural = _("人员标签")
        constraints = [
            models.UniqueConstraint(fields=["person", "tag"], name="residents_persontag_uniq"),
            models.CheckConstraint(
                condition=Q(grade__isnull=True) | Q(grade__gte=1, grade__lte=4),
                name="residents_persontag_grade_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tag_id}:{self.grade or ''}"


class ChangeKind(models.TextChoices):
    CREATED = "created", _("建档")
    MOVED = "moved", _("迁移")
    MEMBER_ADDED = "member_added", _("新增成员")
    MEMBER_MOVED = "member_moved", _("成员迁移")
    MEMBER_CHANGED = "member_changed", _("成员信息变更")
    TAGS = "tags", _("标签变更")
    CARE_LEVEL = "care_level", _("关注等级变更")
    ERASED = "erased", _("删除个人信息")
    IMPORTED = "imported", _("台账导入")


class Change(models.Model):
    """History: who changed what on a household or person, when, before and after."""

    household = models.ForeignKey(
        Household, null=True, blank=True, related_name="changes", on_delete=models.CASCADE
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, related_name="changes", on_delete=models.CASCADE
    )
    kind = models.CharField(_("类型"), max_length=16, choices=ChangeKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    before = models.JSONField(_("变更前"), default=dict, blank=True)
    after = models.JSONField(_("变更后"), default=dict, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind}@{self.at:%Y-%m-%d}"


class VisitKind(models.TextChoices):
    HOME = "home", _("入户")
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信")
    OTHER = "other", _("其他")


class Visit(models.Model):
    """A home visit (走访) record. ``report`` links a need found to a case (both ways:
    ``report.resident_visits``)."""

    household = models.ForeignKey(Household, related_name="visits", on_delete=models.CASCADE)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("走访人"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    visited_on = models.DateField(_("走访日期"))
    kind = models.CharField(_("方式"), max_length=8, choices=VisitKind.choices)
    situation = models.TextField(_("情况"), blank=True)
    needs = models.TextField(_("发现的需求"), blank=True)
    photo = models.ImageField(_("照片"), upload_to="residents/visits/%Y/%m/", blank=True)
    next_suggested_on = models.DateField(_("建议下次走访"), null=True, blank=True)
    report = models.ForeignKey(
        "reports.Report", verbose_name=_("转为案件"), null=True, blank=True,
        related_name="resident_visits", on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.household_id}@{self.visited_on}"


class WishStatus(models.TextChoices):
    OPEN = "open", _("待认领")
    CLAIMED = "claimed", _("已认领")
    FULFILLED = "fulfilled", _("已实现")


class Wish(models.Model):
    """A micro-wish (微心愿) found on a visit, taken by a volunteer or the community."""

    household = models.ForeignKey(Household, related_name="wishes", on_delete=models.CASCADE)
    visit = models.ForeignKey(
        Visit, null=True, blank=True, related_name="wishes", on_delete=models.SET_NULL
    )
    title = models.CharField(_("心愿"), max_length=100)
    status = models.CharField(
        _("状态"), max_length=10, choices=WishStatus.choices, default=WishStatus.OPEN
    )
    claimed_by = models.CharField(_("认领人"), max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("微心愿")
        verbose_name_plural = _("微心愿")

    def __str__(self) -> str:
        return self.title


class AccessKind(models.TextChoices):
    VIEW = "view", _("查看完整信息")
    EXPORT = "export", _("导出台账")


class AccessLog(models.Model):
    """Every opening of a full record and every export: append-only."""

    kind = models.CharField(_("类型"), max_length=8, choices=AccessKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    person = models.ForeignKey(
        Person, verbose_name=_("居民"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    rows = models.PositiveIntegerField(_("条数"), default=1)
    purpose = models.CharField(_("目的"), max_length=200)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("个人信息访问记录")
        verbose_name_plural = _("个人信息访问记录")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["person", "at"], name="residents_access_person")]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_id} {self.at:%Y-%m-%d %H:%M}"


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("待确认")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class RegisterImport(models.Model):
    """An uploaded register (台账): checked at upload, written on confirmation.

    The file is kept encrypted (it holds identity numbers) and dropped once written."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    community = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    payload = models.BinaryField(editable=False)
    status = models.CharField(max_length=10, choices=ImportStatus.choices,
                              default=ImportStatus.PREVIEWED)
    total = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("台账导入")
        verbose_name_plural = _("台账导入")

    def __str__(self) -> str:
        return self.filename
