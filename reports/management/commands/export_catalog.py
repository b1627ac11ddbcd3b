"""Export the case catalogue: ``manage.py export_catalog [-o FILE] [--format xlsx|csv]``.

Writes the import format; without ``-o`` the CSV goes to standard output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from reports.catalog import export_catalog, file_format


def write_export(command: BaseCommand, data: bytes, output: Path | None) -> None:
    """To the file, or (CSV only) to standard output without the byte-order mark."""
    if output is None:
        command.stdout.write(data.decode("utf-8-sig"), ending="")
        return
    output.write_bytes(data)
    command.stderr.write(_("已写入 %(path)s") % {"path": output})


def output_format(command_format: str | None, output: Path | None) -> str:
    fmt = command_format or (file_format(output.name) if output else None) or "csv"
    if output is None and fmt == "xlsx":
        raise CommandError(_("XLSX 需要用 -o 指定输出文件"))
    return fmt


class Command(BaseCommand):
    help = "导出案件类别与立案条件（与导入格式相同）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", type=Path, help="输出文件；省略时 CSV 输出到标准输出")
        parser.add_argument("--format", choices=["xlsx", "csv"], help="默认按扩展名判断")

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path | None = options["output"]
        fmt = output_format(options["format"], output)
        write_export(self, export_catalog(fmt=fmt), output)
