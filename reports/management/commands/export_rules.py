"""Export the routing rules: ``manage.py export_rules [-o FILE] [--format csv|xlsx]``.

Writes the import format (with each rule's id); without ``-o`` the CSV goes to
standard output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.catalog import export_rules
from reports.management.commands.export_catalog import output_format, write_export


class Command(BaseCommand):
    help = "导出分拨规则（与导入格式相同，含规则 id）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", type=Path, help="输出文件；省略时 CSV 输出到标准输出")
        parser.add_argument("--format", choices=["csv", "xlsx"], help="默认按扩展名判断")

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path | None = options["output"]
        fmt = output_format(options["format"], output)
        write_export(self, export_rules(fmt=fmt), output)
