"""The city hierarchy, buildings, departments and who is assigned where.

Invariants (see grids/README.md):
- A region's ``level`` equals its depth in the tree, and a child is exactly one level
  below its parent: enforced by a check constraint and a database trigger.
- Hierarchy writes go through ``grids.tree`` only, serialised by a lock.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey


class Level(models.IntegerChoices):
    CITY = 0, _("市")
    DISTRICT = 1, _("区")
    STREET = 2, _("街道")
    COMMUNITY = 3, _("社区")
    GRID = 4, _("网格")

    @property
    def slug(self) -> str:
        return LEVEL_SLUGS[self.value]


# The names used in import/export files and URLs.
LEVEL_SLUGS: dict[int, str] = {0: "city", 1: "district", 2: "street", 3: "community", 4: "grid"}
LEVEL_BY_SLUG: dict[str, int] = {slug: value for value, slug in LEVEL_SLUGS.items()}


class Region(MPTTModel):
    """A node of the administrative tree: 市 → 区 → 街道 → 社区 → 网格 (grid).

    ``code`` is the official code (行政区划代码 for the upper levels; grid codes extend the
    community code). ``boundary`` is a GeoJSON Polygon/MultiPolygon in WGS-84.
    """

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = TreeForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )
    boundary = models.JSONField(_("边界"), null=True, blank=True)
    centroid_lng = models.FloatField(_("中心经度"), null=True, blank=True)
    centroid_lat = models.FloatField(_("中心纬度"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class MPTTMeta:
        # mptt's own depth column; ``level`` is ours and must equal it.
        level_attr = "depth"
        order_insertion_by = ["code"]

    class Meta:
        verbose_name = _("区划")
        verbose_name_plural = _("区划")
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=0) & Q(level__lte=4), name="grids_region_level_range"
            ),
            # Together with the trigger in migration 0002 (child.level == parent.level + 1)
            # this makes the 市→区→街道→社区→网格 shape a database fact.
            models.CheckConstraint(
                condition=Q(level=F("depth")), name="grids_region_level_is_depth"
            ),
        ]
        indexes = [
            # "all grids under this street": tree_id + lft range, filtered by level.
            models.Index(fields=["tree_id", "level", "lft"], name="grids_region_subtree_lvl"),
            # admin search and the level filter.
            models.Index(fields=["level", "name"], name="grids_region_level_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def level_slug(self) -> str:
        return LEVEL_SLUGS[self.level]


class Building(models.Model):
    """A building (楼栋) inside a grid."""

    grid = models.ForeignKey(
        Region,
        verbose_name=_("网格"),
        related_name="buildings",
        on_delete=models.PROTECT,
        limit_choices_to={"level": Level.GRID},
    )
    code = models.CharField(_("编码"), max_length=48, unique=True)
    number = models.CharField(_("楼号"), max_length=16)
    name = models.CharField(_("名称"), max_length=64)
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        constraints = [
            models.UniqueConstraint(fields=["grid", "number"], name="grids_building_number_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Entrance(models.Model):
    """An entrance (单元/楼门) of a building; households live behind an entrance."""

    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), related_name="entrances", on_delete=models.CASCADE
    )
    number = models.CharField(_("单元号"), max_length=16)
    name = models.CharField(_("名称"), max_length=64)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)

    class Meta:
        verbose_name = _("单元")
        verbose_name_plural = _("单元")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "number"], name="grids_entrance_number_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.building.name}{self.name}"


class Department(models.Model):
    """A department (处置部门) that handles cases, attached to a street, district or city."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    region = models.ForeignKey(
        Region,
        verbose_name=_("所属区划"),
        related_name="departments",
        on_delete=models.PROTECT,
        limit_choices_to={"level__in": [Level.CITY, Level.DISTRICT, Level.STREET]},
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("处置部门")
        verbose_name_plural = _("处置部门")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员")
    GRID_HEAD = "grid_head", _("网格长")
    STREET_STAFF = "street_staff", _("街道网格中心")
    DISTRICT_STAFF = "district_staff", _("区网格中心")
    HANDLER = "handler", _("处置部门")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("管理员")


# The level of region each role is assigned to; None means any level.
ROLE_REGION_LEVEL: dict[str, int | None] = {
    Role.GRID_WORKER: Level.GRID,
    Role.GRID_HEAD: Level.COMMUNITY,
    Role.STREET_STAFF: Level.STREET,
    Role.DISTRICT_STAFF: Level.DISTRICT,
    Role.LEADER: None,
    Role.ADMIN: None,
}


class Assignment(models.Model):
    """A user's role at a region (or, for handlers, at a department)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        related_name="assignments",
        on_delete=models.CASCADE,
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("区划"),
        null=True,
        blank=True,
        related_name="assignments",
        on_delete=models.PROTECT,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        related_name="assignments",
        on_delete=models.PROTECT,
    )

    class Meta:
        verbose_name = _("岗位分配")
        verbose_name_plural = _("岗位分配")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role="handler", department__isnull=False, region__isnull=True)
                    | (~Q(role="handler") & Q(department__isnull=True, region__isnull=False))
                ),
                name="grids_assignment_target",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(region__isnull=False),
                name="grids_assignment_region_uniq",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=Q(department__isnull=False),
                name="grids_assignment_department_uniq",
            ),
        ]

    def __str__(self) -> str:
        where = self.department if self.department_id else self.region
        return f"{self.user} · {self.get_role_display()} · {where}"


class GeoStamp(models.Model):
    """A counter bumped in the same transaction as any boundary or building change.

    Every process compares it with the version its in-memory spatial index was built
    from, so an edit in the admin reaches every web worker at its next lookup.
    """

    key = models.CharField(max_length=32, primary_key=True)
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("空间索引版本")
        verbose_name_plural = _("空间索引版本")

    def __str__(self) -> str:
        return f"{self.key}@{self.version}"
