"""Reads of residents' data that depend on who is asking.

Only the grid's workers and their superiors in the hierarchy (community, street, district
staff, leaders, administrators) see residents; department handlers never do, whatever
region their department sits in. Out of scope is 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from grids.models import Building, Level, Region, Role
from grids.selectors import scope_for, subtree_q
from residents.models import CareLevel, Change, Household, Person, Tag, Visit, Wish

RESIDENT_ROLES = (
    Role.GRID_WORKER, Role.GRID_HEAD, Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.LEADER,
    Role.ADMIN,
)


def resident_regions(user: Any) -> list[Region] | None:
    """The regions under which ``user`` sees residents; None means everywhere."""
    scope = scope_for(user)
    if scope.is_global:
        return None
    return scope.regions_for(*RESIDENT_ROLES)


def sees_residents(user: Any) -> bool:
    regions = resident_regions(user)
    return regions is None or bool(regions)


def _grid_q(user: Any, prefix: str) -> Q:
    regions = resident_regions(user)
    if regions is None:
        return Q()
    return subtree_q(regions, prefix=prefix)


def households_visible_to(user: Any) -> QuerySet[Household]:
    return Household.objects.filter(_grid_q(user, "grid__"))


def people_visible_to(user: Any) -> QuerySet[Person]:
    return Person.objects.filter(_grid_q(user, "household__grid__"), erased_at__isnull=True)


def get_household_for_user(user: Any, pk: Any) -> Household:
    try:
        return households_visible_to(user).select_related(
            "entrance__building", "grid", "care_level", "override_level", "derived_level"
        ).get(pk=int(pk))
    except (Household.DoesNotExist, ValueError, TypeError) as e:
        raise Http404 from e


def get_person_for_user(user: Any, pk: Any) -> Person:
    try:
        return people_visible_to(user).select_related(
            "household__entrance__building", "household__grid"
        ).get(pk=int(pk))
    except (Person.DoesNotExist, ValueError, TypeError) as e:
        raise Http404 from e


def get_visit_for_user(user: Any, pk: Any) -> Visit:
    try:
        return Visit.objects.select_related(
            "household__entrance__building", "household__grid"
        ).get(pk=int(pk), household__in=households_visible_to(user))
    except (Visit.DoesNotExist, ValueError, TypeError) as e:
        raise Http404 from e


def get_wish_for_user(user: Any, pk: Any) -> Wish:
    try:
        return Wish.objects.get(pk=int(pk), household__in=households_visible_to(user))
    except (Wish.DoesNotExist, ValueError, TypeError) as e:
        raise Http404 from e


def communities_visible_to(user: Any) -> QuerySet[Region]:
    """Communities where the user sees at least one grid's residents."""
    regions = resident_regions(user)
    qs = Region.objects.filter(level=Level.COMMUNITY)
    if regions is None:
        return qs.order_by("code")
    parents = [r.parent_id for r in regions if r.level == Level.GRID]
    return qs.filter(subtree_q(regions) | Q(pk__in=parents)).order_by("code")


def get_community_for_user(user: Any, pk: Any) -> Region:
    try:
        return communities_visible_to(user).get(pk=int(pk))
    except (Region.DoesNotExist, ValueError, TypeError) as e:
        raise Http404 from e


def export_regions(user: Any) -> list[Region] | None:
    """The regions whose registers ``user`` may export in full; None means everywhere.

    Per assignment, not per user: a grid head of one community who is also a worker of a
    grid elsewhere exports only the community where they are grid head."""
    scope = scope_for(user)
    if scope.is_global:
        return None
    allowed = set(settings.RESIDENTS_EXPORT_ROLES) & set(RESIDENT_ROLES)
    return scope.regions_for(*allowed)


def may_export(user: Any) -> bool:
    regions = export_regions(user)
    return regions is None or bool(regions)


def people_exportable_by(user: Any) -> QuerySet[Person]:
    regions = export_regions(user)
    q = Q() if regions is None else subtree_q(regions, prefix="household__grid__")
    return Person.objects.filter(q, erased_at__isnull=True)


