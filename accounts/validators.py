"""Password rules (AUTH_PASSWORD_VALIDATORS) with messages in the project's own words.

Django's Chinese catalogue lacks the minimum-length message, so without this the one
rule users meet most would be shown in English.
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return _("密码太短，至少包含 %(min_length)d 个字符。") % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return _("密码至少包含 %(min_length)d 个字符。") % {"min_length": self.min_length}
