"""Fill the database with a realistic case history for benchmarks (see casegen/generator.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casegen.generator import GenerationRefused, TreeShape, generate_cases


class Command(BaseCommand):
    help = _(
        "生成基准测试用的案件历史（含天津规模的区划、部门、规则、用户）。"
        "库中已有真实数据时拒绝执行，除非加 --force。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help=_("案件数"))
        parser.add_argument("--days", type=int, default=365, help=_("分布在最近多少天"))
        parser.add_argument(
            "--before-days", type=int, default=0,
            help=_("案件创建时间截止于多少天前（其流转仍延续到今天），用于在已有数据之前补充历史"),
        )
        parser.add_argument("--seed", type=int, default=1, help=_("随机种子（同种子同数据）"))
        parser.add_argument("--force", action="store_true", help=_("库中已有真实数据也写入"))
        parser.add_argument(
            "--in-street", action="append", default=[], metavar="CODE",
            help=_("只在该街道（区划代码）的网格中生成案件；可重复"),
        )
        # The tree's shape when none is loaded: children per node at each level.
        parser.add_argument("--districts", type=int, default=16)
        parser.add_argument("--streets", type=int, default=19, help=_("每区街道数"))
        parser.add_argument("--communities", type=int, default=18, help=_("每街道社区数"))
        parser.add_argument("--grids", type=int, default=4, help=_("每社区网格数"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["count"] < 1 or options["days"] < 1:
            raise CommandError(_("--count 与 --days 须为正整数"))
        if options["before_days"] < 0:
            raise CommandError(_("--before-days 不能为负数"))
        shape = TreeShape(
            districts=options["districts"],
            streets=options["streets"],
            communities=options["communities"],
            grids=options["grids"],
        )
        if min(shape.districts, shape.streets, shape.communities, shape.grids) < 1:
            raise CommandError(_("区划数量须为正整数"))
        try:
            result = generate_cases(
                count=options["count"],
                days=options["days"],
                seed=options["seed"],
                force=options["force"],
                shape=shape,
                before_days=options["before_days"],
                streets=options["in_street"],
            )
        except GenerationRefused as e:
            raise CommandError(str(e)) from e
        self.stdout.write(
            _(
                "已生成案件 %(cases)s 件、流转记录 %(events)s 条、"
                "新建区划 %(regions)s 个，用时 %(s).1f 秒"
            )
            % {
                "cases": result.cases,
                "events": result.events,
                "regions": result.regions_created,
                "s": result.seconds + result.world_seconds,
            }
        )
        self.stdout.write(f"cases_per_s: {result.per_second:.0f} cases/s")
