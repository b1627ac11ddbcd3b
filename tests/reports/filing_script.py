"""Run by tests/reports/test_filing_processes.py in its own processes (not a test module).

    python filing_script.py seed        (migrate the empty file, then seed it)
    python filing_script.py file PREFIX COUNT

Configured like a checkout without Redis: DATABASE_URL=sqlite:///<file>, no REDIS_URL,
so routing runs in-process after each filing.
"""

from __future__ import annotations

import os
import sys

# This file is a script: Django must be set up before the project's modules are imported.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")
sys.path.insert(0, os.environ["JZT_ROOT"])

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from accounts.models import User  # noqa: E402
from grids import tree  # noqa: E402
from grids.models import Assignment, Department, Region, Role  # noqa: E402
from reports import services  # noqa: E402
from reports.models import Category, RoutingRule  # noqa: E402


def seed() -> None:
    # `manage.py migrate` in this same process: one interpreter start instead of two.
    call_command("migrate", interactive=False, verbosity=0)
    city = tree.region_create(code="T120000", name="天津市", parent=None, boundary=None)
    district = tree.region_create(code="T120104", name="南开区", parent=city, boundary=None)
    street = tree.region_create(code="T120104001", name="万兴街道", parent=district, boundary=None)
    community = tree.region_create(
        code="T120104001001", name="社区", parent=street, boundary=None
    )
    grid = tree.region_create(
        code="T120104001001006", name="第六网格", parent=community, boundary=None
    )
    department = Department.objects.create(name="万兴街道执法队", region=street)
    major = Category.objects.create(code="01", name="市容环境", kind="event")
    minor = Category.objects.create(code="0101", name="暴露垃圾", kind="event", parent=major)
    RoutingRule.objects.create(
        category=minor, region=street, department=department, level="street", mode="auto"
    )
    for n in range(4):
        user = User.objects.create_user(f"worker{n}", password="x")
        Assignment.objects.create(user=user, role=Role.GRID_WORKER, region=grid)


def file(prefix: str, count: int) -> None:
    reporter = User.objects.get(username=f"worker{prefix}")
    grid = Region.objects.get(code="T120104001001006")
    category = Category.objects.get(code="0101")
    for i in range(count):
        services.report_file(
            reporter=reporter,
            category=category,
            description=f"垃圾 {prefix}-{i}",
            idempotency_key=f"{prefix}-{i}",
            grid=grid,
        )


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed()
    else:
        file(sys.argv[2], int(sys.argv[3]))
