"""Run by tests/prod/stack.py in the production stack's environment (not a test module).

    python tests/prod/seed_stack.py

Migrates the stack's own database and loads the demo city the way `manage.py load_demo`
does — regions, buildings, departments, users, the work calendar, the case catalogue and
routing rules — without the residents' registers (not part of the story, and the slowest
part). Adds one handler for 万兴街道城建科, which the demo has none of.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")
sys.path.insert(0, os.environ["JZT_ROOT"])

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from grids import services  # noqa: E402
from grids.importer import import_regions  # noqa: E402
from grids.management.commands import load_demo  # noqa: E402
from grids.models import Department  # noqa: E402

HANDLER = "chengjian"


def main() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    import_regions(load_demo._read("regions.geojson"))
    demo = load_demo._read("demo.json")
    command = load_demo.Command()
    with transaction.atomic():
        command._buildings(load_demo._read("buildings.json"))
        command._departments(demo["departments"])
        command._users(demo["users"], demo["password"])
        handler = User.objects.create(username=HANDLER, full_name="赵工（万兴街道城建科）")
        handler.set_password(demo["password"])
        handler.save()
        services.assignment_grant(
            user=handler, role="handler", department=Department.objects.get(code="120104005-CJB")
        )
    call_command("seed_calendar", verbosity=0, stdout=open(os.devnull, "w"))
    call_command("load_demo_reports", verbosity=0, stdout=open(os.devnull, "w"))


if __name__ == "__main__":
    main()
