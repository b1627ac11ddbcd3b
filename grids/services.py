"""Writes to buildings, entrances, departments and assignments.

Region (tree) writes live in grids/tree.py. Building writes bump the geo stamp because
the spatial index also answers "nearest building".
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from grids.models import (
    ROLE_REGION_LEVEL,
    Assignment,
    Building,
    Department,
    Entrance,
    Level,
    Region,
    Role,
)
from grids.tree import bump_geo_stamp


def building_upsert(
    *, grid: Region, code: str, number: str, name: str, lng: float, lat: float
) -> Building:
    """Create or update the building with this code inside ``grid``."""
    if grid.level != Level.GRID:
        raise ValidationError(_("楼栋只能属于网格"))
    with transaction.atomic():
        building, _created = Building.objects.update_or_create(
            code=code,
            defaults={"grid": grid, "number": number, "name": name, "lng": lng, "lat": lat},
        )
        bump_geo_stamp()
    return building


def entrance_upsert(
    *,
    building: Building,
    number: str,
    name: str,
    lng: float | None = None,
    lat: float | None = None,
) -> Entrance:
    entrance, _created = Entrance.objects.update_or_create(
        building=building, number=number, defaults={"name": name, "lng": lng, "lat": lat}
    )
    return entrance


def department_upsert(*, code: str, name: str, region: Region) -> Department:
    """Create or update a department (处置部门) attached to a street, district or city."""
    if region.level not in (Level.CITY, Level.DISTRICT, Level.STREET):
        raise ValidationError(_("处置部门只能设在市、区或街道"))
    department, _created = Department.objects.update_or_create(
        code=code, defaults={"name": name, "region": region}
    )
    return department


def assignment_grant(
    *, user: User, role: str, region: Region | None = None, department: Department | None = None
) -> Assignment:
    """Give a user a role at a region (or, for handlers, a department). Idempotent."""
    if role == Role.HANDLER:
        if department is None or region is not None:
            raise ValidationError(_("处置部门岗位必须指定部门，且不指定区划"))
        assignment, _created = Assignment.objects.get_or_create(
            user=user, role=role, department=department
        )
        return assignment
    if region is None or department is not None:
        raise ValidationError(_("该岗位必须指定区划，且不指定部门"))
    expected = ROLE_REGION_LEVEL.get(role)
    if expected is not None and region.level != expected:
        raise ValidationError(
            _("%(role)s 只能分配到%(level)s一级")
            % {"role": Role(role).label, "level": Level(expected).label}
        )
    assignment, _created = Assignment.objects.get_or_create(user=user, role=role, region=region)
    return assignment
