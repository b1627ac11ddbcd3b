"""Reads that depend on who is asking. Every page, API and admin list goes through these.

A user's scope is the union of the subtrees of the regions they are assigned to; a
handler's scope is the subtree of their department's region. Superusers and ``admin``
assignments without limits see everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import User
from grids.models import Assignment, Building, Department, Region, Role


@dataclass(frozen=True)
class Scope:
    """What one user is assigned to, loaded once per request."""

    is_global: bool
    roles: frozenset[str]
    # (role, region) pairs; a handler's region is their department's region.
    region_roles: tuple[tuple[str, Region], ...] = ()
    departments: tuple[Department, ...] = field(default=())

    @property
    def regions(self) -> list[Region]:
        seen: dict[int, Region] = {}
        for _role, region in self.region_roles:
            seen.setdefault(region.pk, region)
        return list(seen.values())

    def regions_for(self, *roles: str) -> list[Region]:
        return [region for role, region in self.region_roles if role in roles]


_CACHE_ATTR = "_jinzhitong_scope"


def scope_for(user: Any) -> Scope:
    """The user's scope; one query, cached on the user object for the request."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        scope = Scope(is_global=False, roles=frozenset())
    else:
        rows = list(
            Assignment.objects.filter(user=user).select_related("region", "department__region")
        )
        region_roles: list[tuple[str, Region]] = []
        departments: list[Department] = []
        for a in rows:
            if a.department is not None:
                departments.append(a.department)
                region_roles.append((a.role, a.department.region))
            elif a.region is not None:
                region_roles.append((a.role, a.region))
        scope = Scope(
            is_global=bool(user.is_superuser),
            roles=frozenset(a.role for a in rows) | ({Role.ADMIN} if user.is_superuser else set()),
            region_roles=tuple(region_roles),
            departments=tuple(departments),
        )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def is_city_admin(user: Any) -> bool:
    """Superusers and administrators assigned at a city (a root of the tree): the only
    people who may change city-wide tables (care levels and rules, stage limits,
    categories). Staff given admin rights over a district or street may not."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True  # no query: the admin asks this of every model on every page
    scope = scope_for(user)
    if scope.is_global:
        return True
    return any(
        role == Role.ADMIN and region.parent_id is None for role, region in scope.region_roles
    )


def subtree_q(regions: list[Region], prefix: str = "") -> Q:
    """A Q matching every region in the subtrees of ``regions`` (one indexed range each)."""
    if not regions:
        return Q(pk__in=[])
    return reduce(
        or_,
        (
            Q(
                **{
                    f"{prefix}tree_id": r.tree_id,
                    # lft BETWEEN bounds the index range scan; rght <= alone would not.
                    f"{prefix}lft__gte": r.lft,
                    f"{prefix}lft__lte": r.rght,
                    f"{prefix}rght__lte": r.rght,
                }
            )
            for r in regions
        ),
    )


def region_contains(ancestor: Region, node: Region) -> bool:
    """Whether ``node`` is ``ancestor`` or lies under it (no query: nested-set columns)."""
    return (
        ancestor.tree_id == node.tree_id and ancestor.lft <= node.lft and node.rght <= ancestor.rght
    )


def regions_visible_to(user: Any) -> QuerySet[Region]:
    scope = scope_for(user)
    if scope.is_global:
        return Region.objects.all()
    return Region.objects.filter(subtree_q(scope.regions))


def departments_visible_to(user: Any) -> QuerySet[Department]:
    scope = scope_for(user)
    if scope.is_global:
        return Department.objects.all()
    own = Q(pk__in=[d.pk for d in scope.departments])
    # Center staff and leaders see the departments attached inside their region.
    in_region = subtree_q(
        scope.regions_for(Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.LEADER, Role.ADMIN),
        prefix="region__",
    )
    return Department.objects.filter(own | in_region)


def buildings_visible_to(user: Any) -> QuerySet[Building]:
    scope = scope_for(user)
    if scope.is_global:
        return Building.objects.all()
    return Building.objects.filter(subtree_q(scope.regions, prefix="grid__"))


def assignments_visible_to(user: Any) -> QuerySet[Assignment]:
    """Assignments at a region or department the user can see."""
    if scope_for(user).is_global:
        return Assignment.objects.all()
    return Assignment.objects.filter(
        Q(region__in=regions_visible_to(user)) | Q(department__in=departments_visible_to(user))
    )


def users_visible_to(user: Any) -> QuerySet[User]:
    """Everyone for a superuser; otherwise oneself and the users assigned inside one's scope
    (never a superuser)."""
    if scope_for(user).is_global:
        return User.objects.all()
    in_scope = assignments_visible_to(user).values("user_id")
    return User.objects.filter(Q(pk=user.pk) | (Q(pk__in=in_scope) & Q(is_superuser=False)))


def users_manageable_by(user: Any) -> QuerySet[User]:
    """The users ``user`` may change (profile, password, roles): superusers may change
    anyone; others only visible non-superusers whose EVERY assignment lies inside their
    scope. A user who also holds a role elsewhere belongs to someone else's scope too, and
    changing them (a password above all) would let one lend oneself that role."""
    if scope_for(user).is_global:
        return User.objects.all()
    outside = Assignment.objects.exclude(pk__in=assignments_visible_to(user).values("pk"))
    return users_visible_to(user).exclude(pk__in=outside.values("user_id"))


def can_manage_user(user: Any, target: Any) -> bool:
    """Whether ``user`` may change ``target`` (see ``users_manageable_by``)."""
    if scope_for(user).is_global:
        return True
    if target is None or target.pk is None or target.is_superuser:
        return False
    if not users_manageable_by(user).filter(pk=target.pk).exists():
        return False
    # A colleague with admin-site permissions one lacks would lend one those permissions
    # through their password; only someone holding all of them may change such a user.
    if target.pk != user.pk and target.is_staff:
        return set(target.get_all_permissions()) <= set(user.get_all_permissions())
    return True


def region_path(region: Region) -> list[Region]:
    """Ancestors from the city down to and including ``region`` (one query)."""
    return list(region.get_ancestors(include_self=True))
