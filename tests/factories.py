"""factory_boy factories. Regions are created through grids.tree, as production code does."""

from __future__ import annotations

from typing import Any

import factory

from accounts.models import User
from grids import tree
from grids.models import Assignment, Building, Department, Entrance, Region, Role


def square(lng: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    """A square GeoJSON polygon with its south-west corner at (lng, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [
            [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
        ],
    }


_seq = iter(range(1, 10**9))


def make_region(
    parent: Region | None, name: str | None = None, code: str | None = None,
    boundary: dict[str, Any] | None = None,
) -> Region:
    n = next(_seq)
    if code is None:
        code = f"{parent.code}{n:03d}" if parent else f"9{n:05d}"
    return tree.region_create(
        code=code, name=name or f"区划{n}", parent=parent, boundary=boundary
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password("pw-123456")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:05d}")
    name = factory.Sequence(lambda n: f"部门{n}")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    code = factory.Sequence(lambda n: f"B{n:06d}")
    number = factory.Sequence(lambda n: str(n))
    name = factory.LazyAttribute(lambda o: f"{o.number}号楼")
    lng = 0.0
    lat = 0.0


class EntranceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entrance

    number = factory.Sequence(lambda n: str(n))
    name = factory.LazyAttribute(lambda o: f"{o.number}单元")


def assign(user: User, role: str, *, region: Region | None = None,
           department: Department | None = None) -> Assignment:
    return Assignment.objects.create(user=user, role=role, region=region, department=department)


__all__ = ["Role", "UserFactory", "assign", "make_region", "square"]
