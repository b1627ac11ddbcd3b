"""Celery application. With no REDIS_URL, tasks run in-process (eager)."""

import os
from contextvars import Token
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready

from jinzhitong.requestid import request_id

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


# -- operations: log lines carry the task id; /healthz sees the worker's heartbeat --------

_task_tokens: dict[str, Token[str]] = {}


@task_prerun.connect
def _task_request_id(task_id: str | None = None, **_: Any) -> None:
    """Log lines written while a task runs carry its id where a request's id would be."""
    if task_id:
        _task_tokens[task_id] = request_id.set(task_id)


@task_postrun.connect
def _task_request_id_done(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        try:
            request_id.reset(token)
        except ValueError:
            request_id.set("-")  # set in another context (eager task inside a request)


@worker_ready.connect
def _worker_ready(**_: Any) -> None:
    from jinzhitong.heartbeat import WORKER, mark

    mark(WORKER)


@app.task(name="jinzhitong.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Sent by beat every 30 s; a worker that runs it is alive and taking tasks."""
    from jinzhitong.heartbeat import WORKER, mark

    mark(WORKER)
