"""The embedded scheduler: the beat schedule run inside the web process when there is no broker.

With ``REDIS_URL`` set, Celery beat sends ``CELERY_BEAT_SCHEDULE``'s tasks to the workers.
Without it (the embedded default of ``make run``: SQLite, tasks in-process) nothing would
run them, so the routing sweep, the overdue sweep and the statistics catch-up would never
happen. ``start_embedded()`` (called from ``jinzhitong/wsgi.py``, so only by a process that
serves requests — ``runserver``'s serving child, gunicorn — never by tests or management
commands) starts one daemon thread that runs each entry at its interval, in this process.

Every scheduled task is idempotent and safe to run twice (STYLE.md §8), so two processes
each running a scheduler (gunicorn with several workers and no Redis) do the same work twice,
never wrong work. A city runs Redis and a real beat (docs/operations.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

# How long the thread sleeps at most between two looks at the schedule.
MAX_NAP = 1.0


@dataclass
class Entry:
    name: str
    task: str
    every: float  # seconds
    due: float  # on the scheduler's clock


def interval_of(schedule: Any) -> float | None:
    """Seconds between two runs: a number, a ``timedelta`` or a Celery ``schedule``
    (``run_every``); None for what has no fixed interval (crontab), which is left out."""
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    run_every = getattr(schedule, "run_every", None)
    if isinstance(run_every, timedelta):
        return run_every.total_seconds()
    return None


def run_task(name: str) -> Any:
    """Run a registered Celery task by name, here and now."""
    from jinzhitong.celery import app

    if name not in app.tasks:
        # Tasks are found by autodiscovery, which a worker triggers and a web process not.
        app.loader.import_default_modules()
    return app.tasks[name]()


class Scheduler:
    """Runs each entry of a beat schedule when due; ``tick`` is the whole logic (tests call
    it with their own clock), the thread only calls ``tick`` and naps."""

    def __init__(
        self,
        schedule: Mapping[str, Mapping[str, Any]],
        *,
        clock: Callable[[], float] = time.monotonic,
        run: Callable[[str], Any] = run_task,
    ) -> None:
        self.clock = clock
        self.run = run
        now = clock()
        self.entries: list[Entry] = []
        for name, spec in schedule.items():
            every = interval_of(spec.get("schedule"))
            if every is None or every <= 0:
                logger.warning("embedded scheduler: %s has no fixed interval, left out", name)
                continue
            # Everything runs once at start: the statistics and sweeps are current at once.
            self.entries.append(Entry(name=name, task=str(spec["task"]), every=every, due=now))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: float | None = None) -> list[str]:
        """Run every entry that is due; returns their names. A failing task is logged and
        tried again at its next interval, never fatal to the others."""
        now = self.clock() if now is None else now
        ran = []
        for entry in self.entries:
            if now < entry.due:
                continue
            # The next run is counted from now: a slow run or a sleeping laptop does not
            # make the missed runs pile up.
            entry.due = now + entry.every
            try:
                self.run(entry.task)
            except Exception:
                logger.exception("embedded scheduler: %s failed", entry.name)
            ran.append(entry.name)
        return ran

    def seconds_to_next(self, now: float | None = None) -> float:
        now = self.clock() if now is None else now
        if not self.entries:
            return MAX_NAP
        return max(0.0, min(e.due for e in self.entries) - now)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.tick():
                # The thread's own connection, as a request's is after the response.
                close_old_connections()
            self._stop.wait(min(MAX_NAP, self.seconds_to_next()))

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._loop, name="embedded-scheduler", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


_started: Scheduler | None = None
_lock = threading.Lock()


def start_embedded() -> Scheduler | None:
    """Start the scheduler thread once per process, when ``EMBEDDED_SCHEDULER`` is on (the
    default without ``REDIS_URL``); None when off."""
    global _started
    if not getattr(settings, "EMBEDDED_SCHEDULER", False):
        return None
    with _lock:
        if _started is None:
            _started = Scheduler(settings.CELERY_BEAT_SCHEDULE)
            _started.start()
            logger.info(
                "embedded scheduler: %s",
                ", ".join(f"{e.name} every {e.every:g} s" for e in _started.entries),
            )
    return _started
