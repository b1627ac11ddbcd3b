"""Check the routing-rule table: ``manage.py check_rules [--level street|community|grid]``.

Lists every conflict (active rules at the same region, category and priority with
different outcomes) and every region × minor category pair that no rule covers now.
Also lists every active rule whose department dispatch would refuse (the one rule in
``reports.fit``). Exits with status 1 when there are conflicts or such rules (uncovered
pairs alone are only reported: those cases go to the street center by design).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from grids.models import LEVEL_BY_SLUG
from reports.catalog import check_rules


class Command(BaseCommand):
    help = "检查分拨规则：列出规则冲突和没有规则覆盖的区划×小类；有冲突时退出码为 1。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--level", choices=["street", "community", "grid"], default="street",
            help="按哪一级区划检查覆盖（默认街道：网格继承街道及以上的规则）",
        )
        parser.add_argument("--summary", action="store_true", help="未覆盖的只列数量")

    def handle(self, *args: Any, **options: Any) -> None:
        check = check_rules(level=LEVEL_BY_SLUG[options["level"]])
        self.stdout.write(
            _("规则 %(rules)d 条；检查 %(regions)d 个区划 × %(cats)d 个小类")
            % {"rules": check.rule_count, "regions": check.region_count,
               "cats": check.category_count}
        )
        self.stdout.write(_("规则冲突：%(n)d 组") % {"n": len(check.conflicts)})
        for conflict in check.conflicts:
            rules = "；".join(f"#{rid} {text}" for rid, text in conflict.rules)
            self.stdout.write(
                f"  {conflict.region} × {conflict.category}"
                + _("（优先级 %(p)d）：") % {"p": conflict.priority} + rules
            )
        self.stdout.write(_("无规则覆盖：%(n)d 对") % {"n": check.uncovered_count})
        for region in check.uncovered:
            if options["summary"]:
                self.stdout.write(f"  {region.region}：{len(region.categories)}")
            else:
                self.stdout.write(f"  {region.region}：" + "、".join(region.categories))
        self.stdout.write(_("部门不符的规则：%(n)d 条") % {"n": len(check.misfits)})
        for misfit in check.misfits:
            self.stdout.write(f"  #{misfit.rule_id} " + "；".join(misfit.problems))
        if check.conflicts:
            raise CommandError(
                _("有 %(n)d 组规则冲突，请修正规则表") % {"n": len(check.conflicts)}, returncode=1
            )
        if check.misfits:
            raise CommandError(
                _("有 %(n)d 条规则的处置部门不能派遣，请修正规则表") % {"n": len(check.misfits)},
                returncode=1,
            )
