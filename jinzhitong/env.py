"""Typed helpers that read settings from the environment and fail loudly on bad values.

Modelled on healthchecks' ``envbool``/``envint``: a typo in production configuration must
stop the process at start-up, not surface as odd behaviour later.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (Docker/K8s secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read().strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {e}") from e
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from e


def envfloat(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as e:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from e


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_rate(name: str, raw: str) -> tuple[int, int]:
    """"20/60s" → (20, 60): at most 20 in any fixed window of 60 seconds; "100/h" and
    "5/m" work too. A bad value fails loudly."""
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        count_text, period = raw.strip().split("/")
        period = period.strip()
        unit = units[period[-1]]
        seconds = int(period[:-1] or 1) * unit
        count = int(count_text)
    except (ValueError, KeyError, IndexError) as e:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate such as 20/60s") from e
    if count < 1 or seconds < 1:
        raise ImproperlyConfigured(f"{name}={raw!r}: count and period must be positive")
    return count, seconds


def envrate(name: str, default: str) -> tuple[int, int]:
    return parse_rate(name, os.environ.get(name) or default)
