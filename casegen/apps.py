from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasegenConfig(AppConfig):
    """Registered only for its management command (``generate_cases``); it has no models."""

    name = "casegen"
    verbose_name = _("案件数据生成")
