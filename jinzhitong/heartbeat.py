"""Heartbeats for /healthz: when the Celery worker last ran a task, when a sweep last ran.

Kept in the cache (Redis when configured, so every process sees the worker's; in-process
without Redis, where the sweeps run in the web process itself). A heartbeat lost with the
cache only shows as "unknown" until the next beat — nothing depends on it but /healthz.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

WORKER = "worker"
SWEEP = "sweep"
_PREFIX = "jzt:heartbeat:"


def mark(name: str, *, now: float | None = None) -> None:
    """Record that ``name`` is alive now; never raises (a cache outage must not fail a task)."""
    try:
        cache.set(_PREFIX + name, time.time() if now is None else now, timeout=None)
    except Exception:
        logger.warning("heartbeat %s not recorded", name, exc_info=True)


def last(name: str) -> float | None:
    """Unix time of the last ``mark(name)``, or None if unknown (or the cache is down)."""
    try:
        value = cache.get(_PREFIX + name)
    except Exception:
        return None
    return float(value) if value is not None else None
