"""django-axes under a Chinese name in the admin (its own AppConfig has no verbose_name, so
the admin showed "AXES"). Installed in place of "axes"; the app label stays "axes"."""

from axes.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AppConfig):
    verbose_name = _("登录保护")
