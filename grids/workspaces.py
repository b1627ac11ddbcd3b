"""Which workspace each role lands on after signing in."""

from django.urls import reverse

from grids.models import Role
from grids.selectors import Scope

# Order matters: a person with several roles lands on the first one listed here.
WORKSPACE_ORDER: list[str] = [
    Role.GRID_WORKER,
    Role.GRID_HEAD,
    Role.STREET_STAFF,
    Role.DISTRICT_STAFF,
    Role.HANDLER,
    Role.LEADER,
    Role.ADMIN,
]


def workspace_for(scope: Scope) -> str:
    for role in WORKSPACE_ORDER:
        if role in scope.roles:
            if role == Role.ADMIN:
                return reverse("admin:index")
            return reverse("grids:workspace", kwargs={"role": role})
    return reverse("grids:no_role")
