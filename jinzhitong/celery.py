"""Celery application. With no REDIS_URL, tasks run in-process (eager)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")

app = Celery("jinzhitong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def use_broker(url: str, *, eager: bool = False) -> None:
    """Point this process's publisher at another broker (tests and benchmarks that run a
    worker against a redis-server of their own)."""
    app.conf.update(broker_url=url, task_always_eager=eager)
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
