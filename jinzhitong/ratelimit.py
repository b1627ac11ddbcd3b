"""A fixed-window rate limit in the cache (Redis in production, shared by every process).

``hit`` counts one attempt and answers how many seconds to wait when the window is full.
A cache that cannot be reached lets the attempt through: filing never depends on Redis
(docs/architecture.md), and the per-photo limits still bound what one request costs.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def hit(key: str, rate: tuple[int, int], *, now: float | None = None) -> int | None:
    """Count one attempt under ``key``; None if within ``rate`` (count, seconds), else the
    seconds until the window ends."""
    count, seconds = rate
    now = time.time() if now is None else now
    window = int(now // seconds)
    name = f"ratelimit:{key}:{seconds}:{window}"
    try:
        if cache.add(name, 1, timeout=seconds + 1):
            n = 1
        else:
            try:
                n = cache.incr(name)
            except ValueError:  # expired between add and incr: a new window
                cache.set(name, 1, timeout=seconds + 1)
                n = 1
    except Exception:  # the cache is down: never refuse because of it
        logger.warning("rate limit %s not checked: cache unavailable", key, exc_info=True)
        return None
    if n <= count:
        return None
    return max(1, int((window + 1) * seconds - now))