def communities_exportable_by(user: Any) -> QuerySet[Region]:
    """Communities with at least one grid whose register ``user`` may export."""
    regions = export_regions(user)
    qs = Region.objects.filter(level=Level.COMMUNITY)
    if regions is None:
        return qs.order_by("code")
    parents = [r.parent_id for r in regions if r.level == Level.GRID]
    return qs.filter(subtree_q(regions) | Q(pk__in=parents)).order_by("code")


def care_levels() -> list[CareLevel]:
    return list(CareLevel.objects.order_by("rank"))


def household_changes(household: Household, limit: int = 30) -> list[Change]:
    """The household's latest changes with their actor and person (one query)."""
    return list(household.changes.select_related("actor", "person")[:limit])


def tag_names() -> dict[str, str]:
    return dict(Tag.objects.values_list("code", "name"))


# -- situation map (七彩民情图) -------------------------------------------------------------


@dataclass
class EntranceBlock:
    entrance_id: int
    name: str
    # floors from the top down, each a list of (door, household id, level rank, party)
    floors: list[tuple[int, list[tuple[str, int, int | None, bool]]]] = field(
        default_factory=list
    )


@dataclass
class BuildingBlock:
    id: int
    name: str
    lng: float
    lat: float
    entrances: list[EntranceBlock]
    households: int = 0
    darkest: int | None = None
    party: int = 0


def situation_map(user: Any, community: Region) -> list[BuildingBlock]:
    """Every visible building of ``community`` as entrances × floors × doors.

    Three queries whatever the size: buildings, entrances, households (values only).
    """
    buildings = list(
        Building.objects.filter(
            Q(grid__parent=community) & _grid_q(user, "grid__")
        ).order_by("grid__code", "code").prefetch_related("entrances")
    )
    entrance_ids = [e.pk for b in buildings for e in b.entrances.all()]
    rows = (
        Household.objects.filter(entrance_id__in=entrance_ids)
        .order_by("entrance_id", "-floor", "door")
        .values_list("entrance_id", "floor", "door", "pk", "care_level__rank", "has_party_member")
    )
    by_entrance: dict[int, dict[int, list[tuple[str, int, int | None, bool]]]] = {}
    for entrance_id, floor, door, pk, rank, party in rows:
        by_entrance.setdefault(entrance_id, {}).setdefault(floor, []).append(
            (door, pk, rank, party)
        )
    blocks = []
    for b in buildings:
        block = BuildingBlock(b.pk, b.name, b.lng, b.lat, [])
        for e in sorted(b.entrances.all(), key=lambda e: (len(e.number), e.number)):
            floors = by_entrance.get(e.pk, {})
            block.entrances.append(EntranceBlock(e.pk, e.name, list(floors.items())))
            for doors in floors.values():
                for _door, _pk, level_rank, party in doors:
                    block.households += 1
                    block.party += int(party)
                    if level_rank is not None and (
                        block.darkest is None or level_rank < block.darkest
                    ):
                        block.darkest = level_rank
        blocks.append(block)
    return blocks


# -- visits ---------------------------------------------------------------------------------


def week_end(today: date) -> date:
    """The Sunday that ends ``today``'s week (weeks run Monday to Sunday)."""
    return today + timedelta(days=6 - today.weekday())


def due_visits(user: Any, today: date, *, limit: int = 100) -> QuerySet[Household]:
    """Households due or overdue by the end of this week, the latest first.

    One indexed range per grid on (grid, next_visit_due), cut at ``limit``; members come
    in one prefetch query.
    """
    return (
        households_visible_to(user)
        .filter(next_visit_due__lte=week_end(today))
        .select_related("entrance__building", "care_level")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Person.objects.filter(erased_at__isnull=True).order_by("pk"),
            )
        )
        .order_by("next_visit_due", "pk")[:limit]
    )


def visits_of(household: Household, limit: int = 20) -> list[Visit]:
    return list(household.visits.select_related("worker", "report")[:limit])
