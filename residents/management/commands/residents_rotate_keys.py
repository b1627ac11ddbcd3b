"""Re-encrypt every stored identity and phone number under the newest key.

Procedure (docs/personal-data.md): put the new key first in RESIDENTS_KEYS, keep the old
ones after it, deploy, run this command, then remove the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from residents import services


class Command(BaseCommand):
    help = "用最新密钥重新加密居民个人信息 / Re-encrypt residents' personal data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--rehash", action="store_true",
            help="also recompute the keyed hashes (after changing RESIDENTS_HMAC_KEY)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = services.keys_rotate(rehash=options["rehash"])
        self.stdout.write(_("已重新加密 %(n)s 条居民记录") % {"n": n})
