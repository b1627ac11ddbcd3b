"""Households in 第六网格 (the worker's grid) and 第五网格 (the neighbour's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from grids.models import Entrance
from residents import crypto, services
from residents.identity import check_digit
from residents.models import Household, Person, Relation
from tests.conftest import City
from tests.factories import BuildingFactory, EntranceFactory


def id_number(seq: int, born: str = "19450312", region: str = "120104") -> str:
    """A valid identity number (odd sequence digit: male)."""
    first = f"{region}{born}{seq % 1000:03d}"
    return first + check_digit(first)


@dataclass
class Place:
    entrance: Entrance
    neighbour_entrance: Entrance


@pytest.fixture(autouse=True)
def _keys() -> None:
    crypto.reset_keys()


@pytest.fixture
def place(city: City) -> Place:
    b = BuildingFactory(grid=city.grid, number="1", name="1号楼", lng=117.175, lat=39.105)
    nb = BuildingFactory(grid=city.neighbour_grid, number="2", name="2号楼", lng=117.185,
                         lat=39.105)
    return Place(
        EntranceFactory(building=b, number="1", name="1单元"),
        EntranceFactory(building=nb, number="1", name="1单元"),
    )


def make_household(entrance: Entrance, door: str = "101", floor: int = 1,
                   today: date | None = None) -> Household:
    return services.household_create(actor=None, entrance=entrance, floor=floor, door=door,
                                     today=today)


def make_person(household: Household, seq: int = 1, **kw: object) -> Person:
    kw.setdefault("name", "王秀兰")
    kw.setdefault("id_number", id_number(seq))
    kw.setdefault("phone", "13812345678")
    kw.setdefault("relation", Relation.HEAD)
    return services.person_add(actor=None, household=household, **kw)  # type: ignore[arg-type]
