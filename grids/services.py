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


def building_grid_error(grid: Region) -> str | None:
    """Why ``grid`` cannot hold buildings, or None (forms show it next to the field)."""
    if grid.level != Level.GRID:
        return _("楼栋只能属于网格")
    return None


def building_save(*, building: Building) -> Building:
    """Save a new or edited building (admin, importer): it must sit in a grid, and the
    spatial index, which also answers "nearest building", is told to reload."""
    problem = building_grid_error(building.grid)
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        building.save()
        bump_geo_stamp()
    return building


def building_delete(*, building: Building) -> None:
    """Remove a building (and its entrances); the spatial index reloads."""
    with transaction.atomic():
        building.delete()
        bump_geo_stamp()


def building_upsert(
    *, grid: Region, code: str, number: str, name: str, lng: float, lat: float
) -> Building:
    """Create or update the building with this code inside ``grid``."""
    building = Building.objects.filter(code=code).first() or Building(code=code)
    building.grid, building.number, building.name = grid, number, name
    building.lng, building.lat = lng, lat
    return building_save(building=building)


def entrance_save(*, entrance: Entrance) -> Entrance:
    """Save a new or edited entrance (单元) of a building."""
    entrance.save()
    return entrance


def entrance_delete(*, entrance: Entrance) -> None:
    entrance.delete()


def entrance_upsert(
    *,
    building: Building,
    number: str,
    name: str,
    lng: float | None = None,
    lat: float | None = None,
) -> Entrance:
    entrance = Entrance.objects.filter(building=building, number=number).first() or Entrance(
        building=building, number=number
    )
    entrance.name, entrance.lng, entrance.lat = name, lng, lat
    return entrance_save(entrance=entrance)


def department_region_error(region: Region) -> str | None:
    """Why a department cannot be attached to ``region``, or None."""
    if region.level not in (Level.CITY, Level.DISTRICT, Level.STREET):
        return _("处置部门只能设在市、区或街道")
    return None


def department_save(*, department: Department) -> Department:
    """Save a new or edited department (处置部门) of a street, district or city."""
    problem = department_region_error(department.region)
    if problem:
        raise ValidationError(problem)
    department.save()
    return department


def department_upsert(*, code: str, name: str, region: Region) -> Department:
    """Create or update a department (处置部门) attached to a street, district or city."""
    department = Department.objects.filter(code=code).first() or Department(code=code)
    department.name, department.region = name, region
    return department_save(department=department)


def assignment_target_error(
    *, role: str, region: Region | None, department: Department | None
) -> str | None:
    """Why this role cannot be given at this region or department, or None."""
    if role == Role.HANDLER:
        if department is None or region is not None:
            return _("处置部门岗位必须指定部门，且不指定区划")
        return None
    if region is None or department is not None:
        return _("该岗位必须指定区划，且不指定部门")
    expected = ROLE_REGION_LEVEL.get(role)
    if expected is not None and region.level != expected:
        return _("%(role)s 只能分配到%(level)s一级") % {
            "role": Role(role).label,
            "level": Level(expected).label,
        }
    return None


def assignment_save(*, assignment: Assignment) -> Assignment:
    """Save a new or edited assignment (the admin's form); role and target must agree."""
    problem = assignment_target_error(
        role=assignment.role, region=assignment.region, department=assignment.department
    )
    if problem:
        raise ValidationError(problem)
    assignment.save()
    return assignment


def assignment_revoke(*, assignment: Assignment) -> None:
    """Take a role away from a user."""
    assignment.delete()


def assignment_grant(
    *, user: User, role: str, region: Region | None = None, department: Department | None = None
) -> Assignment:
    """Give a user a role at a region (or, for handlers, a department). Idempotent."""
    problem = assignment_target_error(role=role, region=region, department=department)
    if problem:
        raise ValidationError(problem)
    existing = Assignment.objects.filter(
        user=user, role=role, region=region, department=department
    ).first()
    if existing is not None:
        return existing
    return assignment_save(
        assignment=Assignment(user=user, role=role, region=region, department=department)
    )
