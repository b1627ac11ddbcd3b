"""Which department may take the cases of a place at a dispatch level — one rule for
dispatch, routing and the rule checks (a leaf: models only, no queries when the
regions are loaded).

A street-level case goes to a department attached to a street, a district-level case to
one attached to a district or the city; and the department must be responsible for the
place: attached to it or to one of its ancestors.
"""

from __future__ import annotations

from typing import Final

from django.utils.translation import gettext as _

from grids.models import Department, Level, Region
from reports.models import DispatchLevel, Report

# The levels of department a case (or rule) of each dispatch level may go to.
DEPARTMENT_LEVELS: Final[dict[str, frozenset[int]]] = {
    DispatchLevel.STREET.value: frozenset({Level.STREET}),
    DispatchLevel.DISTRICT.value: frozenset({Level.DISTRICT, Level.CITY}),
}


def department_fit_errors(
    *,
    level: str,
    department_name: str,
    department_region: Region,
    region: Region,
) -> list[str]:
    """Why this department cannot take the cases of ``region`` at ``level`` (empty when
    it can)."""
    problems: list[str] = []
    allowed = DEPARTMENT_LEVELS.get(level)
    if allowed is not None and department_region.level not in allowed:
        if level == DispatchLevel.STREET:
            problems.append(
                _("派遣层级为街道（street），但部门“%(dept)s”属于%(where)s，不是街道级部门")
                % {"dept": department_name, "where": department_region.name}
            )
        else:
            problems.append(
                _("派遣层级为区级（district），但部门“%(dept)s”属于%(where)s，"
                  "须为区级或市级部门") % {"dept": department_name, "where": department_region.name}
            )
    responsible = (
        department_region.tree_id == region.tree_id
        and department_region.lft <= region.lft
        and department_region.rght >= region.rght
    )
    if not responsible:
        problems.append(
            _("部门“%(dept)s”（属于%(where)s）不管辖区划“%(region)s”")
            % {"dept": department_name, "where": department_region.name, "region": region.name}
        )
    return problems


def department_fits(place: Report | Region, department: Department, level: str) -> bool:
    """True when ``department`` may take the cases of ``place`` (a case: its grid; or a
    rule's region) at dispatch ``level``."""
    region = place.grid if isinstance(place, Report) else place
    return not department_fit_errors(
        level=level,
        department_name=department.name,
        department_region=department.region,
        region=region,
    )
