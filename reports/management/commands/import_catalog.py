"""Import the case catalogue: ``manage.py import_catalog FILE.xlsx|FILE.csv``.

All or nothing: every row is checked first; on any error the errors are listed by row
and nothing is written. Upserts by code, so running it twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from reports.catalog import CatalogImportError, file_format, import_catalog


class Command(BaseCommand):
    help = "导入案件类别与立案条件（XLSX 或 CSV，全部校验通过才写入，可重复执行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["xlsx", "csv"], help="默认按扩展名判断")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        fmt = options["format"] or file_format(path.name)
        if fmt is None:
            raise CommandError(_("无法从扩展名判断格式，请用 --format xlsx|csv"))
        try:
            result = import_catalog(path.read_bytes(), fmt=fmt)
        except OSError as e:
            raise CommandError(str(e)) from e
        except CatalogImportError as e:
            raise CommandError(_("未导入任何数据：\n") + "\n".join(e.errors)) from e
        self.stdout.write(_("类别与立案条件导入完成：") + result.summary())
