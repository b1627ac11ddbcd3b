"""Load the demo city from seeds/ (idempotent: running it twice changes nothing).

Regions (seeds/regions.geojson), buildings and entrances (seeds/buildings.json),
departments and one user per role (seeds/demo.json); then, by command name, the calendar,
the catalogue and rules, the residents and the case history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from grids import services
from grids.importer import RegionImportError, import_regions
from grids.models import Department, Region

SEEDS = Path(settings.BASE_DIR) / "seeds"


def _read(name: str) -> Any:
    with open(SEEDS / name, encoding="utf-8") as f:
        return json.load(f)


class Command(BaseCommand):
    help = "加载演示数据（可重复执行）/ Load the demo data from seeds/ (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet-logins", action="store_true", help="do not print logins")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = import_regions(_read("regions.geojson"))
        except RegionImportError as e:
            raise CommandError("\n".join(e.errors)) from e
        demo = _read("demo.json")
        with transaction.atomic():
            buildings = self._buildings(_read("buildings.json"))
            departments = self._departments(demo["departments"])
            users = self._users(demo["users"], demo["password"])
        # The work calendar (chinese-calendar years) and the case catalogue and rules.
        call_command("seed_calendar", stdout=self.stdout)
        call_command("load_demo_reports", stdout=self.stdout)
        call_command("load_demo_residents", stdout=self.stdout)
        # A few hundred cases over the last 90 days, so no page starts empty (casegen/demo.py).
        call_command("load_demo_cases", stdout=self.stdout)
        self.stdout.write(
            _(
                "区划：新建 %(created)s，更新 %(updated)s，未变 %(unchanged)s；"
                "楼栋 %(buildings)s；部门 %(departments)s；用户 %(users)s"
            )
            % {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "buildings": buildings,
                "departments": departments,
                "users": len(users),
            }
        )
        if not options["quiet_logins"]:
            self.stdout.write(
                "\n" + _("演示账号（密码均为 %(password)s，仅用于演示数据）：")
                % {"password": demo["password"]}
            )
            for spec in demo["users"]:
                where = spec.get("region") or spec.get("department") or "—"
                self.stdout.write(
                    f"  {spec['username']:<10} {spec['role']:<15} {where}  {spec['full_name']}"
                )

    def _buildings(self, data: dict[str, Any]) -> int:
        grids = {
            r.code: r
            for r in Region.objects.filter(code__in={b["grid_code"] for b in data["buildings"]})
        }
        for spec in data["buildings"]:
            lng, lat = spec["location"]
            building = services.building_upsert(
                grid=grids[spec["grid_code"]],
                code=spec["code"],
                number=spec["number"],
                name=spec["name"],
                lng=lng,
                lat=lat,
            )
            for e in spec.get("entrances", []):
                elng, elat = e.get("location") or (None, None)
                services.entrance_upsert(
                    building=building, number=e["number"], name=e["name"], lng=elng, lat=elat
                )
        return len(data["buildings"])

    def _departments(self, specs: list[dict[str, Any]]) -> int:
        for spec in specs:
            services.department_upsert(
                code=spec["code"], name=spec["name"], region=Region.objects.get(code=spec["region"])
            )
        return len(specs)

    def _users(self, specs: list[dict[str, Any]], password: str) -> list[User]:
        users = []
        for spec in specs:
            user, created = User.objects.get_or_create(
                username=spec["username"], defaults={"full_name": spec["full_name"]}
            )
            if created:
                user.set_password(password)
            user.full_name = spec["full_name"]
            if spec.get("superuser"):
                user.is_superuser = user.is_staff = True
            user.save()
            if spec["role"] == "handler":
                services.assignment_grant(
                    user=user,
                    role=spec["role"],
                    department=Department.objects.get(code=spec["department"]),
                )
            elif spec.get("region"):
                services.assignment_grant(
                    user=user, role=spec["role"], region=Region.objects.get(code=spec["region"])
                )
            users.append(user)
        return users
