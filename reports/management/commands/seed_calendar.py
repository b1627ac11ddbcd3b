"""Seed the work calendar from chinese-calendar: ``manage.py seed_calendar [--years 2024-2026]``.

Idempotent; days an administrator edited are left alone; years the package does not know
are reported and skipped (they count the statutory holidays from the ``holidays`` package,
without make-up working days, until seeded or filled in the admin).
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.calendar import calendar_seed


def parse_years(value: str) -> list[int]:
    """``2025`` or ``2024-2026`` or ``2024,2026``."""
    years: list[int] = []
    try:
        for part in value.split(","):
            part = part.strip()
            if "-" in part:
                first, last = (int(p) for p in part.split("-", 1))
                if last < first or last - first > 100:
                    raise ValueError(part)
                years.extend(range(first, last + 1))
            else:
                years.append(int(part))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("年份格式应为 2025、2024-2026 或 2024,2026，而不是 %(value)r") % {"value": value}
        ) from exc
    return years


class Command(BaseCommand):
    help = "从 chinese-calendar 导入节假日和调休（可重复运行，不覆盖管理员修改过的日期）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--years",
            type=parse_years,
            default=None,
            help="年份或范围，如 2025 或 2024-2026；默认从去年到明年。",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        years: list[int] | None = options["years"]
        if years is None:
            this_year = timezone.localdate().year
            years = list(range(this_year - 1, this_year + 2))
        if not years:
            raise CommandError(_("没有要导入的年份。"))
        result = calendar_seed(years=years)
        if result.seeded_years:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "已导入 %(years)s 年：新增 %(created)d，更新 %(updated)d，"
                        "删除 %(removed)d，未变 %(unchanged)d，保留管理员修改 %(kept)d。"
                    )
                    % {
                        "years": ", ".join(map(str, result.seeded_years)),
                        "created": result.created,
                        "updated": result.updated,
                        "removed": result.removed,
                        "unchanged": result.unchanged,
                        "kept": result.kept_admin,
                    }
                )
            )
        for year in result.unsupported_years:
            self.stderr.write(
                self.style.WARNING(
                    _(
                        "%(year)s 年：chinese-calendar 尚无数据，"
                        "暂按法定节假日计算工作日（调休未计入）；"
                        "请在后台“节假日与调休”中补录，或升级 chinese-calendar 后重新运行。"
                    )
                    % {"year": year}
                )
            )
