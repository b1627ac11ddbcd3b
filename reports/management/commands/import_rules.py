"""Import routing rules: ``manage.py import_rules FILE.csv|FILE.xlsx``.

All or nothing, errors listed by row; upserts by id or by (category, region,
department, level, mode, valid_from), so running it twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from reports.catalog import RuleImportError, file_format, import_rules


class Command(BaseCommand):
    help = "导入分拨规则（CSV 或 XLSX，全部校验通过才写入，可重复执行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["xlsx", "csv"], help="默认按扩展名判断")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        fmt = options["format"] or file_format(path.name)
        if fmt is None:
            raise CommandError(_("无法从扩展名判断格式，请用 --format xlsx|csv"))
        try:
            result = import_rules(path.read_bytes(), fmt=fmt)
        except OSError as e:
            raise CommandError(str(e)) from e
        except RuleImportError as e:
            raise CommandError(_("未导入任何规则：\n") + "\n".join(e.errors)) from e
        self.stdout.write(_("分拨规则导入完成：") + result.summary())
        for warning in result.warnings:
            self.stderr.write(warning)
